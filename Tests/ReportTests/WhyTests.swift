import Foundation
import Records
import Testing
@testable import Report

/// The WHY section from records with counters made in code: pod-overlay sends the same packets as
/// native-2node, 50 bytes larger each, and its cgroup throttles; native-shm's records carry none.
@Suite(.temporaryFolder) struct WhyTests {
    static let rounds = 1...6

    static func counters(packets: Double, bytesPerPacket: Double, throttled: Double) -> Counters {
        func value(_ sum: Double, _ unit: String, _ source: String) -> Counters.Value {
            Counters.Value(sum: sum, max: sum, unit: unit, source: source, count: 1)
        }
        return Counters(values: [
            "net.eth0.tx_packets": value(packets, "packets", "/proc/net/dev eth0"),
            "net.eth0.tx_bytes": value(packets * bytesPerPacket, "bytes", "/proc/net/dev eth0"),
            "tcp.retrans_segs": value(0, "segments", "/proc/net/snmp Tcp"),
            "cgroup.nr_throttled": value(throttled, "periods", "cpu.stat"),
            "cgroup.throttled_usec": value(throttled * 1000, "microseconds", "cpu.stat"),
            "region.wall_usec": value(1e6, "microseconds", "clock_gettime(CLOCK_MONOTONIC)"),
        ], unavailable: ["hw.cycles": "no PMU: test"])
    }

    /// One folder with the three environments' files, round by round.
    static func folder() throws -> String {
        var files: [String: [String]] = [:]
        for round in rounds {
            for (environment, slower) in [("native-shm", 0.5), ("native-2node", 1.0), ("pod-overlay", 1.5)] {
                for bytes in [4, 65536] {
                    var record = Fixtures.record(environment, bytes: bytes, trial: 1, seconds: 1e-5 * slower * (1 + Double(round) / 100))
                    record.round = round
                    record.position = 1
                    switch environment {
                    case "native-2node": record.counters = counters(packets: 8, bytesPerPacket: 100, throttled: 0)
                    case "pod-overlay": record.counters = counters(packets: 8, bytesPerPacket: 150, throttled: Double(round))
                    default: break
                    }
                    files[environment, default: []].append(try Fixtures.jsonLine(record))
                }
            }
        }
        let first = try Fixtures.temporaryFile("native-shm.jsonl", files["native-shm"]!.joined(separator: "\n") + "\n")
        let folder = (first as NSString).deletingLastPathComponent
        for name in ["native-2node", "pod-overlay"] {
            try (files[name]!.joined(separator: "\n") + "\n").write(toFile: "\(folder)/\(name).jsonl", atomically: true, encoding: .utf8)
        }
        return folder
    }

    @Test func overlayShowsFiftyBytesPerPacketAndThrottlingWhilePacketsAreRuledOut() throws {
        let folder = try WhyTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (analysis, _) = try Inputs.analyse([folder])
        let why = try #require(analysis.why)
        let entry = try #require(why.entries.first { $0.from == "native-2node" && $0.to == "pod-overlay" && $0.point.bytes == 4 })
        #expect(entry.adds != nil)
        let bytes = try #require(entry.moved.first { $0.figure == "wire bytes/packet" })
        #expect(bytes.difference == 50 && bytes.interval == 50...50 && bytes.rounds == 6 && bytes.paired)
        let throttled = try #require(entry.moved.first { $0.figure == "throttled periods" })
        #expect(throttled.from == 0 && throttled.difference == 3.5)
        #expect(entry.moved.contains { $0.figure == "throttled ms/s" })
        #expect(entry.ruledOut.contains { $0.figure == "packets/message" && $0.from == 2 && $0.to == 2 })
        #expect(entry.ruledOut.contains { $0.figure == "retransmits" })
        #expect(entry.unavailable.contains("cycles/iteration"))
        // native-shm wrote no counters: named, never compared.
        #expect(why.lacking == ["native-shm: 6 of 6 launches"])
        #expect(!why.entries.contains { $0.from == "native-shm" || $0.to == "native-shm" })
        #expect(why.unavailable["hw.cycles"] == "no PMU: test")
    }

