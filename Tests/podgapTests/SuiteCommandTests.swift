import Foundation
import Records
import Testing

/// `podgap suite` end to end on the native environments (pods have their own tests below and in
/// SuiteSafetyTests): rounds, their orders in the journal and the records, resume, Ctrl-C, the
/// budget loop, and suite files and options refused before anything runs.
@Suite(.serialized) struct SuiteCommandTests {
    static func suite(_ arguments: [String], timeout: Double = 150) throws -> Finished {
        try Shell.run(Shell.podgap, ["suite"] + arguments, timeout: timeout)
    }

    /// A fresh folder holding `NAME.yaml` with `text`; remove the folder after.
    static func suiteFile(_ name: String, _ text: String) throws -> (folder: URL, file: String) {
        let folder = try Shell.temporaryFolder()
        let file = folder.appendingPathComponent("\(name).yaml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return (folder, file)
    }

    /// The journal's events, as JSON objects.
    static func journal(_ results: URL) throws -> [[String: Any]] {
        try String(contentsOf: results.appendingPathComponent("launches.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func badSuiteFilesNameTheYAMLPathAndWhatIsAllowed() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let results = folder.appendingPathComponent("results").path
        let cases: [(String, String)] = [
            ("environments: [native-shm]\nkernels:\n  - allreducez\n", ":3: kernels[0]: unknown kernel 'allreducez'; allowed: allreduce, barrier, gemm, halo, pingpong, train"),
            ("environments: [native-shm, pod-mystery]\nkernels: [allreduce]\n", ":1: environments[1]: unknown environment 'pod-mystery'; allowed: native-2node, native-rdma, native-shm, native-tcp, pod-bridge, pod-host, pod-overlay, pod-rdma, pod-routed"),
            ("environments: [native-shm]\nkernels: [allreduce]\nrunds: 3\n", ":3: runds: unknown field; allowed: baseline, description, environments, kernels, launch, launcher, name, ranks, rounds, seed, startup, timeout"),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizez: 4:8\n", ":4: kernels[0].allreduce.sizez: unknown parameter; allowed: algorithm, chunk, dtype, in-place, iterations, samples, sizes, table, warmup"),
            // Each kernel's options as its command declares them (option groups followed, test-only
            // knobs left out, names in ArgumentParser's kebab case).
            ("environments: [native-shm]\nkernels:\n  - train:\n      sizes: 4\n", ":4: kernels[0].train.sizes: unknown parameter; allowed: batch, bucket-mb, device, dtype, layers, learning-rate, no-overlap, precision, progress-mflop, proxy, reducer, samples, seed, steps, warmup"),
            ("environments: [native-shm]\nkernels:\n  - gemm:\n      steps: 4\n", ":4: kernels[0].gemm.steps: unknown parameter; allowed: batch, calls, device, layers, precision, proxy, samples, shape, trials"),
            ("environments: [native-shm]\nkernels:\n  - barrier:\n      sizes: 4\n", ":4: kernels[0].barrier.sizes: unknown parameter; allowed: iterations, samples, warmup"),
            ("environments: [native-shm]\nkernels:\n  - halo:\n      corrupt-rank: 1\n", ":4: kernels[0].halo.corrupt-rank: unknown parameter; allowed: dims, halo-width, iterations, local, overlap, periodic, samples, warmup"),
            ("environments: [native-shm]\nkernels:\n  - barrier:\n      iterations: 0\n", ":4: kernels[0].barrier.iterations: '0': --iterations 0 must be at least 1"),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      out: x.jsonl\n", ":4: kernels[0].allreduce.out: is set by the suite itself; allowed:"),
            // Values, checked in-process by the same command `podgap run` parses them with.
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizes: 4:0\n", ":4: kernels[0].allreduce.sizes: '4:0': "),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      dtype: float16\n", ":4: kernels[0].allreduce.dtype: 'float16': The value 'float16' is invalid for '--dtype <dtype>'. Please provide one of 'float32', 'float64' or 'int32'."),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      iterations: 0\n", ":4: kernels[0].allreduce.iterations: '0': --iterations 0 must be at least 1"),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizes: 64G\n", ":4: kernels[0].allreduce.sizes: '64G': --sizes: 64G is 17179869184 float32 elements"),
            ("environments: [native-shm]\nkernels: [allreduce]\nrounds: 0\n", ":3: rounds: '0' must be a whole number of at least 1"),
            ("environments: [native-shm]\nkernels: [allreduce]\ntrials: 3\n", ":3: trials: is now 'rounds'"),
            ("environments: [native-shm]\nkernels: [allreduce]\nbaseline: pod-overlay\n", ":3: baseline: 'pod-overlay' is not one of the suite's environments (native-shm)"),
            ("environments:\n  - native-shm:\n      split-cpus: true\nkernels: [allreduce]\n", ":2: environments[0]: native-shm runs on the host: nodes, pods-per-node, cpus, cpuset, split-cpus and memory apply to pods environments only"),
            ("environments:\n  - native-2node:\n      split-cpus: maybe\nkernels: [allreduce]\n", ":3: environments[0].native-2node.split-cpus:"),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      iterations: many\n", ":4: kernels[0].allreduce.iterations: 'many': "),
            // Knobs (issue 25): unknown, on a native environment, slots that do not divide the ranks, limits out of range.
            ("environments:\n  - pod-overlay:\n      turbo: 1\nkernels: [allreduce]\n", ":3: environments[0].pod-overlay.turbo:"),
            ("environments:\n  - native-shm:\n      cpu-limit: 1\nkernels: [allreduce]\n", ":2: environments[0]: native-shm runs on the host: knobs"),
            ("ranks: 3\nenvironments:\n  - pod-bridge:\n      slots: 2\nkernels: [allreduce]\n", ":3: environments[0]: slots 2 do not divide the 3 ranks"),
            ("environments:\n  - pod-overlay:\n      cpu-limit: 0\nkernels: [allreduce]\n", ":3: environments[0].pod-overlay.cpu-limit: cpu-limit '0' is not a CPU count"),
            ("environments:\n  - pod-overlay:\n      cpu-limit: 4096\nkernels: [allreduce]\n", ":2: environments[0]: cpu-limit 4096 is more than this machine's"),
            ("environments:\n  - pod-overlay:\n      mtu: 9001\nkernels: [allreduce]\n", ":3: environments[0].pod-overlay.mtu: mtu '9001' must be a whole number from 1280 to 9000"),
            ("environments: [native-shm\n", ": not valid YAML"),
        ]
        for (index, (text, message)) in cases.enumerated() {
            let file = folder.appendingPathComponent("bad\(index).yaml").path
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            for arguments in [[file, "--results", results], [file, "--dry-run"]] {
                let result = try Self.suite(arguments, timeout: 30)
                #expect(result.status == 2, "\(text)")
                #expect(result.stderr.hasPrefix("podgap: \(file)\(message)"), "got: \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1)
            }
        }
        // Nothing ran: no results folder was made.
        #expect(!FileManager.default.fileExists(atPath: results))
    }

    @Test func badOptionsAreOneLineNamingTheValue() throws {
        let (folder, file) = try Self.suiteFile("opts", "environments: [native-shm]\nkernels: [allreduce]\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let results = folder.appendingPathComponent("results").path
        for (arguments, message) in [(["--rounds", "0"], "podgap: --rounds 0: run at least 1 round"),
                                     (["--target-ci", "-1"], "podgap: --target-ci -1: give a width in points above 0, e.g. 10"),
                                     (["--budget", "10x"], "podgap: --budget 10x: not a duration; use seconds, or a number with s, m or h (e.g. 10m)"),
                                     (["--budget", "0s"], "podgap: --budget 0s: not a duration")] {
            let result = try Self.suite([file, "--results", results] + arguments, timeout: 30)
            #expect(result.status == 2)
            #expect(result.stderr.hasPrefix(message), "got: \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: results))
    }

    /// 4 rounds x 2 environments (and one that cannot run here): every record carries its round
    /// and its place in that round's order, the journal holds each round's order, and a resume
    /// after a round that did not finish runs that round again whole.
    @Test func roundsRecordTheirOrderThenResume() throws {
        let (folder, file) = try Self.suiteFile("tiny", """
        name: tiny
        ranks: 2
        rounds: 4
        seed: 11
        environments: [native-shm, native-tcp, native-rdma]
        kernels:
          - allreduce: {sizes: "4:16", iterations: 10, warmup: 1}
        """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try Self.suite([file, "--results", folder.appendingPathComponent("results").path])
        #expect(run.status == 0, "\(run.stderr)")
        let results = URL(fileURLWithPath: run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(results.lastPathComponent.hasPrefix("tiny-"))
        for name in ["suite.yaml", "environment.json", "launches.jsonl", "skipped.json", "report.html", "report.md", "report.csv", "report.txt"] {
            #expect(FileManager.default.fileExists(atPath: results.appendingPathComponent(name).path), "\(name) missing")
        }
        let events = try Self.journal(results)
        #expect(events.first?["event"] as? String == "suite" && events.first?["seed"] as? Int == 11)
        // Each round's order, as the journal has it; launches ran in it (startup probes first).
        // A round plans only the environments that can run (RoundPlan): the skipped one is in no order.
        var drawn: [Int: [String]] = [:], orders: [Int: [String]] = [:]
        for event in events where event["event"] as? String == "round" {
            drawn[event["round"] as! Int] = event["order"] as? [String]
            orders[event["round"] as! Int] = event["order"] as? [String]
        }
        #expect(drawn.values.allSatisfy { !$0.contains("native-rdma") })
        #expect(orders.keys.sorted() == [1, 2, 3, 4])
        for round in 1...4 {
            let ran = events.filter { $0["event"] as? String == "launch" && $0["round"] as? Int == round }.map { $0["environment"] as! String }
            #expect(ran == orders[round]! + orders[round]!, "round \(round)")
        }
        #expect(events.filter { $0["event"] as? String == "finished" }.count == 4)
        #expect(events.last?["event"] as? String == "stopped")
        // Records: per environment 4 rounds x 3 sizes of allreduce and 4 launch records, each with
        // its round and position as the journal's order says.
        for label in ["native-shm", "native-tcp"] {
            let records = try RecordReader.read(results.appendingPathComponent("\(label).jsonl").path)
            #expect(records.filter { $0.kernel == "allreduce" }.count == 12)
            #expect(records.filter { $0.kernel == "launch" }.count == 4)
            // The suite's own measurement describes itself, as kernels do.
            #expect(records.filter { $0.kernel == "launch" }.allSatisfy { $0.descriptor?.headlines.first?.label == "launch time (start to exit)" })
            for record in records {
                let round = try #require(record.round)
                #expect(record.trial == round && record.environment.name == label)
                #expect(record.position == drawn[round]!.firstIndex(of: label)! + 1)
            }
        }
        let skipped = try String(contentsOf: results.appendingPathComponent("skipped.json"), encoding: .utf8)
        #expect(skipped.contains("native-rdma") && skipped.contains("/dev/infiniband"))
        let report = try String(contentsOf: results.appendingPathComponent("report.txt"), encoding: .utf8)
        #expect(report.hasPrefix("suite: 4 round(s); stopped because all 4 rounds ran"))
        // Paired by round: native-shm against the baseline (native-tcp) on the 4 rounds, not trial
        // against trial.
        #expect(report.split(separator: "\n").contains { $0.contains("native-shm") && $0.contains("small-message latency") && $0.contains("4 rounds") },
                "\(report)")
        #expect(report.contains("native-rdma: no RDMA devices"))

        // Round 4 did not finish: its "finished" line is gone. Resume sets its records aside and
        // runs it again whole, in the same order; rounds 1-3 stay as they were.
        let journalPath = results.appendingPathComponent("launches.jsonl")
        let lines = try String(contentsOf: journalPath, encoding: .utf8).split(separator: "\n")
        let cut = lines.filter { !($0.contains("\"event\":\"finished\"") && $0.contains("\"round\":4")) && !$0.contains("\"event\":\"stopped\"") }
        try (cut.joined(separator: "\n") + "\n").write(to: journalPath, atomically: true, encoding: .utf8)
        let before = try RecordReader.read(results.appendingPathComponent("native-tcp.jsonl").path)
        let resumed = try Self.suite(["--resume", results.path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at round 4: 3 round(s) finished and kept"))
        let after = try RecordReader.read(results.appendingPathComponent("native-tcp.jsonl").path)
        #expect(after.count == before.count)
        #expect(after.filter { ($0.round ?? 0) < 4 } == before.filter { ($0.round ?? 0) < 4 })
        #expect(after.filter { $0.round == 4 }.allSatisfy { new in !before.contains { $0.time == new.time && $0.run == new.run } })
        let aside = try RecordReader.read(results.appendingPathComponent("interrupted/native-tcp.jsonl").path)
        #expect(aside.count == 4 && aside.allSatisfy { $0.round == 4 })
        let rerun = try Self.journal(results).filter { $0["event"] as? String == "round" && $0["round"] as? Int == 4 }
        #expect(rerun.count == 2 && (rerun[0]["order"] as! [String]) == (rerun[1]["order"] as! [String]))
    }

    @Test func ctrlCKeepsFinishedRoundsAndResumeFinishes() throws {
        let (folder, file) = try Self.suiteFile("long", """
        name: long
        ranks: 2
        rounds: 4
        startup: false
        environments: [native-shm, native-tcp]
        kernels:
          - allreduce: {sizes: "4:64", iterations: 20, warmup: 1}
        """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let errorsFile = folder.appendingPathComponent("err")
        let process = try Shell.start(Shell.podgap, ["suite", file, "--results", folder.appendingPathComponent("results").path], errors: errorsFile)
        // Interrupt once the first round has finished and the next has started (60 s at most).
        let results = folder.appendingPathComponent("results")
        let deadline = Date().addingTimeInterval(60)
        func count(_ event: String) -> Int {
            guard let run = try? FileManager.default.contentsOfDirectory(atPath: results.path).first,
                  let events = try? Self.journal(results.appendingPathComponent(run)) else { return 0 }
            return events.filter { $0["event"] as? String == event }.count
        }
        while count("round") < 2 && Date() < deadline && process.isRunning { usleep(20_000) }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: errorsFile, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 130)
        #expect(stderr.contains("podgap: interrupted; finished rounds are kept: continue with podgap suite --resume"))
        let finished = count("finished")
        #expect(finished >= 1 && finished < 4)
        #expect(count("interrupted") == 1)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: results.path).first)
        let resumed = try Self.suite(["--resume", results.appendingPathComponent(run).path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(count("finished") == 4)
        // Each round's points once: 4 rounds x 5 sizes per environment, no duplicates.
        let records = try RecordReader.read(results.appendingPathComponent(run).appendingPathComponent("native-shm.jsonl").path)
        let points = records.map { "\($0.round ?? 0)-\($0.params["bytes"]?.doubleValue ?? 0)" }
        #expect(points.count == 20 && Set(points).count == 20)
    }

    /// `--budget` stops at the target once the intervals are narrow enough (here a target any
    /// interval meets, after the 3 rounds a budget run always runs first).
    @Test func budgetStopsAtTheTargetAndTheReportSaysSo() throws {
        let (folder, file) = try Self.suiteFile("budget", """
        name: budget
        rounds: 50
        startup: false
        environments: [native-shm, native-tcp]
        kernels:
          - allreduce: {sizes: "4", iterations: 10, warmup: 1}
        """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try Self.suite([file, "--results", folder.appendingPathComponent("results").path, "--budget", "2m", "--target-ci", "100000"])
        #expect(run.status == 0, "\(run.stderr)")
        let results = URL(fileURLWithPath: run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let events = try Self.journal(results)
        #expect(events.filter { $0["event"] as? String == "finished" }.count == 3)
        let stopped = try #require(events.last)
        #expect(stopped["event"] as? String == "stopped")
        #expect((stopped["reason"] as? String)?.hasPrefix("the target was reached") == true)
        let report = try String(contentsOf: results.appendingPathComponent("report.txt"), encoding: .utf8)
        #expect(report.hasPrefix("suite: 3 round(s); stopped because the target was reached: every headline interval at most 100000.0 points wide; widest headline interval"))
    }
}
