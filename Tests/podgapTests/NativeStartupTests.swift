import Foundation
import Records
import Testing

/// `podgap run startup` natively, launch by launch: mpirun on this host, and srun and sbatch
/// through a real Slurm (scripts/slurm-local). Each record parsed back carries the catalog's
/// native phases (sbatch's with the allocation), and they add up to what the launch measured.
@Suite(.serialized) struct NativeStartupTests {
    @Test func mpirunPhasesAddUpLaunchByLaunch() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("native.jsonl").path
        let run = try Shell.run(Shell.podgap, ["run", "startup", "--np", "2", "--trials", "3", "--out", out],
                                environment: Shell.mpiEnvironment, timeout: 120)
        try #require(run.status == 0, "\(run.stderr.suffix(400))")
        let records = try RecordReader.read(out)
        #expect(records.count == 3)
        StartupPhaseChecks.expectAddUp(records, StartupPhase.native)
        #expect(records.allSatisfy { $0.environment.launcher.kind == "mpirun" && $0.params["launch"]?.stringValue == "mpirun" })
    }

    @Test(.enabled(if: LocalSlurm.canRun, "slurm-local needs root (network namespaces, daemons)"))
    func srunAndSbatchPhasesAddUpLaunchByLaunch() throws {
        let cluster = try LocalSlurm.up(nodes: 1)
        defer { cluster.remove() }
        for (launcher, expected) in [("srun", StartupPhase.native), ("sbatch", StartupPhase.batch)] {
            let out = cluster.work.appendingPathComponent("\(launcher).jsonl").path
            let run = try Shell.run(Shell.podgap, ["run", "startup", "--launcher", launcher, "--np", "2", "--trials", "2", "--timeout", "60s",
                                                   "--out", out],
                                    environment: cluster.environment, timeout: 150, workingDirectory: cluster.work)
            try #require(run.status == 0, "\(launcher): \(run.stderr.suffix(400))")
            let records = try RecordReader.read(out)
            #expect(records.count == 2, "\(launcher)")
            StartupPhaseChecks.expectAddUp(records, expected)
            for record in records {
                // Slurm started the ranks: its job, on its node, as the launch asked.
                #expect(record.environment.launcher.kind == "srun" && record.environment.launcher.jobID != nil, "\(record.environment.launcher)")
                #expect(record.environment.hostnames == ["node1"] && record.params["launch"]?.stringValue == launcher)
            }
        }
        // Nothing of the jobs is left in Slurm's queue.
        let queue = try Shell.run("/usr/bin/squeue", ["-h", "-o", "%i %j"], environment: cluster.environment, timeout: 30)
        #expect(queue.status == 0 && queue.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(queue.stdout)")
        // Bad input: a Slurm launcher for pods is refused in one line.
        let pods = try Shell.run(Shell.podgap, ["run", "startup", "--launcher", "sbatch", "--network", "bridge", "--out", cluster.work.path + "/x.jsonl"],
                                 environment: cluster.environment, timeout: 30)
        #expect(pods.status == 2 && pods.stderr.split(separator: "\n").count == 1 && pods.stderr.contains("--launcher sbatch"), "\(pods.stderr)")
    }
}

/// What every startup record must show: the phases `expected`, in the catalog, none negative,
/// adding up within `StartupPhase.sumTolerance` to the measured time up to every rank past
/// MPI_Init (`seconds`), and verified (the ranks' own check against submit-to-first-allreduce).
enum StartupPhaseChecks {
    static func expectAddUp(_ records: [Record], _ expected: [StartupPhase], sourceLocation: SourceLocation = #_sourceLocation) {
        for record in records {
            #expect(Set(record.phases.keys) == Set(expected.map(\.rawValue)), "\(record.phases.keys.sorted())", sourceLocation: sourceLocation)
            #expect(record.verified, "\(record.verification)", sourceLocation: sourceLocation)
            let toInit = expected.filter { $0 != .firstCollective }.compactMap { record.phases[$0.rawValue]?.p50 }.reduce(0, +)
            let measured = record.seconds.p50
            #expect(abs(toInit - measured) <= StartupPhase.sumTolerance * measured, "\(toInit) s of phases against \(measured) s measured",
                    sourceLocation: sourceLocation)
            #expect(expected.allSatisfy { (record.phases[$0.rawValue]?.p50 ?? -1) >= 0 }, sourceLocation: sourceLocation)
        }
    }
}
