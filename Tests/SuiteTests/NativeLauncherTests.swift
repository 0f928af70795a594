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

    @Test func podsEnvironmentsAreRefusedAsNativeLaunches() throws {
        let suite = try SuiteFile.parse("name: t\nranks: 2\nenvironments: [pod-bridge]\nkernels: [allreduce]\n", file: "t.yaml", kernels: FakeKernels())
        let native = NativeLauncher(suite: suite, folder: SuiteFolder(URL(fileURLWithPath: "/tmp/s")), podgap: "/bin/podgap")
        #expect(throws: SuiteError.self) { try native.command(for: suite.environments[0], application: ["x"]) }
    }
}
