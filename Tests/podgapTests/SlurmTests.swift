import Records
import Foundation
import Testing

/// The srun path against a real Slurm 22.05 (scripts/slurm-local): the job script submitted with
/// `sbatch --wait`, records read back, bad input, a node lost mid-job, and nothing left behind.
@Suite(.serialized, .enabled(if: LocalSlurm.canRun, "slurm-local needs root (network namespaces, daemons)"))
struct SlurmTests {
    static let allreduceSizes = [4, 8, 16, 32, 64, 128, 256, 512, 1024]

    @Test func oneNodeRunsKernelsAndRejectsBadInput() async throws {
        let cluster = try LocalSlurm.up(nodes: 1)
        defer { cluster.remove() }

        // Bad input, checked below.
        let blocker = cluster.work.appendingPathComponent("blocker")
        try Data().write(to: blocker)
        let cases: [([String], String)] = [
            ([], "no kernel given"),
            (["nosuch", "--sizes", "4"], "unknown kernel 'nosuch'"),
            (["--results", blocker.appendingPathComponent("sub").path, "allreduce"], "cannot create results folder '\(blocker.path)/sub/slurm-"),
            (["--mpi=pmi2", "allreduce"], "--mpi=pmi2 does not work with Debian's Open MPI"),
        ]
        // Submitted together (each sbatch --wait sleeps 2 s between polls): the two-rank jobs take
        // both cores in turn, and the bad-input ones end at once when they start.
        let submitted = try await cluster.sbatchAll([
            (["-n", "2"], ["allreduce", "--sizes", "4:1K", "--iterations", "20", "--warmup", "2"]),
            (["-n", "2"], ["--cpu-bind", "none", "halo", "--local", "64x64", "--iterations", "10", "--warmup", "2"]),
        ] + cases.map { (["-n", "1"], $0.0) }, timeout: 90)
        let (allreduce, halo, jobs) = (submitted[0], submitted[1], submitted.dropFirst(2))
        #expect(allreduce.status == 0, "\(allreduce.output)")
        let records = try RecordReader.read(cluster.results(allreduce.id, "allreduce"))
        #expect(records.map { Int($0.params["bytes"]?.doubleValue ?? -1) } == Self.allreduceSizes)
        for record in records {
            #expect(record.verified && record.ranks == 2, "\(record.verification)")
            #expect(record.run == "slurm-podgap\(cluster.tag)-\(allreduce.id)")
            let environment = record.environment
            #expect(environment.launcher.kind == "srun")
            #expect(environment.launcher.jobID == String(allreduce.id) && environment.launcher.stepID == "0")
            #expect(environment.launcher.nodeList == "node1" && environment.launcher.tasksPerNode == "2")
            #expect(environment.hostnames == ["node1"] && environment.name == "native-shm")
            // Two tasks fill a two-core allocation: Slurm binds each to a core of its own and podgap
            // turns yield-when-idle on; the record says both.
            #expect(environment.launcher.cpuBinding?.hasPrefix("mask_cpu:") == true, "\(environment.launcher)")
            #expect(Set(environment.bindings ?? []).count == 2, "\(environment.bindings ?? [])")
            #expect(environment.cores == 2 && environment.ranksPerNode == 2)
            #expect(environment.oversubscribed && environment.yieldWhenIdle && environment.yieldSetBy == "podgap")
        }

        // Binding turned off by the user: recorded as such, both ranks free to run anywhere.
        #expect(halo.status == 0, "\(halo.output)")
        let haloRecords = try RecordReader.read(cluster.results(halo.id, "halo"))
        #expect(haloRecords.count == 1)
        for record in haloRecords {
            #expect(record.kernel == "halo" && record.verified && record.ranks == 2, "\(record.verification)")
            #expect(record.environment.launcher.kind == "srun" && record.environment.launcher.cpuBinding == "none")
            let bindings = record.environment.bindings ?? []
            #expect(bindings.count == 2 && Set(bindings).count == 1, "\(bindings)")
        }

        // Bad input: the job ends at once, one line in its output file naming the problem, exit 2,
        // and no results folder for it.
        for ((arguments, reason), job) in zip(cases, jobs) {
            #expect(job.status == 2, "\(arguments): \(job.output)")
            let lines = job.output.split(separator: "\n")
            #expect(lines.count == 1 && lines.first?.hasPrefix("podgap.sbatch: ") == true, "\(arguments): \(job.output)")
            #expect(job.output.contains(reason), "\(arguments): \(job.output)")
            #expect(!FileManager.default.fileExists(atPath: cluster.work.appendingPathComponent("results/slurm-\(job.id)").path))
        }

        try expectCleanDown(cluster)
    }

