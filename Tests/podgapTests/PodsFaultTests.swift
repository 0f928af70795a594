import Records
import Foundation
import Testing

@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct PodsFaultTests {
    /// Starts `podgap ARGS` without waiting; stdout and stderr go to files in `folder`.
    func start(_ arguments: [String], in folder: URL) throws -> Process {
        try Shell.start(Shell.podgap, arguments, errors: folder.appendingPathComponent("err"))
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

    /// Waits for `process` to end, judged from /proc (gone or a zombie), at most `seconds`. Foundation's
    /// `isRunning` is not the test: it turns false only when every process that inherited the launcher's
    /// status pipe has exited, and a crashed launcher's mpirun lives on by design until `pods down`.
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

    /// The host pids of a pod's processes, from `runc ps`.
    func podProcesses(_ pod: String) throws -> Set<Int> {
        let listed = try Shell.run("/usr/sbin/runc", ["ps", "--format", "json", pod]).stdout
        return Set(try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [Int], "runc ps \(pod): \(listed)"))
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
        let before = try podProcesses("\(job)-p0")
        let launch = try start(["pods", "launch", "--name", job, "--np", "2", "--timeout", "60s", "--",
                                "podgap", "run", "allreduce", "--sizes", "4:1M", "--iterations", "2000", "--warmup", "1",
                                "--out", "/results/killed.jsonl"], in: results)
        defer { if launch.isRunning { kill(launch.processIdentifier, SIGKILL) } }
        let output = results.appendingPathComponent("\(job)-p0/killed.jsonl").path
        try #require(waitForRecord(output, seconds: 30), "no record within 30 s")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/run/podgap/\(job)/state.json"))) as? [String: Any]
        let mpirun = try #require(state?["launchPID"] as? Int, "state.json records the launch")
        let killedAt = Date()
        try Shell.run("/usr/sbin/runc", ["kill", "\(job)-p1", "KILL"])
        try #require(waitForExit(launch, seconds: 20), "launch still running 20 s after the pod died")
        #expect(Date().timeIntervalSince(killedAt) < 20)
        // Reading terminationStatus before Foundation has reaped the zombie traps; nothing of the job
        // is left to hold the status pipe open, so the reap follows within moments.
        let reapDeadline = Date().addingTimeInterval(10)
        while launch.isRunning && Date() < reapDeadline { usleep(50_000) }
        try #require(!launch.isRunning, "launch ended but was not reaped within 10 s: something of the job holds its pipe")
        // A lost pod is a failed pod job, whatever mpirun returned on its way out (it segfaults: 139).
        #expect(launch.terminationStatus == 1)
        // Nothing of the job outlives launch: not mpirun's session, not the orted and rank in the surviving pod.
        #expect(PodsHarness.living(inSession: Int32(mpirun)) == [], "left of mpirun's session")
        #expect(try podProcesses("\(job)-p0").isSubset(of: before), "the surviving pod holds only what it held before the launch")
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
        try #require(waitForRecord(results.appendingPathComponent("\(job)-p0/crash.jsonl").path, seconds: 30))
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
            // A CPU the machine does not have: the line names the ones it has, not runc's raw text.
            (["pods", "up", "--name", job, "--network", "bridge", "--cpuset", "\((CPUSet.current().cpus.max() ?? 0) + 5)"],
             "its CPUs are \(CPUSet.current().listDescription)", [:]),
            (["pods", "up", "--name", job, "--network", "bridge", "--pids", "8"], "--pids 8", [:]),
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

    @Test func gpusWithoutAGPURefuseBeforeCreatingAnything() throws {
        // Where a GPU (or a CDI spec for one) exists this refusal cannot happen; CDITests covers the edits.
        let specs = ["/etc/cdi", "/var/run/cdi"].contains { !((try? FileManager.default.contentsOfDirectory(atPath: $0)) ?? []).isEmpty }
        let devices = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []).contains { $0.hasPrefix("nvidia") }
        guard !specs && !devices else { return }
        let job = PodsHarness.uniqueName("tg")
        let result = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "bridge", "--nodes", "1", "--gpus", "1"],
                                            environment: Shell.mpiEnvironment)
        #expect(result.status == 3, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("no GPU") && lines[0].contains("/etc/cdi"), "\(result.stderr)")
        #expect(try PodsHarness.leftovers(job) == [])
        let zero = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "bridge", "--gpus", "0"])
        #expect(zero.status == 2 && zero.stderr.contains("'0'"), "\(zero.stderr)")
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

