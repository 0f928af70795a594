import Foundation
import MPI
import Testing

/// MPI can start once per process, so the in-process checks share one singleton session; the
/// multi-rank checks run the mpi-conformance executable under mpirun (podgapTests).
@Suite(.serialized) struct SingletonTests {
    @Test func singletonSessionBehavesAsOneRank() throws {
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1)
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1)
        #expect(!MPI.isInitialized)
        // The tool interface works before MPI_Init (podgap env relies on it); Debian's
        // openmpi-mca-params.conf sets btl, so the file's value must be seen.
        #expect(MPI.controlVariable(named: "btl")?.isEmpty == false)
        #expect(MPI.controlVariable(named: "no_such_variable_podgap") == nil)
        #expect(MPI.libraryVersion.hasPrefix("Open MPI"))
        try MPI.initialize(threadLevel: .single)
        let world = Communicator.world
        #expect(world.rank == 0)
        #expect(world.size == 1)

        // A reduction over one rank is the identity, for every operation.
        let values: [Double] = [1.5, -2, 3.25]
        for operation in [ReductionOperation.sum, .min, .max] {
            #expect(try world.allreduce(values, operation: operation) == values)
        }
        #expect(try world.allreduce(Int32(7), operation: .sum) == 7)

        // A message to oneself arrives intact through the non-blocking path.
        var outgoing: [Int64] = [1, 2, 3, 1 << 40]
        var incoming = [Int64](repeating: 0, count: 4)
        try outgoing.withUnsafeMutableBufferPointer { out in
            try incoming.withUnsafeMutableBufferPointer { inc in
                var requests = [try world.ireceive(into: inc, from: 0, tag: 9), try world.isend(UnsafeBufferPointer(out), to: 0, tag: 9)]
                try Request.waitAll(&requests)
            }
        }
        #expect(incoming == outgoing)

        // A bad destination is an MPIError carrying MPI's own words, not an abort.
        let error = #expect(throws: MPIError.self) { try world.send([Int32(1)], to: 3) }
        #expect(error?.call == "MPI_Send")
        #expect(error?.message.isEmpty == false)

        #expect(try Float.mpiDatatype.size() == 4)
        #expect(try Double.mpiDatatype.size() == 8)
        #expect(try UInt8.mpiDatatype.size() == 1)
        let start = MPI.wallTime
        #expect(MPI.wallTime >= start)
        try MPI.finalize()
        #expect(MPI.isFinalized)
    }
}
