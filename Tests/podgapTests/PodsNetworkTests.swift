import Records
import Pods
import Foundation
import Testing

/// What the pods tests share: one image build, unique job names, and the checks that a job left
/// nothing behind. Jobs are named per test so that tests of other engineers never collide.
enum PodsHarness {
    static var canRunPods: Bool {
        geteuid() == 0 && ["/usr/sbin/runc", "/usr/bin/runc"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `podgap image build`, once for every pods test (later builds hit the content-hash cache).
    static let imageBuild: Finished? = try? Shell.run(Shell.podgap, ["image", "build"], timeout: 300)

    static func requireImage() throws {
        let build = try #require(imageBuild, "podgap image build did not run")
        try #require(build.status == 0, "podgap image build failed: \(build.stderr)")
    }

    /// A job name unique per call: `prefix` and 6 random hex digits.
    static func uniqueName(_ prefix: String) -> String {
        let digits = String(UInt32.random(in: 0...0xffffff), radix: 16)
        return prefix + String(repeating: "0", count: 6 - digits.count) + digits
    }

    static func podgap(_ arguments: [String], timeout: Double = 120, environment: [String: String]? = nil) throws -> Finished {
        try Shell.run(Shell.podgap, arguments, environment: environment, timeout: timeout)
    }

    /// Everything visible on the host that carries the job's name, or the hash that stands for it
    /// in namespace and link names.
    static func leftovers(_ job: String) throws -> [String] {
        let names = try JobNames(job)
        let netns = try Shell.run("/usr/sbin/ip", ["netns", "list"]).stdout
        let links = try Shell.run("/usr/sbin/ip", ["-o", "link"]).stdout
        // Containers of either runtime (the `runtime` knob): crun keeps its own list.
        var containers = try Shell.run("/usr/sbin/runc", ["list", "--quiet"]).stdout
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/crun") {
            containers += try Shell.run("/usr/bin/crun", ["list", "--quiet"]).stdout
        }
        var found = (netns + links + containers).split(separator: "\n")
            .filter { $0.contains(names.hostStem + "-") || $0.contains(names.stem + "-") }.map(String.init)
        if FileManager.default.fileExists(atPath: "/run/podgap/\(job)") { found.append("/run/podgap/\(job)") }
        // cgroup v1 keeps the pods' folders under each controller, v2 at the root: look in all.
        let controllers = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/\($0)" }
        for root in controllers + ["/sys/fs/cgroup"] {
            let cgroups = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            found += cgroups.filter { $0.hasPrefix("podgap-\(names.hostStem)-") }.map { "\(root)/\($0)" }
        }
        return found
    }

    /// Takes the job down and checks that nothing of it is left; a second down must succeed too.
    static func downAndCheck(_ job: String) throws {
        let down = try podgap(["pods", "down", "--name", job])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(try leftovers(job) == [], "left behind by \(job)")
        let again = try podgap(["pods", "down", "--name", job])
        #expect(again.status == 0 && again.stdout.contains("removed 0 item"), "down is idempotent: \(again.stdout)")
    }

    /// Processes alive (not zombies) whose session id is `session`.
    static func living(inSession session: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 3 && Int32(fields[3]) == session && fields[0] != "Z" ? pid : nil
        }
    }

    /// The init PID of a pod, from `runc state`.
    static func podPID(_ pod: String) throws -> Int32 {
        let state = try Shell.run("/usr/sbin/runc", ["state", pod])
        let object = try JSONSerialization.jsonObject(with: Data(state.stdout.utf8)) as? [String: Any]
        return Int32(try #require(object?["pid"] as? Int, "runc state \(pod): \(state.stdout)"))
    }

    static func namespace(_ pid: String, _ kind: String) throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
    }
}

