// Exercises every wrapper of the MPI module under mpirun and checks each result against
// arithmetic. Prints one "ok NAME" line per check from rank 0; any mismatch exits 1 naming it.
import Foundation
import MPI

var failures: [String] = []

func expect(_ condition: Bool, _ name: String, _ detail: @autoclosure () -> String = "") {
    if !condition { failures.append("\(name) \(detail())") }
}

func reductions<T: MPIElement & Numeric & Comparable>(_ type: T.Type, _ make: (Int) -> T, on world: Communicator) throws {
    let rank = world.rank, size = world.size
    let name = String(describing: T.self)
    let values = (0..<5).map { make(rank + $0) }
    for operation in [ReductionOperation.sum, .min, .max] {
        let expected: [T] = (0..<5).map { offset in
            let all = (0..<size).map { make($0 + offset) }
            switch operation {
            case .sum: return all.reduce(0, +)
            case .min: return all.min()!
            case .max: return all.max()!
            case .product: return all.reduce(1, *)
            }
        }
        // Out of place.
        var result = [T](repeating: 0, count: 5)
        try values.withUnsafeBufferPointer { source in
            try result.withUnsafeMutableBufferPointer { try world.allreduce(source, into: $0, operation: operation) }
        }
        expect(result == expected, "allreduce.\(name).\(operation).outOfPlace", "\(result) != \(expected)")
        // In place.
        var inPlace = values
        try inPlace.withUnsafeMutableBufferPointer { try world.allreduce(inPlace: $0, operation: operation) }
        expect(inPlace == expected, "allreduce.\(name).\(operation).inPlace", "\(inPlace) != \(expected)")
        // Non-blocking in place.
        var nonBlocking = values
        try nonBlocking.withUnsafeMutableBufferPointer { buffer in
            var request = try world.iallreduce(inPlace: buffer, operation: operation)
            try request.wait()
        }
        expect(nonBlocking == expected, "iallreduce.\(name).\(operation)", "\(nonBlocking) != \(expected)")
    }
}