    /// The nodes' counters over each launch (`counters.launch`, as the suite attaches them):
    /// native-2node's underlay carries the ranks' frames, pod-overlay's the same frames plus 50
    /// bytes of VXLAN each, counted 64 bytes above its flannel.1 (which leaves out the inner
    /// Ethernet header); the ranks' own namespaces see the same frames on both sides. From a
    /// combined launch, the figures come from the kernel's own part (`counters.kernelPart`), not
    /// from the whole launch, whose other kernels sent 40,000 frames of other sizes.
    @Test(arguments: [false, true])
    func nodeUnderlayShowsVXLANsFiftyBytesPerPacketFromTheLaunchCounters(combined: Bool) throws {
        func launch(_ interfaces: [String: (packets: Double, bytesPerPacket: Double)]) -> LaunchCounters {
            var values: [String: Counters.Value] = [:]
            for (name, (packets, size)) in interfaces {
                values["net.\(name).tx_packets"] = .init(sum: packets, max: packets / 2, unit: "packets", source: "/proc/net/dev", count: 2)
                values["net.\(name).tx_bytes"] = .init(sum: packets * size, max: packets * size / 2, unit: "bytes", source: "/proc/net/dev", count: 2)
            }
            return LaunchCounters(values: values)
        }
        var lines: [String] = []
        for round in WhyTests.rounds {
            for (environment, slower) in [("native-2node", 1.0), ("pod-overlay", 1.5)] {
                var record = Fixtures.record(environment, bytes: 4, trial: 1, seconds: 1e-5 * slower * (1 + Double(round) / 100))
                record.round = round
                record.position = 1
                record.counters = WhyTests.counters(packets: 8, bytesPerPacket: 88.4, throttled: 0)
                let packets = 6000 + Double(round)
                let own = environment == "native-2node"
                    ? launch(["eth0": (packets, 88), "lo": (10, 66)])
                    : launch(["eth0": (packets, 138), "flannel.1": (packets, 74), "lo": (10, 66)])
                if combined {
                    // The whole launch: this kernel's frames and 40,000 of the others', 1,000 bytes each
                    // on both sides (the same figure, nothing moved, were it read).
                    let others = 40_000.0, mixed = packets + others
                    record.counters?.launch = launch(["eth0": (mixed, 1000), "flannel.1": (mixed, 936), "lo": (10, 66)])
                    record.counters?.kernelPart = own
                } else {
                    record.counters?.launch = own
                }
                lines.append(try Fixtures.jsonLine(record))
            }
        }
        let path = try Fixtures.temporaryFile("launch.jsonl", lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (analysis, _) = try Inputs.analyse([path])
        let entry = try #require(analysis.why?.entries.first { $0.from == "native-2node" && $0.to == "pod-overlay" })
        let underlay = try #require(entry.moved.first { $0.figure == "node underlay bytes/packet" })
        #expect(abs(underlay.difference - 50) < 1e-9 && underlay.rounds == 6 && underlay.paired)
        #expect(abs(underlay.from - 88) < 1e-9 && abs(underlay.to - 138) < 1e-9)
        // Inside the pods nothing moved: the outer headers exist only at the node.
        #expect(entry.ruledOut.contains { $0.figure == "wire bytes/packet" })
        // Underlay bytes beyond flannel.1's per VXLAN packet, less the inner Ethernet header: 138 - 74 - 14.
        let vxlan = try #require(entry.moved.first { $0.figure == "VXLAN bytes/packet" })
        #expect(vxlan.from == 0 && vxlan.to == 50 && vxlan.difference == 50 && vxlan.interval == 50...50)
        #expect(ReportFormat.table.render(analysis).contains("+50 node underlay bytes/packet [+50, +50], +50 VXLAN bytes/packet [+50, +50]"))
    }

    @Test func everyFormatCarriesTheSection() throws {
        let folder = try WhyTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (analysis, _) = try Inputs.analyse([folder])
        let table = ReportFormat.table.render(analysis)
        #expect(table.contains("\nWHY ("))
        #expect(table.contains("native-2node -> pod-overlay"))
        #expect(table.contains("+50 wire bytes/packet [+50, +50]"))
        #expect(table.contains("runs lacking counters: native-shm: 6 of 6 launches"))
        #expect(ReportFormat.markdown.render(analysis).contains("\n## Why\n"))
        #expect(ReportFormat.html.render(analysis).contains("<figure class=\"why\">"))
        let metrics = ReportFormat.openmetrics.render(analysis)
        #expect(metrics.contains("podgap_why_difference{from=\"native-2node\",to=\"pod-overlay\",kernel=\"allreduce\",bytes=\"4\",ranks=\"2\",figure=\"wire bytes/packet\"} 50"))
        #expect(metrics.hasSuffix("# EOF\n"))
        let csv = WhyCSVRenderer().render(analysis).split(separator: "\n")
        #expect(csv[0].hasPrefix("section,from,to,"))
        #expect(csv.dropFirst().allSatisfy { $0.hasPrefix("why,") })
        #expect(csv.contains { $0.contains("native-2node,pod-overlay") && $0.contains("wire bytes/packet") && $0.hasSuffix(",moved") })
    }

    @Test func olderRecordsReadAsBeforeAndTheSectionNamesThem() throws {
        let lines = try (1...3).flatMap { round -> [String] in
            try ["native-shm", "native-tcp"].map { environment in
                var record = Fixtures.record(environment, bytes: 8, trial: 1, seconds: environment == "native-shm" ? 1e-6 : 4e-6)
                record.round = round
                return try Fixtures.jsonLine(record)
            }
        }
        let path = try Fixtures.temporaryFile("old.jsonl", lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let (analysis, _) = try Inputs.analyse([path])
        #expect(analysis.comparisons.count == 1)
        #expect(analysis.why?.entries.isEmpty == true)
        #expect(analysis.why?.lacking == ["native-shm: 3 of 3 launches", "native-tcp: 3 of 3 launches"])
    }

    @Test func gapBarsUseALogRatioAxis() {
        // +1162% and +5% on one chart: on the log axis the small bar keeps a visible width.
        let bars = GapBars(kind: "gaps", title: "t", bars: [
            .init(label: "a", group: "g", colour: "#000", gap: 11.62, interval: 10...13),
            .init(label: "b", group: "g", colour: "#000", gap: 0.05, interval: 0.01...0.09),
        ]).render()
        let widths = HTML.attributes("width", in: bars).dropFirst().compactMap(Double.init)
        #expect(widths.count == 2)
        // 4.3 px where the linear axis drew it 0.75 px wide.
        #expect(widths[1] > 4, "the +5% bar is \(widths[1]) px wide")
        // Twice and half sit at equal distances from zero.
        #expect(abs(GapBars.logRatio(1) + GapBars.logRatio(-0.5)) < 1e-12)
        let ticks = GapBars.ticks(extent: log(12.62 * 1.25))
        #expect(ticks.contains(0) && ticks.contains(9) && ticks.contains { abs($0 + 0.9) < 1e-12 })
    }
}
