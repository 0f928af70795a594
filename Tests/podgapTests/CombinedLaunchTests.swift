import Foundation
import Records
import Testing

/// `launch: combined` end to end with real MPI jobs: the startup probe, allreduce, halo and train
/// in one launch per round, beside the same kernels launched one by one in the same rounds.
@Suite(.serialized) struct CombinedLaunchTests {
    /// Two emulated nodes on one machine share its cores: each rank's OpenBLAS threads are the
    /// cores over the two ranks that share them (`BLASThreads`), not its node's cores over its one
    /// rank (which ran 2 threads per rank on 2 cores, 4 in all).
    @Test func emulatedNodesSizeBLASThreadsByTheRanksThatShareTheCores() throws {
        let (folder, file) = try SuiteCommandTests.suiteFile("threads", """
        name: threads
        ranks: 2
        rounds: 1
        environments: [native-shm, native-2node]
        kernels:
          - train: {layers: "16,48,32,8", steps: 4, warmup: 1, bucket-mb: 0.004}
        """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try SuiteCommandTests.suite([file, "--results", folder.appendingPathComponent("results").path])
        #expect(run.status == 0, "\(run.stderr)")
        let results = URL(fileURLWithPath: run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let records = try RecordReader.read(results.appendingPathComponent("native-2node.jsonl").path).filter { $0.kernel == "train" }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(records.count == 1 && records.allSatisfy { $0.environment.hostnames.count == 2 && $0.verified })
        #expect(records.first?.params["blas_threads"] == .number(Double(max(1, cores / 2))), "\(records.first?.params ?? [:]) on \(cores) cores")
    }

    @Test func aCombinedLaunchWritesPerKernelRecordsThatTheReportPairs() throws {
        let (folder, file) = try SuiteCommandTests.suiteFile("combined", """
        name: combined
        ranks: 2
        rounds: 2
        seed: 5
        baseline: native-shm
        environments:
          - native-shm: {launch: per-kernel}
          - native-shm: {label: native-shm-combined, launch: combined}
        kernels:
          - allreduce: {sizes: "4:64", iterations: 10, warmup: 1}
          - halo: {local: 32x32, iterations: 10, warmup: 1}
          - train: {layers: "16,48,32,8", steps: 12, warmup: 2, learning-rate: 0.1, bucket-mb: 0.004}
        """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try SuiteCommandTests.suite([file, "--results", folder.appendingPathComponent("results").path])
        #expect(run.status == 0, "\(run.stderr)")
        let results = URL(fileURLWithPath: run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        // Four launches per round alone, one combined, whose four kernels the journal names with it.
        let launches = try SuiteCommandTests.journal(results).filter { $0["event"] as? String == "launch" }
        let alone = launches.filter { $0["environment"] as? String == "native-shm" }
        let combined = launches.filter { $0["environment"] as? String == "native-shm-combined" }
        #expect(alone.count == 8 && alone.allSatisfy { $0["launch"] == nil })
        #expect(combined.count == 8)
        for round in 1...2 {
            let these = combined.filter { $0["round"] as? Int == round }
            #expect(these.map { $0["kernel"] as? String } == ["startup", "allreduce", "halo", "train"])
            #expect(these.allSatisfy { $0["launch"] as? String == "native-shm-combined-combined-r\(round)" })
            #expect(Set(these.compactMap { $0["seconds"] as? Double }).count == 1, "one launch's wall time")
        }
        let logs = try FileManager.default.contentsOfDirectory(atPath: results.appendingPathComponent("logs").path)
        #expect(logs.filter { $0.hasPrefix("native-shm-combined-") }.sorted()
                == ["native-shm-combined-combined-r1.log", "native-shm-combined-combined-r2.log"])

        // The records: the same kernels, points, parameters, iterations, rounds and run ids (after
        // the label), all verified, each with the machine probe and the counters, as alone.
        func shape(_ label: String) throws -> [String] {
            let records = try RecordReader.read(results.appendingPathComponent("\(label).jsonl").path)
            #expect(records.allSatisfy { $0.verified && $0.environment.name == label && $0.environment.probe != nil })
            #expect(records.filter { $0.kernel != "launch" }.allSatisfy { $0.counters != nil })
            return records.map { record in
                let params = record.params.keys.sorted().map { "\($0)=\(record.params[$0]!)" }.joined(separator: ",")
                return "\(record.run.dropFirst(label.count)) \(record.kernel) \(params) \(record.ranks) \(record.iterations) \(record.warmup) \(record.round!)"
            }.sorted()
        }
        let together = try shape("native-shm-combined")
        #expect(together == (try shape("native-shm")))
        #expect(Set(together.map { $0.split(separator: " ")[1] }) == ["launch", "allreduce", "halo", "train"])
        // The launch time is the start-up and exit alone: under the combined launch's wall time.
        let launchTimes = try RecordReader.read(results.appendingPathComponent("native-shm-combined.jsonl").path)
            .filter { $0.kernel == "launch" }.map(\.seconds.p50)
        #expect(launchTimes.count == 2)
        for (time, round) in zip(launchTimes, 1...2) {
            let wall = try #require(combined.first { $0["round"] as? Int == round }?["seconds"] as? Double)
            #expect(time > 0 && time < wall)
        }

        // The nodes' counters: each kernel of a combined launch carries its own part of the launch
        // (read at the gates between kernels), which differ by kernel and together come to no more
        // than the launch's; a launch of one kernel has only the launch's.
        let combinedRecords = try RecordReader.read(results.appendingPathComponent("native-shm-combined.jsonl").path)
            .filter { $0.kernel != "launch" }
        for round in 1...2 {
            let these = combinedRecords.filter { $0.round == round }
            let launch = try #require(these.first?.counters?.launch)
            #expect(these.allSatisfy { $0.counters?.launch == launch })
            var parts: [String: LaunchCounters] = [:]
            for record in these {
                let part = try #require(record.counters?.kernelPart, "\(record.kernel) round \(round)")
                #expect(part.unavailable.isEmpty, "\(part.unavailable)")
                #expect(parts[record.kernel, default: part] == part, "one part per kernel")
                parts[record.kernel] = part
            }
            #expect(Set(parts.keys) == ["allreduce", "halo", "train"])
            let walls = parts.values.compactMap { $0.values["region.wall_usec"]?.sum }
            #expect(walls.count == 3 && Set(walls).count == 3 && walls.allSatisfy { $0 > 0 }, "\(walls)")
            for (name, whole) in launch.values {
                let sum = parts.values.compactMap { $0.values[name]?.sum }.reduce(0, +)
                #expect(sum <= whole.sum, "\(name): the kernels' parts \(sum), the launch \(whole.sum)")
            }
        }
        let aloneRecords = try RecordReader.read(results.appendingPathComponent("native-shm.jsonl").path).filter { $0.kernel != "launch" }
        #expect(aloneRecords.allSatisfy { $0.counters?.launch != nil && $0.counters?.kernelPart == nil })

        // The report pairs each kernel of the combined launch with the same kernel alone, by round.
        let report = try String(contentsOf: results.appendingPathComponent("report.txt"), encoding: .utf8)
        for headline in ["small-message latency", "halo iteration time", "training step", "launch time"] {
            #expect(report.split(separator: "\n").contains { $0.contains("native-shm-combined") && $0.contains(headline) && $0.contains("2 rounds") },
                    "\(headline): \(report)")
        }
    }

    /// `podgap run sequence` refuses what cannot be one MPI job, before MPI starts, in one line.
    @Test func aSequenceRefusesKernelsThatCannotShareALaunch() throws {
        for (arguments, message) in [
            ([String](), "podgap: podgap run sequence needs KERNEL OPTIONS..., kernels separated by --then"),
            (["allreduce", "--then"], "podgap: podgap run sequence needs KERNEL OPTIONS..., kernels separated by --then"),
            (["allreduce", "--then", "nothing"], "podgap: 'nothing' is not a kernel of podgap run sequence"),
            (["--gate"], "podgap: --gate needs a folder"),
            (["allreduce", "--sizes", "4:0"], "podgap: allreduce: "),
            (["allreduce", "--label", "a", "--then", "halo", "--label", "b"], "podgap: halo: every kernel of one launch must give the same --transport and --label"),
        ] {
            let result = try Shell.run(Shell.podgap, ["run", "sequence"] + arguments, timeout: 30)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.hasPrefix(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }
}
