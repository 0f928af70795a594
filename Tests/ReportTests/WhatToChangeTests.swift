import Foundation
import Records
import Testing
@testable import Report

/// WHAT TO CHANGE from records written as JSON Lines and read back through the one reader. Per
/// round r the baseline native-2node takes t(r) = 10 us x (1 + r/100) (drift that pairing
/// cancels), every other environment a fixed multiple of it, so each fraction is worked out by
/// hand: pod-overlay is 2x at 4 B (gap +100%), the slots knob 1.04x (96% of it recovered), the
/// cpu-limit 5x (300% added).
@Suite struct WhatToChangeTests {
    struct Side {
        var name: String
        var network: String
        var knobs: Knobs?
        /// The time ratio to the baseline at (kernel, bytes) in round r; nil: no launch that round.
        var ratio: (String, Int, Int) -> Double?
        var throttled: Double = 0
    }

    static let rounds = 1...10

    static func folder(_ sides: [Side]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-what-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for side in sides {
            var lines: [String] = []
            for round in rounds {
                for (kernel, bytes) in [("allreduce", 4), ("allreduce", 65536), ("train", 64)] {
                    guard let ratio = side.ratio(kernel, bytes, round) else { continue }
                    var record = Fixtures.record(side.name, bytes: bytes, trial: round, seconds: 1e-5 * (1 + Double(round) / 100) * ratio,
                                                 kernel: kernel)
                    record.round = round
                    record.position = 1
                    record.environment.network = side.network
                    record.environment.knobs = side.knobs
                    record.counters = Counters(values: [
                        "cgroup.nr_throttled": .init(sum: side.throttled * Double(round), max: side.throttled * Double(round),
                                                     unit: "periods", source: "cpu.stat", count: 1),
                    ])
                    lines.append(try Fixtures.jsonLine(record))
                }
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: "\(folder)/\(side.name).jsonl", atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// 1.02, 1.04 or 1.06 by round (median 1.04 over 9 or 10 rounds).
    static func wobble(_ round: Int) -> Double { 1.04 + 0.02 * Double(round % 3 - 1) }

    static let sides: [Side] = [
        Side(name: "native-2node", network: "host", knobs: nil) { _, _, _ in 1 },
        // 4 B: +100%; 64 KiB: 10% either side by round (not resolved); train: 2x the step.
        Side(name: "pod-overlay", network: "overlay", knobs: nil) { kernel, bytes, round in
            bytes == 65536 ? (round % 2 == 0 ? 1.1 : 0.9) : 2
        },
        // Round 10 missing: the slots figures rest on 9 rounds.
        Side(name: "pod-overlay-slots", network: "overlay", knobs: Knobs(slots: 2)) { kernel, _, round in
            round == 10 ? nil : kernel == "train" ? 1.25 : wobble(round)
        },
        Side(name: "pod-overlay-limit", network: "overlay", knobs: Knobs(cpuLimit: 0.9), ratio: { _, _, _ in 5 }, throttled: 1),
        // 2.2x and 1.8x by round: around the base's 2x, not resolved.
        Side(name: "pod-overlay-unconfined", network: "overlay", knobs: Knobs(seccomp: .unconfined)) { _, _, round in
            round % 2 == 0 ? 2.2 : 1.8
        },
        // Its base, pod-routed, never ran.
        Side(name: "pod-routed-jumbo", network: "routed", knobs: Knobs(mtu: 9000)) { _, _, _ in 1.5 },
    ]

    static func analysis() throws -> Analysis {
        let folder = try folder(sides)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try Inputs.analyse([folder]).analysis
    }

    static func change(_ report: WhatToChange, _ environment: String) throws -> WhatToChange.Change {
        try #require(report.changes.first { $0.environment == environment })
    }

    static func effect(_ change: WhatToChange.Change, _ kernel: String, bytes: Double?) throws -> WhatToChange.Effect {
        try #require(change.effects.first { $0.kernel == kernel && (bytes == nil || $0.point.bytes == bytes) })
    }

    @Test func slotsRecoverNinetySixPercentOfTheLatencyGapWithAnIntervalAroundIt() throws {
        let report = try #require(try WhatToChangeTests.analysis().whatToChange)
        #expect(report.baseline == "native-2node")
        let slots = try WhatToChangeTests.change(report, "pod-overlay-slots")
        #expect(slots.base == "pod-overlay" && slots.setting == "slots: 2")
        let latency = try WhatToChangeTests.effect(slots, "allreduce", bytes: 4)
        #expect(latency.rounds == 9)
        #expect(abs(latency.baseGap - 1) < 1e-12 && abs(latency.knobGap - 0.04) < 1e-12)
        let recovered = try #require(latency.recovered)
        #expect(abs(recovered - 0.96) < 1e-12)
        // Every resample's median lies in 1.02...1.06, so the interval lies in 94%...98%, around 96%.
        let interval = try #require(latency.interval)
        #expect(interval.lowerBound <= recovered && recovered <= interval.upperBound)
        #expect(interval.lowerBound >= 0.94 - 1e-12 && interval.upperBound <= 0.98 + 1e-12 && interval.lowerBound < interval.upperBound)
        #expect(latency.verdict == .recovers)
        // A rate recovers on the rate's scale: the base loses 1 - 1/2 = 50% of the baseline's
        // samples/s, the knob 1 - 1/1.25 = 20%, so 60% of the loss comes back (not the time's 75%).
        let train = try WhatToChangeTests.effect(slots, "train", bytes: nil)
        #expect(train.isRate && abs(train.baseGap - 0.5) < 1e-12 && abs(train.knobGap - 0.2) < 1e-12)
        #expect(try abs(#require(train.recovered) - 0.6) < 1e-12 && train.verdict == .recovers)
    }

    @Test func aCPULimitThatWorsensSaysAddsWithItsThrottledPeriodsBeside() throws {
        let analysis = try WhatToChangeTests.analysis()
        let report = try #require(analysis.whatToChange)
        let limit = try WhatToChangeTests.change(report, "pod-overlay-limit")
        let latency = try WhatToChangeTests.effect(limit, "allreduce", bytes: 4)
        // (100% - 400%) / 100%: the limit adds three times the pod's own gap.
        #expect(try latency.rounds == 10 && abs(#require(latency.recovered) + 3) < 1e-12)
        #expect(latency.verdict == .adds)
        let interval = try #require(latency.interval)
        #expect(abs(interval.lowerBound + 3) < 1e-9 && abs(interval.upperBound + 3) < 1e-9)
        // The rate: 80% of the samples/s lost against the base's 50%.
        let train = try WhatToChangeTests.effect(limit, "train", bytes: nil)
        #expect(try abs(#require(train.recovered) + 0.6) < 1e-12 && train.verdict == .adds)
        // Throttled periods: 0 in the base, r in round r; the median difference is 5.5.
        let throttled = try #require(latency.evidence.first { $0.figure == "throttled periods" })
        #expect(throttled.difference == 5.5)
        let text = analysis.whatToChange!.section()
        #expect(text.hasPrefix("WHAT TO CHANGE ("))
        #expect(text.contains("  cpu-limit: 0.9 (pod-overlay-limit) adds 300% [300, 300] to pod-overlay's allreduce small-message latency (4 B) gap (+100.0% against native-2node, 10 rounds); counters: +5.5 throttled periods"))
        #expect(text.contains("  slots: 2 (pod-overlay-slots) recovers 96% ["))
        #expect(text.contains("  cpu-limit: 0.9 (pod-overlay-limit) adds 60% [60, 60] to pod-overlay's train training step (samples/s) gap (-50.0% against native-2node, 10 rounds)"))
    }

    @Test func unresolvedEffectsAndUnresolvedBaseGapsAndMissingBasesSaySo() throws {
        let report = try #require(try WhatToChangeTests.analysis().whatToChange)
        let unconfined = try WhatToChangeTests.effect(try WhatToChangeTests.change(report, "pod-overlay-unconfined"), "allreduce", bytes: 4)
        #expect(unconfined.verdict == .notResolved)
        let interval = try #require(unconfined.interval)
        #expect(interval.lowerBound < 0 && interval.upperBound > 0)
        // At 64 KiB pod-overlay itself is 10% either side of the baseline: no fraction of it exists.
        for change in report.changes where change.base != nil {
            let bandwidth = try WhatToChangeTests.effect(change, "allreduce", bytes: 65536)
            #expect(bandwidth.verdict == .undefined && bandwidth.recovered == nil && bandwidth.interval == nil)
            #expect(bandwidth.reason?.contains("pod-overlay's gap to native-2node is not resolved") == true)
        }
        // What the knob does all the same: the limit's 5x against the base's 1.1x and 0.9x by round
        // is a bandwidth 1 - sqrt(0.99)/5 = 80.1% lower than pod-overlay's, on every resample.
        let limited = try WhatToChangeTests.effect(try WhatToChangeTests.change(report, "pod-overlay-limit"), "allreduce", bytes: 65536)
        let direct = try #require(limited.againstBase)
        #expect(limited.isRate && abs(direct - (1 - 0.99.squareRoot() / 5)) < 1e-9)
        #expect(try #require(limited.againstBaseInterval).lowerBound > 0)
        #expect(report.lines.contains { $0.hasPrefix("cpu-limit: 0.9 (pod-overlay-limit) undefined for allreduce large-message bandwidth (64K B): ")
            && $0.contains("; against pod-overlay itself: -80.1% [") && $0.contains("], worse") })
        let jumbo = try WhatToChangeTests.change(report, "pod-routed-jumbo")
        #expect(jumbo.base == nil && jumbo.effects.isEmpty)
        #expect(report.lines.contains("mtu: 9000 (pod-routed-jumbo): no base: the records hold no pod environment on the routed network without knobs (add pod-routed to the suite)"))
        #expect(report.lines.contains { $0.hasPrefix("seccomp: unconfined (pod-overlay-unconfined) not resolved: ") })
    }

    @Test func everyFormatCarriesTheSection() throws {
        let analysis = try WhatToChangeTests.analysis()
        #expect(ReportFormat.table.render(analysis).contains("\nWHAT TO CHANGE ("))
        #expect(ReportFormat.markdown.render(analysis).contains("\n## WHAT TO CHANGE\n"))
        #expect(ReportFormat.html.render(analysis).contains("<h2>WHAT TO CHANGE</h2>"))
        let metrics = ReportFormat.openmetrics.render(analysis)
        let sample = try #require(metrics.split(separator: "\n").first {
            $0.hasPrefix("podgap_knob_recovered_ratio{setting=\"slots: 2\"") && $0.contains("metric=\"small-message latency (4 B)\"")
        })
        #expect(abs(try #require(Double(sample.split(separator: " ").last!)) - 0.96) < 1e-9)
        // CSV: one row per knob environment and headline (a base-less one gets one row with its note).
        let rows = CSV.parse(WhatToChangeCSVRenderer().render(analysis))
        #expect(rows.first == WhatToChangeCSVRenderer.header)
        let body = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(WhatToChangeCSVRenderer.header, $0)) }
        #expect(body.count == 3 * 3 + 1)
        let slots = try #require(body.first { $0["environment"] == "pod-overlay-slots" && $0["bytes"] == "4.0" })
        #expect(abs(Double(slots["recovered"]!)! - 0.96) < 1e-12 && slots["parameters"] == "algorithm=mpi,bytes=4,dtype=float32")
        #expect(slots["verdict"] == "recovers" && slots["rounds"] == "9" && slots["base"] == "pod-overlay")
        let limit = try #require(body.first { $0["environment"] == "pod-overlay-limit" && $0["bytes"] == "4.0" })
        #expect(limit["verdict"] == "adds" && limit["evidence"]!.hasPrefix("+5.5 throttled periods ["))
        #expect(body.contains { $0["environment"] == "pod-routed-jumbo" && $0["verdict"] == "undefined" && $0["reason"]!.hasPrefix("no base") })
    }

    @Test func noKnobEnvironmentsLeaveTheFullReportWithoutTheSection() throws {
        let folder = try WhatToChangeTests.folder(Array(WhatToChangeTests.sides.prefix(2)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let analysis = try Inputs.analyse([folder]).analysis
        #expect(analysis.whatToChange?.changes.isEmpty == true)
        #expect(!ReportFormat.table.render(analysis).contains("WHAT TO CHANGE"))
        #expect(analysis.whatToChange!.section().contains("no environment ran with knobs: run benchmarks/suites/knobs.yaml"))
    }
}
