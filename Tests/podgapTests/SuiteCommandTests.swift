import Foundation
import Testing

/// `podgap suite` end to end on the native environments (pods have their own tests), resume,
/// and suite files that must be refused before anything runs.
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

    @Test func badSuiteFilesNameTheYAMLPathAndWhatIsAllowed() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let results = folder.appendingPathComponent("results").path
        let cases: [(String, String)] = [
            ("environments: [native-shm]\nkernels:\n  - allreducez\n", ":3: kernels[0]: unknown kernel 'allreducez'; allowed: allreduce, gemm, halo, pingpong, train"),
            ("environments: [native-shm, pod-mystery]\nkernels: [allreduce]\n", ":1: environments[1]: unknown environment 'pod-mystery'; allowed: native-2node, native-rdma, native-shm, native-tcp, pod-bridge, pod-host, pod-overlay, pod-rdma, pod-routed"),
            ("environments: [native-shm]\nkernels: [allreduce]\ntrails: 3\n", ":3: trails: unknown field; allowed: baseline, description, environments, kernels, launcher, name, ranks, startup, timeout, trials"),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizez: 4:8\n", ":4: kernels[0].allreduce.sizez: unknown parameter; allowed: algorithm, chunk, dtype, in-place, iterations, samples, sizes, table, warmup"),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      out: x.jsonl\n", ":4: kernels[0].allreduce.out: is set by the suite itself; allowed:"),
            // Values, checked in-process by the same command `podgap run` parses them with.
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizes: 4:0\n", ":4: kernels[0].allreduce.sizes: '4:0': "),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      dtype: float16\n", ":4: kernels[0].allreduce.dtype: 'float16': The value 'float16' is invalid for '--dtype <dtype>'. Please provide one of 'float32', 'float64' or 'int32'."),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      iterations: 0\n", ":4: kernels[0].allreduce.iterations: '0': --iterations 0 must be at least 1"),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizes: 64G\n", ":4: kernels[0].allreduce.sizes: '64G': --sizes: 64G is 17179869184 float32 elements"),
            ("environments: [native-shm]\nkernels: [allreduce]\ntrials: 0\n", ":3: trials: '0' must be a whole number of at least 1"),
            ("environments: [native-shm]\nkernels: [allreduce]\nbaseline: pod-overlay\n", ":3: baseline: 'pod-overlay' is not one of the suite's environments (native-shm)"),
            ("environments:\n  - native-shm:\n      split-cpus: true\nkernels: [allreduce]\n", ":2: environments[0]: native-shm runs on the host: nodes, pods-per-node, cpus, cpuset, split-cpus and memory apply to pods environments only"),
            ("environments:\n  - native-2node:\n      split-cpus: maybe\nkernels: [allreduce]\n", ":3: environments[0].native-2node.split-cpus:"),
            ("environments: [native-shm\n", ": not valid YAML"),
        ]
        for (index, (text, message)) in cases.enumerated() {
            let file = folder.appendingPathComponent("bad\(index).yaml").path
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try Self.suite([file, "--results", results], timeout: 30)
            #expect(result.status == 2, "\(text)")
            #expect(result.stderr.hasPrefix("podgap: \(file)\(message)"), "got: \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        // Nothing ran: no results folder was made.
        #expect(!FileManager.default.fileExists(atPath: results))
    }

    @Test func tinyNativeSuiteEndToEndThenResume() throws {
        let (folder, file) = try Self.suiteFile("tiny", """
        name: tiny
        ranks: 2
        trials: 2
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
        // Interleaved: trial 1 runs shm then tcp, trial 2 tcp then shm (rotated).
        let journal = try String(contentsOf: results.appendingPathComponent("launches.jsonl"), encoding: .utf8).split(separator: "\n")
        let order = journal.compactMap { line in (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String }
        #expect(order == ["native-shm-startup-t1", "native-shm-k0-allreduce-t1", "native-tcp-startup-t1", "native-tcp-k0-allreduce-t1",
                          "native-tcp-startup-t2", "native-tcp-k0-allreduce-t2", "native-shm-startup-t2", "native-shm-k0-allreduce-t2"])
        // Per environment: 2 trials x 3 sizes of allreduce, and 2 startup records.
        let tcpFile = results.appendingPathComponent("native-tcp.jsonl")
        let tcp = try String(contentsOf: tcpFile, encoding: .utf8).split(separator: "\n")
        #expect(tcp.filter { $0.contains("\"kernel\":\"allreduce\"") }.count == 6)
        #expect(tcp.filter { $0.contains("\"kernel\":\"launch\"") }.count == 2)
        #expect(tcp.allSatisfy { $0.contains("\"name\":\"native-tcp\"") })
        // The RDMA environment is skipped with its reason, in skipped.json and in the report.
        let skipped = try String(contentsOf: results.appendingPathComponent("skipped.json"), encoding: .utf8)
        #expect(skipped.contains("native-rdma") && skipped.contains("/dev/infiniband"))
        let report = try String(contentsOf: results.appendingPathComponent("report.txt"), encoding: .utf8)
        #expect(report.contains("native-rdma: no RDMA devices"))
        #expect(report.contains("allreduce  small-message latency (4 B)"))

        // Interrupt the last launch after its first two sizes: drop its journal line and its
        // 16-byte record. Resume must measure 16 B alone, and nothing else again.
        let last = "native-shm-k0-allreduce-t2"
        try (journal.dropLast().joined(separator: "\n") + "\n").write(to: results.appendingPathComponent("launches.jsonl"), atomically: true, encoding: .utf8)
        let shmFile = results.appendingPathComponent("native-shm.jsonl")
        let shm = try String(contentsOf: shmFile, encoding: .utf8).split(separator: "\n")
        let kept = shm.filter { !($0.contains("\"run\":\"\(last)\"") && $0.contains("\"bytes\":16")) }
        #expect(kept.count == shm.count - 1)
        try (kept.joined(separator: "\n") + "\n").write(to: shmFile, atomically: true, encoding: .utf8)
        let resumed = try Self.suite(["--resume", results.path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming: 7 of 12 launches already done"))
        let after = try String(contentsOf: shmFile, encoding: .utf8).split(separator: "\n")
        #expect(after.count == shm.count)
        let bytes = after.filter { $0.contains("\"run\":\"\(last)\"") }.compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["params"] as? [String: Any])?["bytes"] as? Int
        }
        #expect(bytes.sorted() == [4, 8, 16])
        let tcpAfter = try String(contentsOf: tcpFile, encoding: .utf8).split(separator: "\n")
        #expect(tcpAfter.count == tcp.count)
        let journalAfter = try String(contentsOf: results.appendingPathComponent("launches.jsonl"), encoding: .utf8)
        #expect(journalAfter.split(separator: "\n").count == 8 && journalAfter.contains(last))
    }

    @Test func ctrlCStopsCleanlyAndResumeFinishes() throws {
        let (folder, file) = try Self.suiteFile("long", """
        name: long
        ranks: 2
        trials: 4
        startup: false
        environments: [native-shm, native-tcp]
        kernels:
          - allreduce: {sizes: "4:64", iterations: 20, warmup: 1}
        """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.podgap)
        process.arguments = ["suite", file, "--results", folder.appendingPathComponent("results").path]
        process.environment = Shell.mpiEnvironment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Interrupt once the first launch is journaled (or after 60 s at most).
        let results = folder.appendingPathComponent("results")
        let deadline = Date().addingTimeInterval(60)
        func journaled() -> Int {
            guard let run = try? FileManager.default.contentsOfDirectory(atPath: results.path).first,
                  let text = try? String(contentsOf: results.appendingPathComponent(run).appendingPathComponent("launches.jsonl"), encoding: .utf8)
            else { return 0 }
            return text.split(separator: "\n").count
        }
        while journaled() < 1 && Date() < deadline && process.isRunning { usleep(50_000) }
        kill(process.processIdentifier, SIGINT)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(stderr.contains("podgap: interrupted; measured launches are kept: continue with podgap suite --resume"))
        let done = journaled()
        #expect(done >= 1 && done < 8)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: results.path).first)
        let resumed = try Self.suite(["--resume", results.appendingPathComponent(run).path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(journaled() == 8)
        // Each trial's points once: 4 trials x 5 sizes per environment, no duplicates.
        let lines = try String(contentsOf: results.appendingPathComponent(run).appendingPathComponent("native-shm.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        let points = lines.compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return "\(object["trial"] ?? "")-\((object["params"] as? [String: Any])?["bytes"] ?? "")"
        }
        #expect(points.count == 20 && Set(points).count == 20)
    }
}
