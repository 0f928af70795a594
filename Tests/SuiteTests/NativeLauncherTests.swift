import Foundation
import Testing
@testable import Suite

/// The native command line as the suite has always built it; the Launch module's plan replaces
/// `NativeLauncher.command(for:application:)` and must keep these, or say why not.
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
        return (NativeLauncher(suite: suite, folder: SuiteFolder(URL(fileURLWithPath: "/tmp/s")), podgap: "/bin/podgap"), suite)
    }

    @Test func mpirunStartsTheRanksWithTheEnvironmentsTransports() throws {
        let (native, suite) = try Self.launcher("launcher: mpirun")
        let application = ["/bin/podgap", "run", "allreduce"]
        let shm = native.command(for: suite.environments[0], application: application)
        #expect(shm.first?.hasSuffix("mpirun") == true)
        #expect(Array(shm.dropFirst()) == ["-np", "2", "--bind-to", "none"]
                + (ProcessInfo.processInfo.activeProcessorCount < 2 ? ["--oversubscribe"] : []) + ["--mca", "btl", "self,vader"] + application)
        let tcp = native.command(for: suite.environments[1], application: application)
        #expect(tcp.suffix(6) == ["--mca", "btl", "tcp,self"] + application)
        let rdma = native.command(for: suite.environments[2], application: application)
        #expect(rdma.suffix(9) == ["--mca", "btl", "self,vader", "--mca", "pml", "ucx"] + application)
    }

    @Test func srunStartsTheRanksOnSlurmsNodes() throws {
        let (native, suite) = try Self.launcher("launcher: srun")
        let application = ["/bin/podgap", "run", "allreduce"]
        let one = native.command(for: suite.environments[0], application: application)
        #expect(one.first?.hasSuffix("srun") == true)
        #expect(Array(one.dropFirst()) == ["--mpi=pmix", "-n", "2", "-N", "1"] + application)
        let two = native.command(for: suite.environments[3], application: application)
        #expect(Array(two.dropFirst()) == ["--mpi=pmix", "-n", "2", "-N", "2"] + application)
    }
}
