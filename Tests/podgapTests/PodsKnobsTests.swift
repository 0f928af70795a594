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
        try PodsHarness.requireImage()
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

    /// crun (the `runtime` knob) runs the same pods under the same confinement as runc: the CPU
    /// limit is the cgroup's quota and really throttles (cpu.stat), the confinement probe is refused
    /// everything, and the records say crun.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/crun"), "crun is not installed (scripts/setup)"))
    func crunPodsAreConfinedAsRuncPodsAndSaySoInTheirRecords() throws {
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        let job = PodsHarness.uniqueName("kc")
        let names = try JobNames(job)
        try withJob(job, ["--network", "bridge", "--nodes", "1", "--pods-per-node", "2", "--runtime", "crun", "--cpu-limit", "0.5",
                                  // A pids limit a fork bomb reaches at half a core within the probe's 20 s.
                                  "--pids", "128"],
                    results: results) {
            let crun = try Shell.run("/usr/bin/crun", ["list", "--quiet"]).stdout.split(separator: "\n").map(String.init)
            #expect(crun.contains("\(job)-p0") && crun.contains("\(job)-p1"), "crun runs the pods: \(crun)")
            #expect(!(try Shell.run("/usr/sbin/runc", ["list", "--quiet"]).stdout.contains(job)), "runc does not")
            let cpu = "/sys/fs/cgroup/cpu\(names.cgroup("\(job)-p0"))"
            let v1 = FileManager.default.fileExists(atPath: cpu)
            let quota = v1 ? try String(contentsOfFile: cpu + "/cpu.cfs_quota_us", encoding: .utf8)
                : try String(contentsOfFile: "/sys/fs/cgroup\(names.cgroup("\(job)-p0"))/cpu.max", encoding: .utf8)
            #expect(quota.hasPrefix("50000"), "half a core per 100 ms period: \(quota)")
            let pids = "/sys/fs/cgroup/pids\(names.cgroup("\(job)-p0"))/pids.max"
            if v1 { #expect(try String(contentsOfFile: pids, encoding: .utf8) == "128\n") }
            // Busy-polling ranks (one per pod on two cores) use all the quota they get.
            let launch = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "100s", "--",
                                                 "podgap", "run", "allreduce", "--sizes", "4:64K", "--iterations", "30",
                                                 "--warmup", "3", "--out", "/results/a.jsonl"])
            #expect(launch.status == 0, "launch: \(launch.stderr)")
            // The ranks ran throttled: the pod's cgroup counted periods where the quota ran out.
            let stat = try String(contentsOfFile: (v1 ? cpu : "/sys/fs/cgroup\(names.cgroup("\(job)-p0"))") + "/cpu.stat", encoding: .utf8)
            let throttled = stat.split(separator: "\n").first { $0.hasPrefix("nr_throttled ") }.flatMap { Int($0.split(separator: " ")[1]) }
            #expect((throttled ?? 0) > 0, "cpu.stat: \(stat)")
            let records = try RecordReader.read(results.appendingPathComponent("\(job)-p0/a.jsonl").path)
            #expect(records.count == 15)
            for record in records {
                #expect(record.verified)
                #expect(record.environment.knobs == Knobs(cpuLimit: 0.5, runtime: .crun))
                #expect(record.environment.container?.runtime == "crun")
                #expect(record.environment.container?.version == (try Runtime(.crun)).version())
                #expect(record.environment.cgroup.cpuQuota == 0.5)
            }
            // After the launch (its fork bomb would take the pod's quota from the ranks).
            let probe = try PodsHarness.podgap(["pods", "probe", "--name", job])
            #expect(probe.status == 0, "every escape refused under crun too: \(probe.stdout) \(probe.stderr)")
        }
    }

    /// A `hugepages` pod's ranks map their message buffers from the pod's own hugetlbfs: the host's
    /// free huge pages drop while they run and come back after, the records say every buffer was a
    /// huge page, and the sums are right. Pages are reserved for the test and given back.
    @Test func hugepagesPodsMapTheirRanksBuffersFromHugePages() throws {
        let knob = "/proc/sys/vm/nr_hugepages"
        let old = try String(contentsOfFile: knob, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try "\((Int(old) ?? 0) + 16)\n".write(toFile: knob, atomically: false, encoding: .utf8)
        defer { try? "\(old)\n".write(toFile: knob, atomically: false, encoding: .utf8) }
        let free = { () -> Int in
            let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
            return meminfo.split(separator: "\n").first { $0.hasPrefix("HugePages_Free:") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
        }
        let freeBefore = free()
        try #require(freeBefore >= 16, "16 huge pages reserved")
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        let job = PodsHarness.uniqueName("kh")
        try withJob(job, ["--network", "bridge", "--nodes", "1", "--pods-per-node", "2", "--hugepages"], results: results) {
            let config = try String(contentsOfFile: "/run/podgap/\(job)/pods/\(job)-p0/config.json", encoding: .utf8)
            #expect(config.contains("\"type\" : \"hugetlbfs\"") && config.contains("size=\(freeBefore / 2 * 2 << 20)"))
            // The lowest free count while the ranks run, read every few milliseconds (bounded by the launch).
            let lowest = Locked(freeBefore)
            let done = Locked(false)
            let sampler = Thread {
                while !done.value { lowest.update { $0 = min($0, free()) }; usleep(2000) }
            }
            sampler.start()
            let launch = try PodsHarness.podgap(["pods", "launch", "--name", job, "--np", "2", "--timeout", "90s", "--",
                                                 "podgap", "run", "allreduce", "--sizes", "4:1M", "--iterations", "200",
                                                 "--warmup", "10", "--out", "/results/a.jsonl"])
            done.value = true
            usleep(10_000)
            #expect(launch.status == 0, "launch: \(launch.stderr)")
            #expect(!launch.stderr.contains("hugepages:"), "no rank fell back: \(launch.stderr)")
            // Two ranks, a 1 MiB source and result each: four 2 MiB pages.
            #expect(lowest.value <= freeBefore - 4, "free huge pages: \(freeBefore) before, lowest \(lowest.value) during the launch")
            #expect(free() == freeBefore, "given back when the ranks ended")
            let records = try RecordReader.read(results.appendingPathComponent("\(job)-p0/a.jsonl").path)
            #expect(records.count == 19)
            for record in records {
                #expect(record.verified, "the sums over huge pages are right")
                #expect(record.environment.knobs == Knobs(hugepages: true))
                #expect(record.environment.hugePages == HugePageBuffers(folder: "/dev/hugepages", huge: 4, ordinary: 0, pageBytes: 2 << 20))
            }
        }
    }

    @Test func badKnobsAreOneLineExitTwoAndCreateNothing() throws {
        let job = PodsHarness.uniqueName("kb")
        var cases: [([String], String)] = [
            (["--runtime", "kata"], "podgap: --runtime 'kata' is unknown; allowed: runc, crun"),
            (["--mtu", "100"], "podgap: --mtu '100' must be a whole number from 1280 to 9000"),
            (["--cpu-limit", "0"], "podgap: --cpu-limit '0' is not a CPU count"),
            (["--cpus", "4096"], "podgap: cpu-limit 4096 is more than this machine's"),
            (["--slots", "0"], "podgap: --slots '0' is not a rank count"),
            (["--seccomp", "strict"], "podgap: --seccomp 'strict' is unknown; allowed: default, unconfined"),
            (["--no-containers", "--network", "host", "--nodes", "2", "--slots", "2"], "podgap: --no-containers makes no containers, so knobs"),
            // crun absent (PODGAP_CRUN names where it would be).
            (["--runtime", "crun"], "podgap: PODGAP_CRUN=/nonexistent/crun is not an executable crun: install crun (scripts/setup)"),
        ]
        if HugePages.current()?.total == 0 {
            cases.append((["--hugepages"], "podgap: hugepages: this host has no huge pages reserved (HugePages_Total 0, Hugepagesize"))
        }
        for (arguments, message) in cases {
            let network = arguments.contains("--network") ? [] : ["--network", "bridge"]
            let up = try PodsHarness.podgap(["pods", "up", "--name", job] + network + arguments,
                                            environment: Shell.mpiEnvironment.merging(["PODGAP_CRUN": "/nonexistent/crun"]) { $1 })
            #expect(up.status == 2, "\(arguments): \(up.stderr)")
            #expect(up.stderr.hasPrefix(message), "\(arguments): \(up.stderr)")
            #expect(up.stderr.split(separator: "\n").count == 1)
            #expect(try PodsHarness.leftovers(job) == [], "nothing made for \(arguments)")
        }
        // A suite naming crun where there is none: its FILE:LINE, at --dry-run too, nothing run.
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("crun.yaml").path
        try "environments:\n  - native-2node\n  - pod-overlay:\n      runtime: crun\nkernels: [allreduce]\n".write(toFile: file, atomically: true, encoding: .utf8)
        for arguments in [[file, "--dry-run"], [file, "--results", folder.appendingPathComponent("results").path]] {
            let suite = try PodsHarness.podgap(["suite"] + arguments, environment: Shell.mpiEnvironment.merging(["PODGAP_CRUN": "/nonexistent/crun"]) { $1 })
            #expect(suite.status == 2, "\(suite.stderr)")
            #expect(suite.stderr == "podgap: \(file):4: environments[1].pod-overlay.runtime: PODGAP_CRUN=/nonexistent/crun is not an executable crun: install crun (scripts/setup) or fix the path\n")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("results").path))

        // What pods up (guaranteed) and the launches (slots) refuse, `suite --dry-run` refuses at
        // the entry's line, with nothing brought up.
        let cores = CPUSet.current().count
        for (text, message) in [
            ("ranks: 8\nenvironments:\n  - native-2node\n  - pod-overlay: {slots: 2, pods-per-node: 1}\nkernels: [allreduce]\n",
             "4: environments[1]: slots 2 on 2 pod(s) hold 4 ranks, fewer than the 8 ranks: add pods (pods-per-node) or slots"),
            ("ranks: \(cores + 1)\nenvironments:\n  - native-shm\n  - pod-bridge: {guaranteed: true}\nkernels: [allreduce]\n",
             "4: environments[1]: guaranteed gives each pod a whole CPU of its own: \(cores + 1) pods need \(cores + 1) CPUs, and there are \(cores) here; use fewer pods (slots) or drop guaranteed"),
        ] {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let suite = try PodsHarness.podgap(["suite", file, "--dry-run"], environment: Shell.mpiEnvironment)
            #expect(suite.status == 2, "\(suite.stderr)")
            #expect(suite.stderr == "podgap: \(file):\(message)\n")
        }
    }
}
