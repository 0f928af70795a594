import Testing

/// Every wrapper of the MPI module, run across real ranks and checked against arithmetic.
@Suite(.serialized) struct MPIConformanceTests {
    static let conformance = Shell.productsFolder.appendingPathComponent("mpi-conformance").path

    @Test(arguments: [(2, "vader,self"), (3, "vader,self"), (2, "tcp,self")])
    func wrappersAgreeWithArithmetic(ranks: Int, btl: String) throws {
        let finished = try Shell.run("/usr/bin/mpirun", ["-np", String(ranks), "--oversubscribe", "--mca", "btl", btl, Self.conformance],
                                     timeout: 120)
        #expect(!finished.timedOut)
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")
        #expect(finished.stdout.contains("ok all checks on \(ranks) ranks"), "\(finished.stdout)")
    }
}
