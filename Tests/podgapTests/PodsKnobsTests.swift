import Records
import Pods
import Foundation
import Testing

/// Kubernetes' knobs on real pods (issue 25): each one's effect read back from the kernel (the
/// cgroup's quota, the links' MTU, the pod's seccomp mode, the transport the ranks used), and
/// said in every record under environment.knobs.
@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct PodsKnobsTests {
    /// Brings `job` up with `arguments`, runs `body`, and takes it down checking nothing is left.
    func withJob(_ job: String, _ arguments: [String], results: URL, _ body: () throws -> Void) throws {
        let up = try PodsHarness.podgap(["pods", "up", "--name", job, "--results", results.path] + arguments)
        defer { try? PodsHarness.downAndCheck(job) }
        try #require(up.status == 0, "pods up \(arguments): \(up.stderr)")
        try body()
    }

    /// Median one-way time at 4 B of `pingpong` over `ranks` of `job`, and the record.
    func pingpong(_ job: String, results: URL, pod: String) throws -> Record {
        let launch = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "90s", "--",
                                             "podgap", "run", "pingpong", "--sizes", "4", "--iterations", "2000", "--warmup", "100",
                                             "--out", "/results/pp.jsonl"])
        try #require(launch.status == 0, "launch: \(launch.stderr)")
        return try #require(try RecordReader.read(results.appendingPathComponent("\(pod)/pp.jsonl").path).first)
    }

    @Test func twoSlotsRunTwoRanksInOnePodOverSharedMemory() throws {
        try PodsHarness.requireImage()
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        // Two ranks in one pod (slotsPerWorker 2), with the seccomp filter off as well.
        let shared = PodsHarness.uniqueName("ks")
        var inPod: Record?
        try withJob(shared, ["--network", "bridge", "--nodes", "1", "--pods-per-node", "1", "--slots", "2", "--seccomp", "unconfined"],
                    results: results) {
            let hostfile = try String(contentsOfFile: "/run/podgap/\(shared)/etc/mpi/hostfile", encoding: .utf8)
            #expect(hostfile == "\(shared)-p0 slots=2\n")
            // Unconfined: no seccomp block in the config, and the kernel says no filter (Seccomp: 0).
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/run/podgap/\(shared)/pods/\(shared)-p0/config.json"))) as? [String: Any]
            #expect((config?["linux"] as? [String: Any])?["seccomp"] == nil)
            let status = try String(contentsOfFile: "/proc/\(try PodsHarness.podPID("\(shared)-p0"))/status", encoding: .utf8)
            #expect(status.contains("Seccomp:\t0"), "the pod runs without a filter")
            // Ranks must fill whole pods: 3 ranks on slots 2 is refused before anything starts.
            let odd = try PodsHarness.podgap(["pods", "launch", "--name", shared, "--np", "3", "--", "podgap", "run", "barrier"])
            #expect(odd.status == 2 && odd.stderr.contains("multiple of the slots"), "\(odd.stderr)")
            inPod = try pingpong(shared, results: results, pod: "\(shared)-p0")
        }
        let record = try #require(inPod)
        #expect(record.verified)
        #expect(record.environment.hostnames == ["\(shared)-p0"], "both ranks in the one pod")
        #expect(record.environment.transport.btl == "self,vader,tcp")
        #expect(record.environment.transport.note?.contains("vader (shared memory) between ranks") == true)
        #expect(record.environment.knobs == Knobs(slots: 2, seccomp: .unconfined))
        #expect(record.environment.container?.seccomp == "unconfined")

        // The same two ranks in two pods go over TCP: the shared memory's latency is far below it.
        let apart = PodsHarness.uniqueName("kt")
        var tcp: Record?
        try withJob(apart, ["--network", "bridge", "--nodes", "1", "--pods-per-node", "2"], results: results) {
            tcp = try pingpong(apart, results: results, pod: "\(apart)-p0")
        }
        let overTCP = try #require(tcp)
        #expect(overTCP.environment.transport.btl == "tcp,self" && overTCP.environment.knobs == nil)
        #expect(record.seconds.p50 < overTCP.seconds.p50 / 2,
                "4 B one way: \(record.seconds.p50 * 1e6) us in one pod, \(overTCP.seconds.p50 * 1e6) us between pods")
    }

    @Test func cpuLimitIsTheCgroupQuotaAndMTUTheLinksAndBothAreRecorded() throws {
        try PodsHarness.requireImage()
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        let job = PodsHarness.uniqueName("kq")
        let names = try JobNames(job)
        try withJob(job, ["--network", "overlay", "--nodes", "2", "--pods-per-node", "1", "--cpu-limit", "0.5", "--mtu", "9000"],
                    results: results) {
            // The quota, as cgroup v1 (cpu.cfs_quota_us) or v2 (cpu.max) holds it.
            let v1 = "/sys/fs/cgroup/cpu\(names.cgroup("\(job)-p0"))"
            let quota = FileManager.default.fileExists(atPath: v1)
                ? try String(contentsOfFile: v1 + "/cpu.cfs_quota_us", encoding: .utf8)
                : try String(contentsOfFile: "/sys/fs/cgroup\(names.cgroup("\(job)-p0"))/cpu.max", encoding: .utf8)
            #expect(quota.hasPrefix("50000"), "half a core per 100 ms period: \(quota)")
            let list = try PodsHarness.podgap(["pods", "list"])
            #expect(list.stdout.contains("knobs=cpu-limit=0.5,mtu=9000"), "\(list.stdout)")
            // Jumbo underlay, the overlay 50 bytes less, in the nodes and in the pods.
            func mtu(_ netns: String, _ device: String) throws -> String {
                let shown = try Shell.run("/usr/sbin/ip", ["-n", netns, "-o", "link", "show", device]).stdout
                return shown.components(separatedBy: " mtu ").dropFirst().first?.split(separator: " ").first.map(String.init) ?? shown
            }
            #expect(try mtu(names.nodeNetns(0), "eth0") == "9000")
            #expect(try mtu(names.nodeNetns(1), "flannel.1") == "8950")
            #expect(try mtu(names.podNetns(0), "eth0") == "8950")
            let launch = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "90s", "--",
                                                 "podgap", "run", "allreduce", "--sizes", "4:64K", "--iterations", "20",
                                                 "--warmup", "2", "--out", "/results/a.jsonl"])
            #expect(launch.status == 0, "launch: \(launch.stderr)")
            let records = try RecordReader.read(results.appendingPathComponent("\(job)-p0/a.jsonl").path)
            #expect(!records.isEmpty)
            for record in records {
                #expect(record.verified, "64 KiB crosses the jumbo overlay intact")
                #expect(record.environment.knobs == Knobs(cpuLimit: 0.5, mtu: 9000))
                #expect(record.environment.cgroup.cpuQuota == 0.5)
            }
        }
    }

    @Test func badKnobsAreOneLineExitTwoAndCreateNothing() throws {
        let job = PodsHarness.uniqueName("kb")
        let cases: [([String], String)] = [
            (["--mtu", "100"], "podgap: --mtu '100' must be a whole number from 1280 to 9000"),
            (["--cpu-limit", "0"], "podgap: --cpu-limit '0' is not a CPU count"),
            (["--cpus", "4096"], "podgap: cpu-limit 4096 is more than this machine's"),
            (["--slots", "0"], "podgap: --slots '0' is not a rank count"),
            (["--seccomp", "strict"], "podgap: --seccomp 'strict' is unknown; allowed: default, unconfined"),
            (["--no-containers", "--network", "host", "--nodes", "2", "--slots", "2"], "podgap: --no-containers makes no containers, so knobs"),
        ]
        for (arguments, message) in cases {
            let network = arguments.contains("--network") ? [] : ["--network", "bridge"]
            let up = try PodsHarness.podgap(["pods", "up", "--name", job] + network + arguments)
            #expect(up.status == 2, "\(arguments): \(up.stderr)")
            #expect(up.stderr.hasPrefix(message), "\(arguments): \(up.stderr)")
            #expect(up.stderr.split(separator: "\n").count == 1)
            #expect(try PodsHarness.leftovers(job) == [], "nothing made for \(arguments)")
        }
    }
}
