import Records
import Pods
import Foundation
import Testing

/// A real registry (docker-registry in a namespace of its own) and pods that pull from it. Each
/// test runs with a run root of its own, so its registry's namespace (named from the run root)
/// and its jobs' state never meet anyone else's; the image store is the shared one.
extension PodsHarness {
    static var canRunRegistry: Bool {
        canRunPods && ["/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/umoci"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

@Suite(.serialized, .enabled(if: PodsHarness.canRunRegistry, "needs root, runc, docker-registry, skopeo and umoci"))
struct RegistryTests {
    /// A run root, a registry folder and the environment that points podgap at the run root.
    struct Cluster {
        let root: URL
        var runRoot: String { root.appendingPathComponent("run").path }
        var dir: String { root.appendingPathComponent("registry").path }
        var environment: [String: String] { Shell.mpiEnvironment.merging(["PODGAP_RUN_ROOT": runRoot]) { $1 } }
        var registry: Registry { Registry(store: Store(environment: ["PODGAP_RUN_ROOT": runRoot])) }

        init() throws { root = try Shell.temporaryFolder() }

        func podgap(_ arguments: [String], extra: [String: String] = [:], timeout: Double = 180) throws -> Finished {
            try PodsHarness.podgap(arguments, timeout: timeout, environment: environment.merging(extra) { $1 })
        }

        /// The registry up, the pod image built and pushed.
        func upWithImage() throws {
            try PodsHarness.requireImage()
            let up = try podgap(["registry", "up", "--dir", dir])
            try #require(up.status == 0, "registry up: \(up.stderr)")
            let push = try podgap(["image", "push"])
            try #require(push.status == 0, "image push: \(push.stderr)")
        }

        /// Node 0's snapshot folder, and the name its snapshots of the pushed image start with.
        func snapshotsOfPushedImage() throws -> (folder: String, name: String) {
            let pushed = try #require(try state().pushed["latest"])
            return (dir + "/nodes/n0/snapshots", String(pushed.dropFirst("sha256:".count)))
        }

        func state() throws -> Registry.State {
            let data = try Data(contentsOf: URL(fileURLWithPath: registry.folder + "/state.json"))
            return try JSONDecoder().decode(Registry.State.self, from: data)
        }

        /// Takes the registry down and checks that its process, namespaces, links, leases, node
        /// stores and state are gone; a second down succeeds too.
        func downAndCheck(pid: Int32?) throws {
            let down = try podgap(["registry", "down"])
            #expect(down.status == 0, "\(down.stderr)")
            if let pid { #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)/cmdline") || !isRegistry(pid), "registry \(pid) still runs") }
            let netns = try Shell.run("/usr/sbin/ip", ["netns", "list"]).stdout
            #expect(!netns.contains(registry.netns), "namespace left: \(netns)")
            let links = try Shell.run("/usr/sbin/ip", ["-o", "link"]).stdout
            #expect(!links.contains(registry.netns), "link left: \(links)")
            #expect(!FileManager.default.fileExists(atPath: registry.folder), "state folder left")
            #expect(!FileManager.default.fileExists(atPath: dir + "/nodes"), "node stores left")
            let again = try podgap(["registry", "down"])
            #expect(again.status == 0 && again.stdout.contains("removed 0 item"), "down is idempotent: \(again.stdout)")
        }

        func isRegistry(_ pid: Int32) -> Bool {
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return command.contains("docker-registry") && !stat.contains(") Z ")
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    /// The blobs of `layout` each hash to their name, as the test reads them itself.
    func blobsVerify(_ layout: String) throws -> Int {
        let folder = layout + "/blobs/sha256"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        for name in names {
            let sum = try Shell.run("/usr/bin/sha256sum", [folder + "/" + name]).stdout
            #expect(sum.hasPrefix(name), "\(name) hashes to \(sum.prefix(64))")
        }
        return names.count
    }

    @Test func registryUpAnswersAndDownLeavesNothing() throws {
        let cluster = try Cluster()
        defer { _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        let up = try cluster.podgap(["registry", "up", "--dir", cluster.dir])
        try #require(up.status == 0, "registry up: \(up.stderr)")
        let state = try cluster.state()
        #expect(cluster.isRegistry(state.pid))
        #expect(up.stdout.contains("198.18.128.1:5000"))
        // The registry answers /v2/ on the underlay, from a namespace other than its own.
        let answer = try Shell.run("/usr/bin/nsenter", ["--net=/var/run/netns/\(state.netns)", "/bin/bash", "-c",
                                                        "exec 3<>/dev/tcp/198.18.128.1/5000; printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' >&3; head -n 1 <&3"])
        #expect(answer.stdout.contains("200"), "\(answer.stdout) \(answer.stderr)")
        // A second up is refused while one runs.
        let twice = try cluster.podgap(["registry", "up", "--dir", cluster.dir])
        #expect(twice.status == 2 && twice.stderr.contains("already up"), "\(twice.stderr)")
        try cluster.downAndCheck(pid: state.pid)
    }

    @Test func pushThenColdAndWarmPullsRunPodsFromTheNodesBundles() throws {
        try PodsHarness.requireImage()
        let cluster = try Cluster()
        defer { _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        try #require(try cluster.podgap(["registry", "up", "--dir", cluster.dir]).status == 0)
        let push = try cluster.podgap(["image", "push"])
        try #require(push.status == 0, "push: \(push.stderr)")
        let pushed = try #require(try cluster.state().pushed["latest"])
        #expect(push.stdout.contains(pushed))

        for (policy, pulls) in [("always", true), ("if-not-present", false)] {
            let job = PodsHarness.uniqueName("rp")
            let results = cluster.root.appendingPathComponent(job).path
            let up = try cluster.podgap(["pods", "up", "--name", job, "--network", "host", "--nodes", "2", "--pods-per-node", "1",
                                         "--pull", policy, "--results", results])
            defer { _ = try? cluster.podgap(["pods", "down", "--name", job]) }
            try #require(up.status == 0, "pods up --pull \(policy): \(up.stderr)")
            let stateFile = "\(cluster.runRoot)/\(job)/state.json"
            let state = try JSONDecoder().decode(JobState.self, from: Data(contentsOf: URL(fileURLWithPath: stateFile)))
            let nodePulls = try #require(state.pulls)
            #expect(nodePulls.count == 2)
            for pull in nodePulls {
                #expect(pull.digest == pushed, "node n\(pull.node) got \(pull.digest), \(pushed) was pushed")
                #expect(pull.pulled == pulls && (pull.bytes > 1_000_000) == pulls, "\(policy): \(pull)")
                // The node's snapshot of the image (its current one, linked): made by the cold pull, found by the warm one.
                let link = cluster.dir + "/nodes/n\(pull.node)/snapshots/" + pushed.dropFirst("sha256:".count)
                #expect(pull.bundle == URL(fileURLWithPath: link).resolvingSymlinksInPath().path, "\(pull.bundle)")
                #expect(pull.snapshot == (pulls ? .made : .reused) && (pull.unpackedBytes ?? -1 > 1_000_000) == pulls, "\(policy): \(pull)")
                // The node's store holds the image, every blob hashing to its name.
                #expect(try blobsVerify(cluster.dir + "/nodes/n\(pull.node)/oci") >= 3)
            }
            // Each pod runs from its node's bundle, read-only.
            for pod in state.pods {
                let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(cluster.runRoot)/\(job)/pods/\(pod.name)/config.json"))) as? [String: Any]
                let root = config?["root"] as? [String: Any]
                #expect(root?["path"] as? String == nodePulls[pod.node].bundle + "/rootfs")
                #expect(root?["readonly"] as? Bool == true)
            }
            let launch = try cluster.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "90s", "--",
                                             "podgap", "run", "allreduce", "--sizes", "4:4", "--iterations", "5", "--out", "/results/a.jsonl"])
            #expect(launch.status == 0, "launch on pulled pods: \(launch.stderr.suffix(400))")
            let down = try cluster.podgap(["pods", "down", "--name", job])
            #expect(down.status == 0)
            #expect(!FileManager.default.fileExists(atPath: "\(cluster.runRoot)/\(job)"), "the job's state goes with it")
            for pull in nodePulls {
                #expect(try FileManager.default.contentsOfDirectory(atPath: pull.bundle + "/users") == [], "the job's mark in its snapshot goes with it")
            }
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: cluster.registry.folder + "/leases")) ?? []) == [], "leases left")
        }
        try cluster.downAndCheck(pid: try cluster.state().pid)
    }

    /// A folder as the test sees it: its inode and modification time. Unchanged, nobody wrote into it or made it again.
    struct Identity: Equatable {
        var inode: UInt64
        var modified: Int
    }

    static func identity(_ path: String) -> Identity? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Identity(inode: UInt64(info.st_ino), modified: info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec)
    }

    /// Jobs of one node each on `cluster`, brought up with `pods up --pull` and taken down by the test (or its end).
    final class Jobs {
        let cluster: Cluster
        var up: [String] = []
        init(_ cluster: Cluster) { self.cluster = cluster }

        func start(_ policy: String) throws -> (job: String, pull: PulledImage, state: JobState) {
            let job = PodsHarness.uniqueName("rs")
            up.append(job)
            let result = try cluster.podgap(["pods", "up", "--name", job, "--network", "host", "--nodes", "1", "--pods-per-node", "1",
                                             "--pull", policy, "--results", cluster.root.appendingPathComponent(job).path])
            try #require(result.status == 0, "pods up --pull \(policy): \(result.stderr)")
            let state = try JSONDecoder().decode(JobState.self, from: Data(contentsOf: URL(fileURLWithPath: "\(cluster.runRoot)/\(job)/state.json")))
            return (job, try #require(state.pulls?.first), state)
        }

        func stop(_ job: String) throws {
            let down = try cluster.podgap(["pods", "down", "--name", job])
            #expect(down.status == 0, "pods down: \(down.stderr)")
            up.removeAll { $0 == job }
        }

        func stopAll() { for job in up { _ = try? cluster.podgap(["pods", "down", "--name", job]) } }
    }

    /// A warm node runs its pods from the snapshot a former job made: no unpack (the state says
    /// reused, 0 bytes unpacked, and the snapshot's folders keep their inodes and times). A pod
    /// cannot write into it (its rootfs is read-only). A cold node makes a new snapshot while the
    /// old one, still in use, stays where it is, its pods launching on; the old one goes with its
    /// last user's `pods down`, and after every job's down the store holds the layout and the new
    /// snapshot (and its link) only.
    @Test func aWarmNodeReusesItsSnapshotWhichPodsCannotWrite() throws {
        let cluster = try Cluster()
        let jobs = Jobs(cluster)
        defer { jobs.stopAll(); _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        try cluster.upWithImage()
        let (snapshots, name) = try cluster.snapshotsOfPushedImage()
        let first = try jobs.start("always")
        let snapshot = first.pull.bundle
        #expect(first.pull.snapshot == .made && snapshot.hasPrefix("\(snapshots)/\(name)-") && (first.pull.unpackedBytes ?? 0) > 1_000_000, "\(first.pull)")
        let watched = [snapshot, snapshot + "/rootfs", snapshot + "/rootfs/etc", snapshot + "/config.json"]
        let made = watched.map(Self.identity)
        #expect(made.allSatisfy { $0 != nil })
        // Inside the pod the rootfs is read-only: the write fails there and leaves the snapshot as it was.
        let pod = try #require(first.state.pods.first).name
        let write = try Shell.run("/usr/sbin/runc", ["exec", pod, "/bin/sh", "-c", "echo x > /etc/podgap-write-probe"])
        #expect(write.status != 0 && write.stderr.contains("Read-only file system"), "a pod wrote its rootfs: \(write.status) \(write.stderr)")
        #expect(!FileManager.default.fileExists(atPath: snapshot + "/rootfs/etc/podgap-write-probe"))

        let warm = try jobs.start("if-not-present")
        #expect(warm.pull.snapshot == .reused && warm.pull.bundle == snapshot && warm.pull.unpackedBytes == 0 && !warm.pull.pulled, "\(warm.pull)")
        #expect(watched.map(Self.identity) == made, "the warm job unpacked or changed the snapshot")
        let unpacked = try #require(warm.state.phases?.first { $0.phase == .unpacked }).seconds
        #expect(unpacked < 0.1, "a reused snapshot took \(unpacked) s to unpack")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: snapshot + "/users")) == [first.job, warm.job])

        // A cold job while both run from the snapshot: its own is made anew, theirs stays where it is (runc exec enters it by its path).
        let cold = try jobs.start("always")
        #expect(cold.pull.snapshot == .made && cold.pull.bundle != snapshot && cold.pull.bundle.hasPrefix("\(snapshots)/\(name)-"), "\(cold.pull)")
        #expect(watched.map(Self.identity) == made, "the snapshot in use was moved or changed")
        let old = snapshot
        let launch = try cluster.podgap(["pods", "launch", "--name", warm.job, "--np", "1", "--timeout", "60s", "--",
                                         "podgap", "run", "allreduce", "--sizes", "4:4", "--iterations", "3", "--out", "/results/a.jsonl"])
        #expect(launch.status == 0, "pods on the retired snapshot run on: \(launch.stderr.suffix(400))")
        try jobs.stop(first.job)
        #expect(FileManager.default.fileExists(atPath: old), "removed while the warm job still runs from it")
        try jobs.stop(warm.job)
        #expect(!FileManager.default.fileExists(atPath: old), "the old snapshot outlived its last user")
        try jobs.stop(cold.job)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: cluster.dir + "/nodes/n0")) == [".lock", "oci", "snapshots"])
        let current = URL(fileURLWithPath: cold.pull.bundle).lastPathComponent
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: snapshots)) == [name, current])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(snapshots)/\(name)") == current)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cold.pull.bundle + "/users") == [])
        for job in [first.job, warm.job, cold.job] { try assertNothingOfJobLeft(job, cluster: cluster, storeKept: true) }
        try cluster.downAndCheck(pid: try cluster.state().pid)
    }

    /// `registry down` while a job runs from its node's snapshot: the snapshot stays (its pods
    /// launch on) until the job's `pods down`, which then removes the rest of the store.
    @Test func registryDownKeepsASnapshotInUseUntilItsJobIsDown() throws {
        let cluster = try Cluster()
        let jobs = Jobs(cluster)
        defer { jobs.stopAll(); _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        try cluster.upWithImage()
        let running = try jobs.start("if-not-present")
        let registryDown = try cluster.podgap(["registry", "down"])
        #expect(registryDown.status == 0 && registryDown.stdout.contains("in use by \(running.job)"), "\(registryDown.stdout) \(registryDown.stderr)")
        let store = cluster.dir + "/nodes/n0"
        #expect(!FileManager.default.fileExists(atPath: store + "/oci"), "the layout outlived registry down")
        let kept = try FileManager.default.contentsOfDirectory(atPath: store + "/snapshots")
        #expect(kept == [URL(fileURLWithPath: running.pull.bundle).lastPathComponent], "only the snapshot in use, unlinked: \(kept)")
        let launch = try cluster.podgap(["pods", "launch", "--name", running.job, "--np", "1", "--timeout", "60s", "--",
                                         "podgap", "run", "allreduce", "--sizes", "4:4", "--iterations", "3", "--out", "/results/a.jsonl"])
        #expect(launch.status == 0, "pods on the kept snapshot: \(launch.stderr.suffix(400))")
        try jobs.stop(running.job)
        #expect(!FileManager.default.fileExists(atPath: cluster.dir + "/nodes"), "node stores left after the last job's down")
        try assertNothingOfJobLeft(running.job, cluster: cluster, storeKept: true)
    }

    /// A snapshot podgap never finished is not trusted: a temporary folder a killed podgap left
    /// (here a whole unpacked image under the temporary name: killed just before its rename) is
    /// removed and the snapshot made anew; so is a current one that lacks umoci's metadata.
    @Test func aHalfMadeSnapshotIsNotTrusted() throws {
        let cluster = try Cluster()
        let jobs = Jobs(cluster)
        defer { jobs.stopAll(); _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        try cluster.upWithImage()
        let (snapshots, name) = try cluster.snapshotsOfPushedImage()
        let first = try jobs.start("always")
        try jobs.stop(first.job)

        // A file of the test's in each untrusted snapshot tells it apart from a snapshot made anew
        // (whose folder may get the freed inode back).
        let temporary = "\(snapshots)/new-\(name)-99999"
        try #require(rename(first.pull.bundle, temporary) == 0)
        unlink("\(snapshots)/\(name)")
        try #require(FileManager.default.createFile(atPath: temporary + "/rootfs/untrusted", contents: nil))
        let warm = try jobs.start("if-not-present")
        #expect(!warm.pull.pulled && warm.pull.snapshot == .made && (warm.pull.unpackedBytes ?? 0) > 1_000_000, "\(warm.pull)")
        #expect(!FileManager.default.fileExists(atPath: temporary), "the half-made snapshot was left")
        #expect(!FileManager.default.fileExists(atPath: warm.pull.bundle + "/rootfs/untrusted"), "the half-made snapshot was used")
        try jobs.stop(warm.job)

        try FileManager.default.removeItem(atPath: warm.pull.bundle + "/umoci.json")
        try #require(FileManager.default.createFile(atPath: warm.pull.bundle + "/rootfs/untrusted", contents: nil))
        let again = try jobs.start("if-not-present")
        #expect(again.pull.snapshot == .made && !FileManager.default.fileExists(atPath: again.pull.bundle + "/rootfs/untrusted"), "\(again.pull)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: snapshots)) == [name, URL(fileURLWithPath: again.pull.bundle).lastPathComponent],
                "an untrusted snapshot was left")
        let launch = try cluster.podgap(["pods", "launch", "--name", again.job, "--np", "1", "--timeout", "60s", "--",
                                         "podgap", "run", "allreduce", "--sizes", "4:4", "--iterations", "3", "--out", "/results/a.jsonl"])
        #expect(launch.status == 0, "pods on the remade snapshot: \(launch.stderr.suffix(400))")
        try jobs.stop(again.job)
        try cluster.downAndCheck(pid: try cluster.state().pid)
    }

    @Test func aCorruptBlobIsRefusedInOneLineAndLeavesNothing() throws {
        let cluster = try Cluster()
        defer { _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        try cluster.upWithImage()
        // The largest blob is a layer: one byte changed in its middle.
        let blobs = cluster.dir + "/storage/docker/registry/v2/blobs/sha256"
        var largest = (path: "", size: 0)
        for path in FileManager.default.enumerator(atPath: blobs)?.allObjects as? [String] ?? [] where path.hasSuffix("/data") {
            let size = ((try? FileManager.default.attributesOfItem(atPath: "\(blobs)/\(path)")[.size]) as? Int) ?? 0
            if size > largest.size { largest = ("\(blobs)/\(path)", size) }
        }
        let handle = try #require(FileHandle(forUpdatingAtPath: largest.path))
        handle.seek(toFileOffset: UInt64(largest.size / 2))
        let byte = handle.readData(ofLength: 1)
        handle.seek(toFileOffset: UInt64(largest.size / 2))
        handle.write(Data([byte[0] ^ 0xff]))
        try handle.close()

        let job = PodsHarness.uniqueName("rc")
        let up = try cluster.podgap(["pods", "up", "--name", job, "--network", "bridge", "--nodes", "1", "--pods-per-node", "1",
                                     "--pull", "always", "--results", cluster.root.appendingPathComponent(job).path])
        defer { _ = try? cluster.podgap(["pods", "down", "--name", job]) }
        #expect(up.status != 0)
        let lines = up.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("registry 198.18.128.1:5000") && lines[0].contains("phase pull"), "stderr: \(up.stderr)")
        try assertNothingOfJobLeft(job, cluster: cluster)
        try cluster.downAndCheck(pid: try cluster.state().pid)
    }

    @Test func aRegistryThatIsDownOrStalledIsRefusedInOneLine() throws {
        try PodsHarness.requireImage()
        let cluster = try Cluster()
        defer { _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        let job = PodsHarness.uniqueName("rd")
        let arguments = ["pods", "up", "--name", job, "--network", "host", "--nodes", "1", "--pods-per-node", "1",
                         "--pull", "always", "--results", cluster.root.appendingPathComponent(job).path]
        defer { _ = try? cluster.podgap(["pods", "down", "--name", job]) }
        // No registry at all: bad input, before anything is made.
        let none = try cluster.podgap(arguments)
        #expect(none.status == 2 && none.stderr.split(separator: "\n").count == 1 && none.stderr.contains("registry 198.18.128.1:5000"),
                "\(none.status) \(none.stderr)")
        try assertNothingOfJobLeft(job, cluster: cluster)
        // A registry that stops answering (SIGSTOP): the pull ends at its bound, naming the phase.
        try #require(try cluster.podgap(["registry", "up", "--dir", cluster.dir]).status == 0)
        try #require(try cluster.podgap(["image", "push"]).status == 0)
        let pid = try cluster.state().pid
        kill(pid, SIGSTOP)
        let started = Date()
        let stalled = try cluster.podgap(arguments, extra: ["PODGAP_PULL_TIMEOUT": "3"])
        kill(pid, SIGCONT)
        #expect(Date().timeIntervalSince(started) < 30, "the stall was bounded")
        #expect(stalled.status != 0 && stalled.stderr.split(separator: "\n").count == 1 && stalled.stderr.contains("phase pull"),
                "\(stalled.status) \(stalled.stderr)")
        try assertNothingOfJobLeft(job, cluster: cluster)
        try cluster.downAndCheck(pid: pid)
    }

    /// `run startup --pull always` (cold nodes) and native mpirun: each launch's record carries
    /// its phases, in the catalog's order, the pull's bytes, and phases that add up (within 5%)
    /// to the time the launch measured from submit to every rank past MPI_Init.
    @Test func startupPhasesAddUpLaunchByLaunch() throws {
        let cluster = try Cluster()
        defer { _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        try cluster.upWithImage()
        let pods = cluster.root.appendingPathComponent("pods.jsonl").path
        let native = cluster.root.appendingPathComponent("native.jsonl").path
        let cold = try cluster.podgap(["run", "startup", "--network", "bridge", "--np", "2", "--trials", "2", "--pull", "always", "--out", pods],
                                      timeout: 300)
        try #require(cold.status == 0, "startup --pull always: \(cold.stderr.suffix(400))")
        let plain = try cluster.podgap(["run", "startup", "--np", "2", "--trials", "2", "--out", native])
        try #require(plain.status == 0, "native startup: \(plain.stderr.suffix(400))")
        for (file, expected) in [(pods, StartupPhase.pods), (native, StartupPhase.native)] {
            let records = try RecordReader.read(file)
            #expect(records.count == 2)
            // Up to every rank past MPI_Init the phases cover what `seconds` measured in one piece.
            StartupPhaseChecks.expectAddUp(records, expected)
            if file == pods {
                // A cold node pulls the whole image: two nodes, each at least the layer's megabytes.
                #expect(records.allSatisfy { ($0.throughput[StartupPhase.pulledBytesKey] ?? 0) > 2_000_000 })
                #expect(records.allSatisfy { $0.environment.knobs?.pull == .always }, "the knob is recorded")
            }
        }
        try cluster.downAndCheck(pid: try cluster.state().pid)
    }

    /// A suite pays a cluster's start every round: `pull: always` pulls cold (an emptied store)
    /// in each launch, `if-not-present` pulls only in its first (its stores its own, so the cold
    /// environment's emptying never reaches them), and each launch's startup record carries its
    /// phases, which add up (within 5%) launch by launch. After the suite nothing of its jobs is
    /// left (namespaces, containers, job state, node stores), and after `registry down` nothing of
    /// the registry either.
    @Test func aSuitePaysAColdPullEveryRoundWithPhasesThatAddUp() throws {
        let cluster = try Cluster()
        defer { _ = try? cluster.podgap(["registry", "down"]); cluster.remove() }
        try cluster.upWithImage()
        func hostObjects() throws -> Set<String> {
            var lines = try Shell.run("/usr/sbin/ip", ["netns", "list"]).stdout
            lines += try Shell.run("/usr/sbin/runc", ["list", "--quiet"]).stdout
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/crun") { lines += try Shell.run("/usr/bin/crun", ["list", "--quiet"]).stdout }
            return Set(lines.split(separator: "\n").map { String($0.split(separator: " ").first ?? "") })
        }
        let before = try hostObjects()
        let file = cluster.root.appendingPathComponent("cold.yaml")
        try """
        name: cold
        rounds: 2
        ranks: 2
        seed: 3
        timeout: 2m
        startup: phases
        baseline: native-shm
        environments:
          - native-shm
          - pod-host: {label: cold, pull: always}
          - pod-host: {label: warm, pull: if-not-present}
        """.write(to: file, atomically: true, encoding: .utf8)
        let results = cluster.root.appendingPathComponent("results")
        let suite = try cluster.podgap(["suite", file.path, "--results", results.path], timeout: 400)
        try #require(suite.status == 0, "suite: \(suite.stderr.suffix(800))")
        let run = results.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: results.path).first))

        for label in ["native-shm", "cold", "warm"] {
            let records = try RecordReader.read(run.appendingPathComponent("\(label).jsonl").path).filter { $0.kernel == "startup" }
            #expect(records.map(\.round) == [1, 2], "\(label): a startup record per round")
            let expected = label == "native-shm" ? StartupPhase.native : StartupPhase.pods
            for record in records {
                #expect(Set(record.phases.keys) == Set(expected.map(\.rawValue)), "\(label): \(record.phases.keys.sorted())")
                #expect(record.verified, "\(label): \(record.verification)")
                let toInit = expected.filter { $0 != .firstCollective }.compactMap { record.phases[$0.rawValue]?.p50 }.reduce(0, +)
                #expect(abs(toInit - record.seconds.p50) <= StartupPhase.sumTolerance * record.seconds.p50,
                        "\(label) round \(record.round ?? 0): \(toInit) s of phases against \(record.seconds.p50) s measured")
            }
            let bytes = records.map { $0.throughput[StartupPhase.pulledBytesKey] ?? -1 }
            let unpacked = records.map { $0.throughput[StartupPhase.unpackedBytesKey] ?? -1 }
            switch label {
            case "cold":
                #expect(bytes.allSatisfy { $0 > 2_000_000 }, "a cold pull in every round: \(bytes)")
                #expect(unpacked == bytes, "a cold node unpacks what it pulled: \(unpacked)")
            case "warm":
                #expect(bytes.first ?? 0 > 2_000_000 && bytes.last == 0, "warm pulls once, then finds the image: \(bytes)")
                #expect(unpacked.first ?? 0 > 2_000_000 && unpacked.last == 0, "warm unpacks once, then finds its snapshots: \(unpacked)")
                #expect((records.last?.phases["unpacked"]?.p50 ?? 1) < 0.1, "a reused snapshot takes no unpack: \(records.last?.phases ?? [:])")
            default: #expect(bytes == [-1, -1] && unpacked == [-1, -1])
            }
        }
        let report = try String(contentsOf: run.appendingPathComponent("report.txt"), encoding: .utf8)
        #expect(report.contains("STARTUP PHASES") && report.contains("2 paired"), "\(report.suffix(1500))")

        let after = try hostObjects()
        #expect(after == before, "left on the host: \(after.subtracting(before))")
        let jobs = try FileManager.default.contentsOfDirectory(atPath: cluster.runRoot).filter { $0 != "registry.d" }
        #expect(jobs == [], "job state left: \(jobs)")
        let stores = (try? FileManager.default.contentsOfDirectory(atPath: cluster.dir + "/nodes")) ?? []
        #expect(stores == [], "node stores left: \(stores)")
        try cluster.downAndCheck(pid: try cluster.state().pid)
    }

    /// Nothing of `job`: containers, namespaces, links, cgroups, its state (bundles), its leases,
    /// and no half-pulled layout in a node store.
    /// `storeKept`: the store may hold what a successful pull left (the layout and its snapshot).
    func assertNothingOfJobLeft(_ job: String, cluster: Cluster, storeKept: Bool = false) throws {
        #expect(try PodsHarness.leftovers(job) == [], "left behind by \(job)")
        #expect(!FileManager.default.fileExists(atPath: "\(cluster.runRoot)/\(job)"), "job state left")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cluster.registry.folder + "/leases")) ?? []) == [], "leases left")
        guard !storeKept else { return }
        let store = cluster.dir + "/nodes/n0"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []
        #expect(entries.filter { $0 != ".lock" } == [], "node store holds \(entries)")
    }
}