/// Pods as locked down as Docker's defaults, tried from inside a pod (`podgap pods probe`), and
/// what records say about it.
@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct PodsConfinementTests {
    struct Check: Decodable { var name: String; var refused: Bool; var detail: String }

    static var kernelAllowsUserNamespaces: Bool {
        (try? Shell.run("/usr/bin/unshare", ["--user", "/bin/true"]))?.status == 0
    }

    @Test(arguments: [false, true])
    func aPodIsRefusedEscapesAndAForkBombEndsAtItsPidsLimit(userNamespace: Bool) throws {
        try PodsHarness.requireImage()
        let job = PodsHarness.uniqueName(userNamespace ? "tu" : "ts")
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        var arguments = ["pods", "up", "--name", job, "--network", "bridge", "--nodes", "1", "--pods-per-node", "2",
                         "--pids", "64", "--results", results.path]
        if userNamespace { arguments.append("--userns") }
        let up = try PodsHarness.podgap(arguments)
        defer { _ = try? PodsHarness.podgap(["pods", "down", "--name", job]) }
        if userNamespace && !Self.kernelAllowsUserNamespaces {
            // Where the kernel refuses them: exit 3, one line, nothing made.
            #expect(up.status == 3 && up.stderr.split(separator: "\n").count == 1, "\(up.stderr)")
            #expect(try PodsHarness.leftovers(job) == [])
            return
        }
        try #require(up.status == 0, "pods up: \(up.stderr)")

        let started = Date()
        let probe = try PodsHarness.podgap(["pods", "probe", "--name", job, "--pod", "1", "--json"])
        #expect(Date().timeIntervalSince(started) < 30, "the fork bomb ended within the probe's bound")
        #expect(probe.status == 0, "\(probe.stdout)\(probe.stderr)")
        let checks = try probe.stdout.split(separator: "\n").map { try JSONDecoder().decode(Check.self, from: Data($0.utf8)) }
        for expected in ["unshare(CLONE_NEWUSER)", "clone(CLONE_NEWUSER)", "mount", "ptrace", "/proc/sys", "/proc/keys", "/proc/acpi", "fork bomb"] {
            let check = try #require(checks.first { $0.name.contains(expected) }, "no check of \(expected): \(probe.stdout)")
            #expect(check.refused, "\(check.name): \(check.detail)")
        }
        // The bomb stopped at the pids limit (EAGAIN), below 64 processes in the pod.
        let bomb = try #require(checks.first { $0.name == "fork bomb" })
        #expect(bomb.detail.contains("EAGAIN"), "\(bomb.detail)")
        #expect((Int(bomb.detail.prefix { $0.isNumber }) ?? 64) < 64, "\(bomb.detail)")

        // The ranks run under it, and every record says what applied.
        let launch = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "60s", "--",
                                             "podgap", "run", "allreduce", "--sizes", "4:64", "--iterations", "5",
                                             "--warmup", "1", "--out", "/results/confined.jsonl"])
        #expect(launch.status == 0, "launch: \(launch.stderr)")
        let records = try RecordReader.read(results.appendingPathComponent("\(job)-p0/confined.jsonl").path)
        #expect(!records.isEmpty)
        for record in records {
            #expect(record.verified)
            let container = try #require(record.environment.container)
            #expect(container.seccomp == "podgap-default")
            #expect(container.pidsLimit == 64)
            #expect(container.userNamespace == userNamespace)
        }
        try PodsHarness.downAndCheck(job)
    }
}
