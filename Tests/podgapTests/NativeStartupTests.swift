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

extension NativeStartupTests {
    /// One suite, the same kernel natively under mpirun, srun and sbatch side by side: each
    /// environment's records say who started its ranks, nothing is skipped, Slurm's queue is
    /// empty afterwards, and the sbatch job's output went to the launch's log.
    @Test(.enabled(if: LocalSlurm.canRun, "slurm-local needs root (network namespaces, daemons)"))
    func oneSuiteRunsMpirunSrunAndSbatchSideBySide() throws {
        let cluster = try LocalSlurm.up(nodes: 1)
        defer { cluster.remove() }
        let file = cluster.work.appendingPathComponent("native.yaml")
        try """
        name: native
        rounds: 1
        startup: false
        baseline: native-shm
        environments:
          - native-shm
          - native-shm:
              label: native-srun
              launcher: srun
          - native-shm:
              label: native-sbatch
              launcher: sbatch
        kernels:
          - allreduce: {sizes: "4", iterations: 20, warmup: 2}
        """.write(to: file, atomically: true, encoding: .utf8)
        let suite = try Shell.run(Shell.podgap, ["suite", file.path, "--results", cluster.work.appendingPathComponent("results").path],
                                  environment: cluster.environment, timeout: 240, workingDirectory: cluster.work)
        #expect(suite.status == 0, "\(suite.stderr.suffix(800))")
        let run = URL(fileURLWithPath: suite.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        for (label, kind) in [("native-shm", "mpirun"), ("native-srun", "srun"), ("native-sbatch", "srun")] {
            let records = try RecordReader.read(run.appendingPathComponent("\(label).jsonl").path)
            #expect(records.count == 1 && records.allSatisfy { $0.verified && $0.environment.launcher.kind == kind }, "\(label)")
            #expect(records.allSatisfy { ($0.environment.launcher.jobID != nil) == (kind == "srun") }, "\(label): \(records.map(\.environment.launcher))")
        }
        let skipped = (try? SkippedEnvironment.read(run.appendingPathComponent(SkippedEnvironment.file).path)) ?? []
        #expect(skipped.isEmpty, "\(skipped)")
        let queue = try Shell.run("/usr/bin/squeue", ["-h"], environment: cluster.environment, timeout: 30)
        #expect(queue.status == 0 && queue.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(queue.stdout)")
    }
}

extension NativeStartupTests {
    /// `podgap plan --starter sbatch`'s line, submitted as printed with a kernel after it (no
    /// `PODGAP` in the environment: the line names the podgap), runs: the job's output says the
    /// script's srun ended well, and its records say Slurm started the ranks of that job with the
    /// plan's binding, whose variables reached the ranks through sbatch and srun.
    @Test(.enabled(if: LocalSlurm.canRun, "slurm-local needs root (network namespaces, daemons)"))
    func theSbatchLinePlanPrintsRunsAsPrinted() throws {
        let cluster = try LocalSlurm.up(nodes: 1)
        defer { cluster.remove() }
        var environment = cluster.environment
        environment["PODGAP"] = nil
        let planned = try Shell.run(Shell.podgap, ["plan", "--environment", "native-shm", "--np", "2", "--starter", "sbatch"],
                                    environment: environment, timeout: 30)
        try #require(planned.status == 0, "\(planned.stderr)")
        let line = try #require(planned.stdout.split(separator: "\n").first.map(String.init))
        let json = try Shell.run(Shell.podgap, ["plan", "--environment", "native-shm", "--np", "2", "--starter", "sbatch", "--format", "json"],
                                 environment: environment, timeout: 30)
        let binding = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["binding"] as? [String: String])

        let submitted = try Shell.run("/bin/sh", ["-c", line + " allreduce --sizes 4 --iterations 20 --warmup 2"],
                                      environment: environment, timeout: 60, workingDirectory: cluster.work)
        try #require(submitted.status == 0, "\(line): \(submitted.stderr)")
        let job = try #require(submitted.stdout.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) },
                               "\(submitted.stdout)")
        // No --wait on a user's line: the job has ended when the queue no longer lists it.
        let deadline = Date().addingTimeInterval(90)
        var queued = true
        while queued && Date() < deadline {
            let queue = try Shell.run("/usr/bin/squeue", ["-h", "-o", "%i"], environment: environment, timeout: 30)
            queued = queue.status != 0 || queue.stdout.split(separator: "\n").contains { Int($0.trimmingCharacters(in: .whitespaces)) == job }
            if queued { usleep(250_000) }
        }
        #expect(!queued, "job \(job) still queued after 90 s")
        let output = (try? String(contentsOf: cluster.work.appendingPathComponent("slurm-\(job).out"), encoding: .utf8)) ?? ""
        // srun's --cpu-bind for the plan's binding (`none` on 2 cores, `cores` with cores to spare).
        let cpuBind = binding["policy"] == "core" ? "cores" : binding["policy"] ?? "?"
        #expect(output.contains("podgap.sbatch: job \(job) on node1: srun --mpi=pmix --cpu-bind=\(cpuBind) "), "\(output)")
        #expect(output.contains("podgap.sbatch: exit 0, 1 record(s)"), "\(output)")
        let records = try RecordReader.read(cluster.results(job, "allreduce"))
        #expect(records.count == 1)
        for record in records {
            #expect(record.verified && record.ranks == 2, "\(record.verification)")
            let launcher = record.environment.launcher
            #expect(launcher.kind == "srun" && launcher.jobID == String(job) && launcher.nodeList == "node1", "\(launcher)")
            #expect(cpuBind == "none" ? launcher.cpuBinding == "none" : launcher.cpuBinding?.hasPrefix("mask_cpu:") == true, "\(launcher)")
            #expect(record.environment.bindingPolicy == BindingPolicy(policy: binding["policy"] ?? "", reason: binding["reason"] ?? ""),
                    "\(String(describing: record.environment.bindingPolicy))")
        }
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
