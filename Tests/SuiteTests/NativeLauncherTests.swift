import Foundation
import Testing
@testable import Suite
import Launch

/// The suite's native command line is the launch plan's (the rules themselves are LaunchTests'):
/// each environment's transports, srun on Slurm's nodes, the plan's variables passed on.
@Suite struct NativeLauncherTests {
    static func launcher(_ top: String) throws -> (NativeLauncher, SuiteFile) {
        let suite = try SuiteFile.parse("""
            name: t
            ranks: 2
            \(top)
            environments: [native-shm, native-tcp, native-rdma, native-2node]
            kernels:
              - allreduce:
                  sizes: "4"
            """, file: "t.yaml", kernels: FakeKernels())
        return (NativeLauncher(suite: suite, folder: SuiteFolder(URL(fileURLWithPath: "/tmp/s")), podgap: "/bin/podgap", machine: Machine(cores: 2)), suite)
    }

    @Test func mpirunStartsTheRanksWithTheEnvironmentsTransports() throws {
        let (native, suite) = try Self.launcher("launcher: mpirun")
        let application = ["/bin/podgap", "run", "allreduce"]
        let shm = try native.command(for: suite.environments[0], application: application).argv
        #expect(shm.first?.hasSuffix("mpirun") == true)
        #expect(shm == (try LaunchPlan.native(environment: suite.environments[0].kind, ranks: 2, machine: Machine(cores: 2))).command + application)
        // 2 ranks on 2 cores: they float, yield, and stay on the environment's transports.
        #expect(shm.contains(["--bind-to", "none"]) && shm.contains(["--mca", "mpi_yield_when_idle", "1"]))
        #expect(shm.contains(["--mca", "btl", "self,vader"]))
        let tcp = try native.command(for: suite.environments[1], application: application).argv
        #expect(tcp.contains(["--mca", "btl", "tcp,self"]) && tcp.suffix(3) == application[...])
        let rdma = try native.command(for: suite.environments[2], application: application).argv
        #expect(rdma.contains(["--mca", "btl", "self,vader"]) && rdma.contains(["--mca", "pml", "ucx"]))
    }

    @Test func srunStartsTheRanksOnSlurmsNodes() throws {
        let (native, suite) = try Self.launcher("launcher: srun")
        let application = ["/bin/podgap", "run", "allreduce"]
        let one = try native.command(for: suite.environments[0], application: application)
        #expect(one.argv.first?.hasSuffix("srun") == true)
        #expect(Array(one.argv.dropFirst().prefix(6)) == ["--mpi=pmix", "-n", "2", "-N", "1", "--cpu-bind=none"])
        // srun hands its environment to the tasks: the binding's reason travels there.
        #expect(one.environment["PODGAP_BINDING"] == "none")
        let two = try native.command(for: suite.environments[3], application: application).argv
        #expect(Array(two.dropFirst().prefix(5)) == ["--mpi=pmix", "-n", "2", "-N", "2"])
        #expect(two.suffix(3) == application[...])
    }

    /// One suite, native mpirun and native srun side by side: `launcher` under an environment
    /// beats the suite-wide key, and where Slurm is absent a dry run refuses at that key's line.
    @Test func environmentsChooseTheirOwnLauncher() throws {
        let text = """
            name: t
            ranks: 2
            environments:
              - native-shm
              - native-shm:
                  label: native-srun
                  launcher: srun
              - native-2node:
                  launcher: srun
              - pod-bridge
            kernels: [allreduce]
            """
        let suite = try SuiteFile.parse(text, file: "t.yaml", kernels: FakeKernels())
        #expect(suite.environments.map { suite.launcher(of: $0) } == [.mpirun, .srun, .srun, .mpirun])
        #expect(suite.launcherSetAt(of: suite.environments[1]) == "t.yaml:7" && suite.launcherSetAt(of: suite.environments[0]) == nil)
        let native = NativeLauncher(suite: suite, folder: SuiteFolder(URL(fileURLWithPath: "/tmp/s")), podgap: "/bin/podgap", machine: Machine(cores: 2))
        let application = ["/bin/podgap", "run", "allreduce"]
        #expect(try native.command(for: suite.environments[0], application: application).argv.first?.hasSuffix("mpirun") == true)
        #expect(try native.command(for: suite.environments[1], application: application).argv.first?.hasSuffix("srun") == true)
        // native-2node under srun is Slurm's two nodes, started natively; pods stay pods.
        let twoNode = try native.command(for: suite.environments[2], application: application).argv
        #expect(Array(twoNode.dropFirst().prefix(5)) == ["--mpi=pmix", "-n", "2", "-N", "2"])
        #expect(SuiteLaunchers(suite: suite, folder: URL(fileURLWithPath: "/tmp/s"), podgap: "/bin/podgap").launcher(for: suite.environments[3]) is PodsLauncher)

        // The suite-wide key still works, and an environment may go back to mpirun under it.
        let wide = try SuiteFile.parse("name: t\nlauncher: srun\nenvironments:\n  - native-shm\n  - native-tcp:\n      launcher: mpirun\nkernels: [allreduce]\n",
                                       file: "w.yaml", kernels: FakeKernels())
        #expect(wide.environments.map { wide.launcher(of: $0) } == [.srun, .mpirun])
        #expect(wide.launcherSetAt(of: wide.environments[0]) == "w.yaml:2")

        // Refused where the file says it: an unknown launcher, and a launcher on pods.
        #expect(refusal("environments:\n  - native-shm:\n      launcher: sbatch2\nkernels: [allreduce]\n")?.hasPrefix("t.yaml:3: ") == true)
        let pods = refusal("environments:\n  - pod-bridge:\n      launcher: srun\nkernels: [allreduce]\n")
        #expect(pods?.hasPrefix("t.yaml:2: ") == true && pods?.contains("applies to native environments") == true, "\(pods ?? "accepted")")
    }