    /// munged refuses a socket under a folder others cannot search, and said so only in its log:
    /// `up` now refuses such a folder in one line, before it starts anything.
    @Test func aClusterFolderMungeCannotReachIsRefusedInOneLine() throws {
        let root = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let closed = root.appendingPathComponent("closed")
        try FileManager.default.createDirectory(at: closed, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let started = try Shell.run(LocalSlurm.script, ["up", "--dir", closed.appendingPathComponent("cluster").path], timeout: 60)
        #expect(started.status == 2)
        let lines = started.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("munged needs every folder above its socket searchable by all: \(closed.path) is drwx------"),
                "\(started.stderr)")
        #expect(!FileManager.default.fileExists(atPath: closed.appendingPathComponent("cluster/cluster.env").path))
        #expect(!FileManager.default.fileExists(atPath: closed.appendingPathComponent("cluster/munge/munged.pid").path))
    }

    @Test func twoNodesCrossTheWireAndSurviveALostNode() async throws {
        let cluster = try LocalSlurm.up(nodes: 2)
        defer { cluster.remove() }
        let perNode = ["-N", "2", "--ntasks-per-node=1"]

        // Submitted together (each sbatch --wait sleeps 2 s between polls); Slurm runs the
        // one-node job once the two-node ones leave it two cores.
        let jobs = try await cluster.sbatchAll([
            (perNode, ["allreduce", "--sizes", "4:1K", "--iterations", "20", "--warmup", "2"]),
            // Two tasks on one node of the two (what `podgap suite` runs for native-shm under srun).
            (["-N", "1", "-n", "2"], ["allreduce", "--sizes", "4:64", "--iterations", "10", "--warmup", "1"]),
            (perNode, ["halo", "--local", "64x64", "--iterations", "10", "--warmup", "2"]),
        ])
        let (allreduce, oneNode, halo) = (jobs[0], jobs[1], jobs[2])
        #expect(allreduce.status == 0, "\(allreduce.output)")
        let records = try RecordReader.read(cluster.results(allreduce.id, "allreduce"))
        #expect(records.map { Int($0.params["bytes"]?.doubleValue ?? -1) } == Self.allreduceSizes)
        for record in records {
            let environment = record.environment
            #expect(record.verified && record.ranks == 2, "\(record.verification)")
            #expect(environment.launcher.kind == "srun" && environment.launcher.jobID == String(allreduce.id))
            #expect(environment.launcher.nodeList == "node[1-2]" && environment.launcher.tasksPerNode == "1(x2)")
            #expect(environment.hostnames == ["node1", "node2"] && environment.name == "native-2node")
            #expect(environment.transport.note?.contains("tcp between ranks") == true, "\(environment.transport)")
            // Nodes that share one machine bind nothing (both ranks may use every core); each was
            // allocated one core, so one task fills its node and yield-when-idle is on.
            #expect(environment.launcher.cpuBinding == "none")
            let bindings = environment.bindings ?? []
            #expect(bindings.count == 2 && Set(bindings).count == 1, "\(bindings)")
            #expect(environment.ranksPerNode == 1 && environment.cores == 1)
            #expect(environment.oversubscribed && environment.yieldWhenIdle && environment.yieldSetBy == "podgap")
        }

        #expect(oneNode.status == 0, "\(oneNode.output)")
        let shared = try RecordReader.read(cluster.results(oneNode.id, "allreduce"))
        #expect(shared.count == 5)
        for record in shared {
            #expect(record.verified && record.environment.hostnames.count == 1 && record.environment.name == "native-shm")
            #expect(record.environment.launcher.tasksPerNode == "2" && record.environment.ranksPerNode == 2)
            #expect(record.environment.cores == min(2, ProcessInfo.processInfo.activeProcessorCount))
        }

        #expect(halo.status == 0, "\(halo.output)")
        let haloRecords = try RecordReader.read(cluster.results(halo.id, "halo"))
        #expect(haloRecords.count == 1 && haloRecords.allSatisfy { $0.verified && $0.environment.hostnames == ["node1", "node2"] })

        // node2's slurmd dies during a long job: the job must end (Slurm declares the node failed, or
        // podgap's own timeout fires), with every record written so far whole. The first point is
        // short (a loaded machine must still write it well inside the timeout); the larger ones
        // keep the job busy long after it.
        let started = Date()
        let long = Task.detached {
            try cluster.sbatch(perNode, ["allreduce", "--sizes", "4:4M", "--iterations", "20000", "--warmup", "10",
                                         "--timeout", "60s"], timeout: 150)
        }
        let results = cluster.work.appendingPathComponent("results")
        var before = 0
        while before == 0 && Date().timeIntervalSince(started) < 55 {
            try await Task.sleep(nanoseconds: 200_000_000)
            let folders = (try? FileManager.default.contentsOfDirectory(atPath: results.path)) ?? []
            let earlier = Set([allreduce.id, oneNode.id, halo.id].map { "slurm-\($0)" })
            for folder in folders where folder.hasPrefix("slurm-") && !earlier.contains(folder) {
                before = (try? RecordReader.read(results.appendingPathComponent("\(folder)/allreduce.jsonl").path))?.count ?? 0
            }
        }
        #expect(before > 0, "the long job wrote no record within 55 s")
        let slurmd = try #require(cluster.pid("slurmd-node2"))
        #expect(kill(slurmd, SIGKILL) == 0)
        let lost = try await long.value
        #expect(!lost.sbatch.timedOut && lost.status != 0, "\(lost.output)")
        #expect(lost.output.contains("Node failure on node2") || lost.output.contains("timed out"), "\(lost.output)")
        let kept = try RecordReader.read(cluster.results(lost.id, "allreduce"))
        #expect(kept.count >= before && kept.count < 21)
        #expect(kept.allSatisfy { $0.verified && $0.environment.launcher.jobID == String(lost.id) })

        try expectCleanDown(cluster)
    }

    /// `slurm-local down` stops every daemon it started and everything its nodes ran, and removes
    /// the namespaces and links.
    private func expectCleanDown(_ cluster: LocalSlurm) throws {
        let inodes = cluster.namespaceInodes()
        #expect(inodes.count == cluster.nodes)
        let daemons = (["munged", "slurmctld"] + (1...cluster.nodes).map { "slurmd-node\($0)" }).compactMap(cluster.pid)
        #expect(!cluster.processes(inNamespaces: inodes).isEmpty, "no slurmd found in the node namespaces before down")
        let down = try cluster.down()
        #expect(down.status == 0, "\(down.stderr)")
        #expect(cluster.processes(inNamespaces: inodes).isEmpty, "left running: \(cluster.processes(inNamespaces: inodes))")
        for pid in daemons { #expect(!LocalSlurm.isRunning(pid), "daemon \(pid) still alive") }
        let network = try cluster.leftoverNetwork()
        #expect(network.isEmpty, "left behind: \(network)")
        #expect(!FileManager.default.fileExists(atPath: cluster.folder.appendingPathComponent("cluster.env").path))
    }
}