@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct PodsNetworkTests {
    @Test(arguments: ["host", "bridge", "routed", "overlay"])
    func allreduceAndHaloRunInTwoPods(network: String) throws {
        try PodsHarness.requireImage()
        let job = PodsHarness.uniqueName("t\(network.prefix(1))")
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        var shape = network == "bridge" ? ["--nodes", "1", "--pods-per-node", "2"] : ["--nodes", "2", "--pods-per-node", "1"]
        // Overlay pods also get a node's own CPUs each, as pods on two machines would.
        let split = network == "overlay" ? try JobSpec.shares(of: CPUSet.current(), nodes: 2).map(\.listDescription) : nil
        if split != nil { shape.append("--split-cpus") }
        let up = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", network, "--cpus", "1", "--memory", "1G",
                                         "--results", results.path] + shape)
        defer { _ = try? PodsHarness.podgap(["pods", "down", "--name", job]) }
        try #require(up.status == 0, "pods up: \(up.stderr)")

        // Separate network and IPC namespaces: each pod's, and none of them the test's own.
        let pids = try ["\(job)-p0", "\(job)-p1"].map { String(try PodsHarness.podPID($0)) }
        for kind in ["net", "ipc", "uts", "pid"] {
            let inodes = try pids.map { try PodsHarness.namespace($0, kind) }
            #expect(inodes[0] != inodes[1], "\(kind) namespaces of the two pods")
            #expect(!inodes.contains(try PodsHarness.namespace("self", kind)), "\(kind) namespace of a pod is the host's")
        }

        let allreduce = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "90s", "--",
                                                "podgap", "run", "allreduce", "--sizes", "4:256", "--iterations", "20",
                                                "--warmup", "2", "--out", "/results/allreduce.jsonl"])
        #expect(allreduce.status == 0, "launch: \(allreduce.stderr)")
        let records = try RecordReader.read(results.appendingPathComponent("\(job)-p0/allreduce.jsonl").path)
        #expect(records.map { $0.params["bytes"] } == [4, 8, 16, 32, 64, 128, 256].map { JSONValue.number(Double($0)) })
        for record in records {
            #expect(record.verified)
            #expect(record.ranks == 2)
            let environment = record.environment
            #expect(environment.name == "pod-\(network)")
            #expect(environment.network == network)
            #expect(environment.launcher.kind == "pod")
            #expect(environment.container?.runtime == "runc")
            #expect(environment.container?.id == "\(job)-p0")
            #expect(environment.hostnames == ["\(job)-p0", "\(job)-p1"])
            #expect(environment.transport.btl == "tcp,self")
            #expect(environment.cgroup.cpuQuota == 1.0)
            #expect(environment.cgroup.memoryBytes == 1 << 30)
            if let split { #expect(environment.bindings == split, "each pod's rank runs on its node's CPUs only") }
        }

        // Each pod has its own results folder and sees nothing of another's: rank 0's records are
        // in pod 0's, and pod 1 sees an empty /results.
        let inPod1 = try Shell.run("/usr/sbin/runc", ["exec", "\(job)-p1", "/bin/ls", "-A", "/results"])
        #expect(inPod1.status == 0 && inPod1.stdout.isEmpty, "pod 1's /results: \(inPod1.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: results.path).sorted() == ["\(job)-p0", "\(job)-p1"])

        let halo = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "90s", "--",
                                           "podgap", "run", "halo", "--local", "32x32", "--iterations", "5", "--warmup", "1",
                                           "--out", "/results/halo.jsonl"])
        #expect(halo.status == 0, "halo launch: \(halo.stderr)")
        let haloRecords = try RecordReader.read(results.appendingPathComponent("\(job)-p0/halo.jsonl").path)
        #expect(!haloRecords.isEmpty)
        #expect(haloRecords.allSatisfy { $0.verified && $0.environment.name == "pod-\(network)" })

        if network == "overlay" {
            // The ranks' traffic really crossed the VXLAN device.
            let stats = try Shell.run("/usr/sbin/ip", ["-n", try JobNames(job).nodeNetns(0), "-s", "-j", "link", "show", "flannel.1"])
            let link = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [[String: Any]]
            let tx = ((link?.first?["stats64"] as? [String: Any])?["tx"] as? [String: Any])?["packets"] as? Int
            #expect((tx ?? 0) > 50, "flannel.1 sent \(tx ?? 0) packets")
            let details = try Shell.run("/usr/sbin/ip", ["-n", try JobNames(job).nodeNetns(0), "-d", "link", "show", "flannel.1"]).stdout
            #expect(details.contains("vxlan id 1") && details.contains("dstport 8472") && details.contains("mtu 1450"))
        }
        try PodsHarness.downAndCheck(job)
    }

    @Test func aFortyCharacterJobNameGoesUpLaunchesListsAndLeavesNothing() throws {
        try PodsHarness.requireImage()
        let job = PodsHarness.uniqueName("a-kubernetes-style-job-name-of-40-")
        try #require(job.count == 40)
        let names = try JobNames(job)
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        let up = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "bridge", "--nodes", "1", "--pods-per-node", "2",
                                         "--results", results.path])
        defer { _ = try? PodsHarness.podgap(["pods", "down", "--name", job]) }
        try #require(up.status == 0, "pods up: \(up.stderr)")
        #expect(up.stdout.contains("\(job)-p0") && up.stdout.contains("\(job)-p1"), "\(up.stdout)")

        let launch = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "60s", "--",
                                             "podgap", "run", "allreduce", "--sizes", "4:16", "--iterations", "5",
                                             "--warmup", "1", "--out", "/results/long.jsonl"])
        #expect(launch.status == 0, "launch: \(launch.stderr)")
        let records = try RecordReader.read(results.appendingPathComponent("\(job)-p0/long.jsonl").path)
        #expect(records.count == 3 && records.allSatisfy { $0.verified && $0.environment.container?.id == "\(job)-p0" })

        // The list names the job's namespaces and links by the hash that stands for the job.
        let list = try PodsHarness.podgap(["pods", "list"])
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n").map(String.init)
        let jobLine = try #require(lines.firstIndex { $0.hasPrefix(job + "  ") }, "\(list.stdout)")
        #expect(lines[jobLine + 1].contains("\(job)-n0 \(names.nodeNetns(0))") && lines[jobLine + 1].contains(names.underlayBridge))
        #expect(lines[jobLine + 2].contains("\(job)-p0") && lines[jobLine + 2].contains("netns \(names.podNetns(0))"))
        let json = try PodsHarness.podgap(["pods", "list", "--json"])
        let jobs = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let state = try #require(jobs.first { ($0["spec"] as? [String: Any])?["name"] as? String == job })
        #expect(state["nodeNetns"] as? [String] == [names.nodeNetns(0)])
        #expect((state["pods"] as? [[String: Any]])?.compactMap { $0["results"] as? String }
                == ["\(results.path)/\(job)-p0", "\(results.path)/\(job)-p1"], "each pod's own results folder")
        #expect((state["pods"] as? [[String: Any]])?.compactMap { $0["status"] as? String } == ["running", "running"])
        let netns = try Shell.run("/usr/sbin/ip", ["netns", "list"]).stdout
        #expect(netns.contains(names.podNetns(1)))
        try PodsHarness.downAndCheck(job)
    }

    @Test func nodesWithoutContainersRunNative2Node() throws {
        let job = PodsHarness.uniqueName("tn")
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        let up = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "host", "--no-containers", "--nodes", "2", "--split-cpus",
                                         "--results", results.path])
        let shares = try JobSpec.shares(of: CPUSet.current(), nodes: 2).map(\.listDescription)
        defer { _ = try? PodsHarness.podgap(["pods", "down", "--name", job]) }
        try #require(up.status == 0, "pods up: \(up.stderr)")
        let launch = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "90s", "--",
                                             "podgap", "run", "allreduce", "--sizes", "4:64", "--iterations", "20",
                                             "--warmup", "2", "--out", "/results/native-2node.jsonl"])
        #expect(launch.status == 0, "launch: \(launch.stderr)")
        let records = try RecordReader.read(results.appendingPathComponent("native-2node.jsonl").path)
        #expect(records.count == 5)
        for record in records {
            #expect(record.verified)
            #expect(record.environment.name == "native-2node")
            #expect(record.environment.network == NetworkMode.host.rawValue, "one name from the command line to the record")
            #expect(record.environment.container?.runtime != "runc", "host processes, not pods")
            #expect(record.environment.launcher.kind == "mpirun")
            #expect(record.environment.hostnames == ["\(job)-n0", "\(job)-n1"])
            #expect(record.environment.bindings == shares, "each node's rank runs on that node's CPUs only (taskset)")
        }
        try PodsHarness.downAndCheck(job)
    }
}

