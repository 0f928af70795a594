import Records
import Foundation
import ModelFixtures
import Testing

/// `podgap model` as users run it: calibrate from results files, project, and one line + exit 2 on bad input.
@Suite(.serialized) struct ModelCommandTests {
    /// A 2-rank allreduce sweep from alpha and bandwidth, and one training step without overlap:
    /// 8 samples in 40 ms plus one in-place allreduce of 1 MiB, binomial as Open MPI's libnbc runs
    /// it (reduce then broadcast: 2 x (alpha + m / bandwidth)).
    static func writeRecords(_ name: String, alpha: Double, bandwidth: Double, to path: String) throws {
        let writer = try RecordWriter(appendingTo: path)
        for record in SyntheticRecords.sweep(name, alpha: alpha, bandwidth: bandwidth)
            + [SyntheticRecords.train(name, alpha: alpha, bandwidth: bandwidth, batch: 8, compute: 0.04, gradientBytes: 1 << 20)] {
            try writer.append(record)
        }
    }

    static func model(_ arguments: [String]) throws -> Finished {
        try Shell.run(Shell.podgap, ["model"] + arguments, timeout: 60)
    }

    @Test func calibrateThenProjectAsCSV() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let native = folder.appendingPathComponent("native.jsonl").path, pod = folder.appendingPathComponent("pod.jsonl").path
        let profile = folder.appendingPathComponent("profile.yaml").path
        try Self.writeRecords("native-2node", alpha: 20e-6, bandwidth: 1e9, to: native)
        try Self.writeRecords("pod-overlay", alpha: 40e-6, bandwidth: 0.5e9, to: pod)
        let calibrated = try Self.model(["calibrate", native, pod, "--out", profile])
        #expect(calibrated.status == 0, "\(calibrated.stderr)")
        let yaml = try String(contentsOfFile: profile, encoding: .utf8)
        #expect(yaml.contains("name: pod-overlay"))
        #expect(yaml.contains("bandwidth_gbytes_per_s: 0.5\n"))

        let projected = try Self.model(["project", "--profile", profile, "--gpus", "1,2", "--gpus-per-node", "1", "--format", "csv"])
        #expect(projected.status == 0, "\(projected.stderr)")
        let lines = projected.stdout.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let headings = try #require(lines.first)
        let gpus = try #require(headings.firstIndex(of: "gpus")), gap = try #require(headings.firstIndex(of: "gap_percent"))
        let step = try #require(headings.firstIndex(of: "step_ms"))
        let podAtTwo = try #require(lines.first { $0.count == headings.count && $0[gpus] == "2" && $0.contains("pod-overlay") })
        // Step at 2 GPUs, binomial: 40 ms + 2 x (40 us + 1 MiB / 0.5 GB/s) = 44.274 ms against
        // 40 ms + 2 x (20 us + 1 MiB / 1 GB/s) = 42.137 ms natively.
        let stepMs = try #require(Double(podAtTwo[step])), gapPercent = try #require(Double(podAtTwo[gap]))
        let expectedGap: Double = (44.274304 / 42.137152 - 1) * 100
        #expect(abs(stepMs - 44.274) < 0.01)
        #expect(abs(gapPercent - expectedGap) < 0.01)
    }

    @Test func badInputGivesOneLineAndExitTwo() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = """
            schema: podgap.profile/1
            workload: {model: densenet121, batch_per_gpu: 32, seconds_per_sample: 0.004}
            environments:
              - {name: bare, overlap: 0, inter_node: [{latency_us: 1, bandwidth_gbytes_per_s: 12}]}
            """
        func profile(_ text: String) throws -> String {
            let path = folder.appendingPathComponent("p\(UUID().uuidString).yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let cases: [(arguments: [String], says: String)] = [
            (["project", "--profile", try profile(good.replacingOccurrences(of: ", seconds_per_sample: 0.004", with: ""))],
             "missing field 'seconds_per_sample'"),
            (["project", "--profile", try profile(good.replacingOccurrences(of: "bandwidth_gbytes_per_s: 12", with: "bandwidth_gbytes_per_s: -12"))],
             "bandwidth_gbytes_per_s: -12"),
            (["project", "--profile", try profile(good), "--gpus", "0,8"], "--gpus 0"),
            (["sensitivity", "--profile", try profile(good), "--gpus", "0"], "--gpus 0"),
            // Once a trap on overflow (issue 16): the largest Int is no GPU count.
            (["project", "--profile", try profile(good), "--gpus", "9223372036854775807"], "at most 1048576 GPUs"),
            (["sensitivity", "--profile", try profile(good), "--gpus", "9223372036854775807"], "at most 1048576 GPUs"),
            (["project", "--profile", try profile(good), "--gpus-per-node", "9223372036854775807"], "--gpus-per-node"),
            (["calibrate", folder.appendingPathComponent("absent.jsonl").path, "--out", folder.appendingPathComponent("o.yaml").path],
             "absent.jsonl"),
        ]
        for (arguments, says) in cases {
            let finished = try Self.model(arguments)
            #expect(finished.status == 2, "\(arguments): \(finished.stderr)")
            let lines = finished.stderr.split(separator: "\n")
            let first = lines.first.map(String.init) ?? ""
            #expect(lines.count == 1, "\(arguments): \(finished.stderr)")
            #expect(first.contains(says), "\(arguments): \(finished.stderr)")
        }
        // The good profile itself projects.
        let fine = try Self.model(["project", "--profile", try profile(good), "--gpus", "1,8"])
        #expect(fine.status == 0, "\(fine.stderr)")
    }
}
