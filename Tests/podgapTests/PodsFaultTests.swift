import Records
import Foundation
import Testing

@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct PodsFaultTests {
    /// Starts `podgap ARGS` without waiting; stdout and stderr go to files in `folder`.
    func start(_ arguments: [String], in folder: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.podgap)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: folder.appendingPathComponent("err").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: folder.appendingPathComponent("err"))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits until `path` holds at least one line, at most `seconds`.
    func waitForRecord(_ path: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("\n") { return true }
            usleep(100_000)
        }
        return false
    }

    /// Waits for `process` to end, judged from /proc (gone or a zombie), at most `seconds`.
    func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        func ended() -> Bool {
            guard process.isRunning else { return true }
            let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)
            return stat == nil || stat!.contains(") Z ")
        }
        while !ended() && Date() < deadline { usleep(100_000) }
        return ended()
    }

    @Test func aPodKilledMidRunEndsTheLaunchNamingIt() throws {
        try PodsHarness.requireImage()
        let job = PodsHarness.uniqueName("tk")
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        let up = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "bridge", "--nodes", "1",
                                         "--pods-per-node", "2", "--results", results.path])
        defer { _ = try? PodsHarness.podgap(["pods", "down", "--name", job]) }
        try #require(up.status == 0, "pods up: \(up.stderr)")
        // Enough work that the job is still running when the pod dies, bounded by --timeout.
        let launch = try start(["pods", "launch", "--name", job, "--np", "2", "--timeout", "60s", "--",
                                "podgap", "run", "allreduce", "--sizes", "4:1M", "--iterations", "2000", "--warmup", "1",
                                "--out", "/results/killed.jsonl"], in: results)
        defer { if launch.isRunning { kill(launch.processIdentifier, SIGKILL) } }
        let output = results.appendingPathComponent("killed.jsonl").path
        try #require(waitForRecord(output, seconds: 30), "no record within 30 s")
        let killedAt = Date()
        try Shell.run("/usr/sbin/runc", ["kill", "\(job)-p1", "KILL"])
        try #require(waitForExit(launch, seconds: 20), "launch still running 20 s after the pod died")
        #expect(Date().timeIntervalSince(killedAt) < 20)
        #expect(launch.terminationStatus != 0)
        let stderr = (try? String(contentsOf: results.appendingPathComponent("err"), encoding: .utf8)) ?? ""
        #expect(stderr.contains("pod \(job)-p1 stopped"), "stderr: \(stderr.suffix(400))")
        // Records written before the pod died are whole and readable.
        let records = try RecordReader.read(output)
        #expect(!records.isEmpty && records.allSatisfy(\.verified))
        try PodsHarness.downAndCheck(job)
    }

    @Test func downCleansAJobWhoseLauncherCrashed() throws {
        try PodsHarness.requireImage()
        let job = PodsHarness.uniqueName("tc")
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        let up = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "overlay", "--nodes", "2",
                                         "--pods-per-node", "1", "--results", results.path])
        defer { _ = try? PodsHarness.podgap(["pods", "down", "--name", job]) }
        try #require(up.status == 0, "pods up: \(up.stderr)")
        let launch = try start(["pods", "launch", "--name", job, "--np", "2", "--timeout", "60s", "--",
                                "podgap", "run", "allreduce", "--sizes", "4:1M", "--iterations", "2000", "--warmup", "1",
                                "--out", "/results/crash.jsonl"], in: results)
        try #require(waitForRecord(results.appendingPathComponent("crash.jsonl").path, seconds: 30))
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/run/podgap/\(job)/state.json"))) as? [String: Any]
        let mpirun = try #require(state?["launchPID"] as? Int, "state.json records the launch")
        kill(launch.processIdentifier, SIGKILL) // the launcher crashes; mpirun and the pods live on
        #expect(waitForExit(launch, seconds: 5))
        try PodsHarness.downAndCheck(job)
        usleep(300_000)
        let status = try? String(contentsOfFile: "/proc/\(mpirun)/stat", encoding: .utf8)
        #expect(status == nil || status!.contains(") Z "), "mpirun \(mpirun) still runs after down")
    }

    @Test func badInputIsOneLineExitTwoAndCreatesNothing() throws {
        let job = PodsHarness.uniqueName("tb")
        let cases: [([String], String, [String: String])] = [
            // The typed option's error names the value and every choice.
            (["pods", "up", "--name", job, "--network", "vxlan"], "'vxlan'", [:]),
            (["pods", "up", "--name", job, "--network", "loopback"], "'host', 'bridge', 'routed' or 'overlay'", [:]),
            (["pods", "up", "--name", job, "--network", "overlay", "--no-containers", "--nodes", "2"], "--network host", [:]),
            (["pods", "up", "--name", String(repeating: "n", count: 64), "--network", "bridge"], "at most 63", [:]),
            (["pods", "up", "--name", "Upper", "--network", "bridge"], "DNS-1123", [:]),
            (["pods", "up", "--name", job, "--network", "bridge", "--memory", "2X"], "'2X'", [:]),
            (["pods", "up", "--name", job, "--network", "host", "--nodes", "10", "--pods-per-node", "11"], "110 pods", [:]),
            // pods up builds the image for this podgap: a store it cannot write is refused.
            (["pods", "up", "--name", job, "--network", "bridge", "--nodes", "1"], "cannot build the pod image in /proc/podgap-store",
             ["PODGAP_IMAGE_STORE": "/proc/podgap-store"]),
            (["pods", "up", "--name", job, "--network", "bridge", "--nodes", "1"], "runc", ["PODGAP_RUNC": "/nonexistent/runc"]),
            (["pods", "launch", "--name", job, "--", "podgap", "env"], job, [:]),
            (["pods", "down"], "--name", [:]),
        ]
        for (arguments, named, extra) in cases {
            let environment = Shell.mpiEnvironment.merging(extra) { $1 }
            let result = try PodsHarness.podgap(arguments, environment: environment)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(named), "\(arguments): \(result.stderr)")
            #expect(try PodsHarness.leftovers(job) == [], "\(arguments) left something")
        }
    }

    @Test func rdmaWithoutDevicesRefusesAndCreatesNothing() throws {
        // Where devices exist this refusal cannot happen; the config they get is checked in PodConfigTests.
        guard !FileManager.default.fileExists(atPath: "/dev/infiniband") else { return }
        let job = PodsHarness.uniqueName("tq")
        let result = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "host", "--nodes", "1", "--rdma"],
                                            environment: Shell.mpiEnvironment)
        #expect(result.status == 3, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("no RDMA device") && lines[0].contains("/dev/infiniband"), "\(result.stderr)")
        #expect(try PodsHarness.leftovers(job) == [])
    }

    @Test func refusesWithoutRoot() throws {
        guard let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("setpriv (util-linux) is missing")
            return
        }
        let job = PodsHarness.uniqueName("tr")
        let result = try Shell.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", Shell.podgap,
                                             "pods", "up", "--name", job, "--network", "bridge", "--nodes", "1"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("root"), "\(result.stderr)")
        #expect(try PodsHarness.leftovers(job) == [])
    }
}