@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct PodsStartupTests {
    @Test func startupIsOneRecordPerTrialNativelyAndInPods() throws {
        try PodsHarness.requireImage()
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("startup.jsonl").path
        let native = try PodsHarness.podgap(["run", "startup", "--trials", "2", "--out", out])
        #expect(native.status == 0, "\(native.stderr)")
        // With the developer's trace on: `pods up` and `down` print their steps, which the records never hold.
        let pods = try PodsHarness.podgap(["run", "startup", "--network", "bridge", "--trials", "1", "--out", out, "--trial", "5"],
                                          environment: Shell.mpiEnvironment.merging([TimingTrace.podsVariable: "1"]) { $1 })
        #expect(pods.status == 0, "\(pods.stderr)")
        let records = try RecordReader.read(out)
        #expect(records.map(\.trial) == [0, 1, 5])
        #expect(records.map(\.kernel) == ["startup", "startup", "startup"])
        #expect(records.prefix(2).allSatisfy { $0.environment.container?.runtime != "runc" && $0.params["launch"] == .string("mpirun") })
        let pod = try #require(records.last)
        #expect(pod.environment.name == "pod-bridge")
        #expect(pod.params["launch"] == .string("pods"))
        // Positive, and under the launch's own limits; creating pods costs more than a bare mpirun.
        #expect(records.allSatisfy { $0.verified && $0.seconds.p50 > 0 && $0.seconds.p50 < 60 })
        #expect(pod.seconds.p50 > records[0].seconds.p50)
        // The pods' startup phases (no pull) add up to what the launch measured.
        StartupPhaseChecks.expectAddUp([pod], StartupPhase.pods.filter { $0 != .pulled && $0 != .unpacked })
        #expect(!native.stderr.contains("podgap: up "), "no trace unless asked for")
        // The trace's lines as benchmarks/pods/steps reads them: up's steps add up to its total.
        let steps = pods.stderr.split(separator: "\n").compactMap { line -> (what: String, step: String, ms: Double)? in
            guard let match = try? #/^podgap: (up|down) (.+?)\s+([0-9.]+) ms$/#.wholeMatch(in: line), let ms = Double(match.3) else { return nil }
            return (String(match.1), String(match.2), ms)
        }
        let up = steps.filter { $0.what == "up" && !$0.step.hasPrefix("  ") }
        let upTotal = try #require(up.last { $0.step == "total" }?.ms, "\(pods.stderr)")
        #expect(steps.contains { $0.what == "down" && $0.step == "total" }, "\(pods.stderr)")
        // The steps follow each other (each rounded to 0.1 ms); after the last, only the state's save.
        let stepSum = up.filter { $0.step != "total" }.map(\.ms).reduce(0, +)
        #expect(up.count >= 6 && stepSum <= upTotal + 0.1 * Double(up.count) && stepSum >= 0.8 * upTotal, "\(up)")
        // Each trial's job is gone.
        let jobs = (try? FileManager.default.contentsOfDirectory(atPath: Store().runRoot)) ?? []
        #expect(!jobs.contains { $0.hasPrefix("su") }, "\(jobs)")
    }
}

