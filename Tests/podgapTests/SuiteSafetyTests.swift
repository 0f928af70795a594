import Foundation
import Records
import Testing

/// A suite with pods in it: what a pod can do to the host through its results folder (nothing),
/// and Ctrl-C while pods come up (interrupted, not skipped).
@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct SuiteSafetyTests {
    /// Starts `podgap suite ARGS` without waiting; stderr into `folder/err`.
    func start(_ arguments: [String], in folder: URL) throws -> Process {
        try Shell.start(Shell.podgap, ["suite"] + arguments, errors: folder.appendingPathComponent("err"))
    }

    /// The one results folder the suite made under `results`, once it exists.
    func resultsFolder(_ results: URL) -> URL? {
        (try? FileManager.default.contentsOfDirectory(atPath: results.path).first).map { results.appendingPathComponent($0) }
    }

    /// The attack of issue 16: while the suite runs, everything in the pods' results folder that
    /// the host might read or append to is a link to a host file: the journal's old name, and
    /// every records file a launch will write. The host file stays untouched, the journal whole,
    /// and the pods environment is skipped with the reason; the native ones finish their rounds.
    @Test func aPodCannotPointTheHostAtItsFiles() throws {
        try PodsHarness.requireImage()
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The same path exists inside the pods (their own /tmp), so a pod writing through the
        // link succeeds there and leaves the host's file alone.
        let victim = "/tmp/podgap-victim-\(UUID().uuidString)"
        try "host file\n".write(toFile: victim, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: victim) }
        let file = folder.appendingPathComponent("attack.yaml")
        // Seed 14 puts pod-host last in round 1, after the native launches: time for the links.
        try """
        name: attack
        rounds: 2
        seed: 14
        environments: [native-shm, native-tcp, pod-host]
        kernels:
          - allreduce: {sizes: "4", iterations: 5, warmup: 1}
        """.write(to: file, atomically: true, encoding: .utf8)
        let results = folder.appendingPathComponent("results")
        let process = try start([file.path, "--results", results.path], in: folder)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Every name the pods' launches write under (round, kernel slot, attempt), and the journal's.
        var names = ["launches.jsonl"]
        for round in 1...2 {
            for what in ["startup", "k0-allreduce"] {
                for attempt in 1...2 { names.append("pod-host-\(what)-r\(round).s1-\(attempt).jsonl") }
            }
        }
        var linked = Set<String>()
        let deadline = Date().addingTimeInterval(150)
        while process.isRunning && Date() < deadline {
            if let run = resultsFolder(results) {
                let pods = run.appendingPathComponent("pods/pod-host")
                // The pods' folder, and each pod's own folder in it where pods have one.
                let subfolders = ((try? FileManager.default.contentsOfDirectory(atPath: pods.path)) ?? [])
                    .map { pods.appendingPathComponent($0) }.filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
                for place in [pods] + subfolders where FileManager.default.fileExists(atPath: place.path) {
                    for name in names where !linked.contains(place.appendingPathComponent(name).path) {
                        let link = place.appendingPathComponent(name).path
                        try? FileManager.default.removeItem(atPath: link)
                        if (try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)) != nil { linked.insert(link) }
                    }
                }
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: folder.appendingPathComponent("err"), encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(stderr.suffix(800))")
        #expect(!linked.isEmpty)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "host file\n")
        let run = try #require(resultsFolder(results))
        // The journal: every line whole, both rounds finished, launches of the native ones only.
        let lines = try String(contentsOf: run.appendingPathComponent("launches.jsonl"), encoding: .utf8).split(separator: "\n")
        let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.count == lines.count && events.first?["event"] as? String == "suite")
        #expect(events.filter { $0["event"] as? String == "finished" }.count == 2)
        let launched = Set(events.filter { $0["event"] as? String == "launch" }.compactMap { $0["environment"] as? String })
        #expect(launched == ["native-shm", "native-tcp"])
        #expect(try RecordReader.read(run.appendingPathComponent("native-tcp.jsonl").path).count == 4)
        let skipped = try String(contentsOf: run.appendingPathComponent("skipped.json"), encoding: .utf8)
        #expect(skipped.contains("pod-host") && skipped.contains("symbolic link"), "\(skipped)")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("pod-host.jsonl").path))
    }

    /// Ctrl-C while an environment's pods come up: that environment is journaled as interrupted,
    /// not listed as skipped, its pods are gone, and `--resume` runs it.
    @Test func ctrlCWhilePodsComeUpIsInterruptedNotSkipped() throws {
        try PodsHarness.requireImage()
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("up.yaml")
        try """
        name: up
        rounds: 1
        startup: false
        environments: [native-shm, pod-host]
        kernels:
          - allreduce: {sizes: "4", iterations: 5, warmup: 1}
        """.write(to: file, atomically: true, encoding: .utf8)
        let results = folder.appendingPathComponent("results")
        let jobsBefore = try PodsHarness.podgap(["pods", "list"]).stdout
        let process = try start([file.path, "--results", results.path], in: folder)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        func bringingUp() -> Bool {
            guard let run = resultsFolder(results) else { return false }
            return FileManager.default.fileExists(atPath: run.appendingPathComponent("logs/pod-host-pods-up.log").path)
        }
        while !bringingUp() && process.isRunning && Date() < deadline { usleep(5_000) }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let run = try #require(resultsFolder(results))
        let skipped = try String(contentsOf: run.appendingPathComponent("skipped.json"), encoding: .utf8)
        #expect(!skipped.contains("pod-host"), "\(skipped)")
        let journal = try String(contentsOf: run.appendingPathComponent("launches.jsonl"), encoding: .utf8)
        #expect(journal.contains("\"during\":\"bringing up pod-host\""))
        #expect(try PodsHarness.podgap(["pods", "list"]).stdout == jobsBefore)
        let resumed = try Shell.run(Shell.podgap, ["suite", "--resume", run.path], timeout: 150)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try RecordReader.read(run.appendingPathComponent("pod-host.jsonl").path).count == 1)
    }
}