    /// `launcher: sbatch`: the suite's launch is a batch job named for the attempt, its output in the launch's log.
    @Test func sbatchSubmitsABatchJobWritingToTheLaunchLog() throws {
        let suite = try SuiteFile.parse("name: t\nenvironments:\n  - native-shm:\n      launcher: sbatch\nkernels: [allreduce]\n",
                                        file: "t.yaml", kernels: FakeKernels())
        let native = NativeLauncher(suite: suite, folder: SuiteFolder(URL(fileURLWithPath: "/tmp/s")), podgap: "/bin/podgap", machine: Machine(cores: 2))
        let (argv, environment) = try native.command(for: suite.environments[0], application: ["/bin/podgap", "run", "allreduce"],
                                                     job: "podgap-x", output: "/tmp/s/logs/x.log")
        #expect(argv.first?.hasSuffix("sbatch") == true && argv.contains("--job-name=podgap-x") && argv.contains("--output=/tmp/s/logs/x.log"))
        #expect(argv.last?.hasSuffix("--cpu-bind=none /bin/podgap run allreduce") == true, "\(argv.last ?? "")")
        #expect(environment["PODGAP_BINDING"] == "none")
    }

    func refusal(_ text: String) -> String? {
        do { _ = try SuiteFile.parse(text, file: "t.yaml", kernels: FakeKernels()); return nil } catch { return "\(error)" }
    }

    @Test func aDryRunRefusesSrunWithoutSlurmAtTheLauncherKey() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-launcher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("s.yaml").path
        try "name: s\nenvironments:\n  - native-shm\n  - native-shm:\n      label: native-srun\n      launcher: srun\nkernels: [allreduce]\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let session = try SuiteSession(.init(file: file, resume: nil, results: folder.path, rounds: nil, budget: nil, targetCI: 10, seed: nil),
                                       kernels: FakeKernels())
        #expect(throws: Never.self) { try session.checkSlurm(FakeAvailability()) }
        do {
            try session.checkSlurm(FakeAvailability(slurm: "sinfo does not answer: run scripts/slurm-local up"))
            Issue.record("a dry run without Slurm accepted srun")
        } catch let error as SuiteError {
            #expect(error.description == "\(file):6: native-srun starts its ranks with srun, but no Slurm cluster answers here: sinfo does not answer: run scripts/slurm-local up")
        }
        // Without srun nothing asks for Slurm.
        try "name: s\nenvironments: [native-shm]\nkernels: [allreduce]\n".write(toFile: file, atomically: true, encoding: .utf8)
        let plain = try SuiteSession(.init(file: file, resume: nil, results: folder.path, rounds: nil, budget: nil, targetCI: 10, seed: nil),
                                     kernels: FakeKernels())
        #expect(throws: Never.self) { try plain.checkSlurm(FakeAvailability(slurm: "absent")) }
    }

    @Test func podsEnvironmentsAreRefusedAsNativeLaunches() throws {
        let suite = try SuiteFile.parse("name: t\nranks: 2\nenvironments: [pod-bridge]\nkernels: [allreduce]\n", file: "t.yaml", kernels: FakeKernels())
        let native = NativeLauncher(suite: suite, folder: SuiteFolder(URL(fileURLWithPath: "/tmp/s")), podgap: "/bin/podgap")
        #expect(throws: SuiteError.self) { try native.command(for: suite.environments[0], application: ["x"]) }
    }
}