@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct PodsImageTests {
    @Test func secondBuildIsCachedAndTheBundleIsAnOCIRuntimeBundle() throws {
        try PodsHarness.requireImage()
        let again = try PodsHarness.podgap(["image", "build"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("unchanged"), "\(again.stdout)")
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/var/lib/podgap/oci/index.json"))) as? [String: Any]
        let manifests = try #require(index?["manifests"] as? [[String: Any]])
        #expect((manifests.first?["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == "latest")
        let bundle = try PodsHarness.podgap(["image", "bundle"])
        #expect(bundle.status == 0, "\(bundle.stderr)")
        let folder = bundle.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for path in ["config.json", "rootfs/usr/local/bin/podgap", "rootfs/usr/local/bin/entrypoint", "rootfs/usr/bin/orted",
                     "rootfs/bin/sh", "rootfs/etc/openmpi/openmpi-mca-params.conf", "rootfs/etc/ld.so.cache"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(path)"), "\(path) in the bundle")
        }
        // The image carries its own files, byte for byte the binary the tests run.
        let inImage = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/rootfs/usr/local/bin/podgap"))
        #expect(inImage == (try Data(contentsOf: URL(fileURLWithPath: Shell.podgap))))
    }

    @Test func podsUpRebuildsAnImageOfAnotherPodgap() throws {
        try PodsHarness.requireImage()
        // Another build of podgap (one byte longer, still runnable) in the image, as after a debug
        // build's tests: the pods must not run it under this binary.
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let other = folder.appendingPathComponent("podgap").path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: Shell.podgap))
        bytes.append(0)
        try bytes.write(to: URL(fileURLWithPath: other))
        chmod(other, 0o755)
        let entrypoint = Shell.repositoryRoot.appendingPathComponent("containers/entrypoint").path
        let build = try PodsHarness.podgap(["image", "build", "--binary", other, "--entrypoint", entrypoint], timeout: 300)
        try #require(build.status == 0, "\(build.stderr)")

        let job = PodsHarness.uniqueName("ti")
        let up = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "bridge", "--nodes", "1", "--pods-per-node", "1",
                                         "--results", folder.appendingPathComponent("results").path], timeout: 300)
        defer { _ = try? PodsHarness.podgap(["pods", "down", "--name", job]) }
        try #require(up.status == 0, "pods up: \(up.stderr)")
        let state = try JobState.load(Store(), job: job)
        let inPod = try Data(contentsOf: URL(fileURLWithPath: try #require(state.bundle) + "/rootfs/usr/local/bin/podgap"))
        #expect(inPod == (try Data(contentsOf: URL(fileURLWithPath: Shell.podgap))), "the pods run this podgap, rebuilt into the image")
        try PodsHarness.downAndCheck(job)
    }
}