do {
    let level = try MPI.initialize(threadLevel: .funneled)
    let world = Communicator.world
    let rank = world.rank, size = world.size
    expect(level == .funneled || level == .serialized || level == .multiple, "threadLevel", "\(level)")
    expect(size >= 2, "size", "needs at least 2 ranks, got \(size)")
    expect(rank >= 0 && rank < size, "rank")
    expect(MPI.isInitialized, "isInitialized")

    // Clock: monotone and positive resolution.
    let t0 = MPI.wallTime
    usleep(2_000)
    let t1 = MPI.wallTime
    expect(t1 - t0 >= 0.0015 && t1 - t0 < 1, "wallTime", "\(t1 - t0)")
    expect(MPI.wallTimeResolution > 0, "wallTimeResolution")
    expect(MPI.libraryVersion.hasPrefix("Open MPI"), "libraryVersion", MPI.libraryVersion)

    try world.barrier()

    // Blocking ring send/receive: each rank passes its rank to the right.
    let right = (rank + 1) % size, left = (rank - 1 + size) % size
    if rank % 2 == 0 {
        try world.send([Int64(rank), Int64(rank * 10)], to: right, tag: 7)
        let got = try world.receive(2, of: Int64.self, from: left, tag: 7)
        expect(got == [Int64(left), Int64(left * 10)], "send/receive", "\(got)")
    } else {
        let got = try world.receive(2, of: Int64.self, from: left, tag: 7)
        try world.send([Int64(rank), Int64(rank * 10)], to: right, tag: 7)
        expect(got == [Int64(left), Int64(left * 10)], "send/receive", "\(got)")
    }

    // Non-blocking exchange with both neighbours, every element type.
    var outgoing = [Double](repeating: Double(rank) + 0.5, count: 1000)
    var incoming = [Double](repeating: -1, count: 1000)
    try outgoing.withUnsafeMutableBufferPointer { out in
        try incoming.withUnsafeMutableBufferPointer { inc in
            var requests = [try world.ireceive(into: inc, from: left, tag: 3),
                            try world.isend(UnsafeBufferPointer(out), to: right, tag: 3)]
            try Request.waitAll(&requests)
            expect(requests.allSatisfy(\.isNull), "waitAll.releases")
        }
    }
    expect(incoming.allSatisfy { $0 == Double(left) + 0.5 }, "isend/ireceive.Double", "\(incoming[0])")

    var bytesOut = [UInt8](repeating: UInt8(rank), count: 64)
    var bytesIn = [UInt8](repeating: 255, count: 64)
    try bytesOut.withUnsafeMutableBufferPointer { out in
        try bytesIn.withUnsafeMutableBufferPointer { inc in
            var receive = try world.ireceive(into: inc, from: left, tag: 4)
            var send = try world.isend(UnsafeBufferPointer(out), to: right, tag: 4)
            try send.wait()
            while try !receive.test() {}
        }
    }
    expect(bytesIn.allSatisfy { $0 == UInt8(left) }, "isend/ireceive.UInt8+test")

    // Send/receive to nobody completes at once.
    try world.send([Int32(1)], to: Communicator.nullRank)

    // Reductions for every element type and operation, in and out of place.
    try reductions(Float.self, { Float($0) * 1.5 }, on: world)
    try reductions(Double.self, { Double($0) * 0.25 }, on: world)
    try reductions(Int32.self, { Int32($0 * 3 - 4) }, on: world)
    try reductions(Int64.self, { Int64($0) << 33 }, on: world)
    try reductions(UInt8.self, { UInt8($0 + 1) }, on: world)
    expect(try world.allreduce(Int64(1), operation: .sum) == Int64(size), "allreduce.scalar")

    // Broadcast, gather, allgather, variable gather.
    let broadcast = try world.broadcast(rank == 0 ? [Int32(42), 43] : [0, 0], from: 0)
    expect(broadcast == [42, 43], "broadcast", "\(broadcast)")
    let longText = String(repeating: "run-id-", count: 20) + "é"
    let text = try world.broadcast(rank == 0 ? longText : "ignored", from: 0)
    expect(text == longText, "broadcast.String", text)
    let gathered = try world.gather([Int32(rank)], to: 0)
    if rank == 0 { expect(gathered == (0..<size).map(Int32.init), "gather", "\(gathered)") }
    let everyone = try world.allgather([Int64(rank * rank)])
    expect(everyone == (0..<size).map { Int64($0 * $0) }, "allgather", "\(everyone)")
    let pieces = try world.gatherVariable([Double](repeating: Double(rank), count: rank + 1), to: 0)
    if rank == 0 {
        expect(pieces.count == size && pieces.enumerated().allSatisfy { $0.element == [Double](repeating: Double($0.offset), count: $0.offset + 1) },
               "gatherVariable", "\(pieces)")
    }
    let names = try world.allgather("rank-\(rank)-" + String(repeating: "x", count: rank))
    expect(names == (0..<size).map { "rank-\($0)-" + String(repeating: "x", count: $0) }, "allgather.String", "\(names)")

    // Sendrecv around the ring.
    var token = [Int32(rank)], received = [Int32(-1)]
    try token.withUnsafeMutableBufferPointer { out in
        try received.withUnsafeMutableBufferPointer { inc in
            try world.sendReceive(UnsafeBufferPointer(out), to: right, into: inc, from: left)
        }
    }
    expect(received == [Int32(left)], "sendReceive")

    // Node communicator: all ranks here share one node.
    let node = try world.splitByNode()
    expect(node.size == size, "splitByNode", "\(node.size)")
    try node.free()

    // Errors come back as MPIError with MPI's own message instead of aborting the job.
    do {
        try world.send([Int32(1)], to: size + 5)
        expect(false, "MPIError.thrown")
    } catch let error as MPIError {
        expect(error.message.lowercased().contains("rank"), "MPIError.message", error.description)
    }

    // Every rank's failures reach rank 0.
    let allFailures = try world.allgather(failures.joined(separator: "; "))
    if rank == 0 {
        for (index, text) in allFailures.enumerated() where !text.isEmpty { print("FAIL rank \(index): \(text)") }
        if allFailures.allSatisfy(\.isEmpty) { print("ok all checks on \(size) ranks") }
    }
    try MPI.finalize()
    exit(allFailures.allSatisfy(\.isEmpty) ? 0 : 1)
} catch {
    print("FAIL rank \(Communicator.world.rank): \(error)")
    exit(1)
}
