import MPI

/// Ring allreduce: n-1 reduce-scatter steps then n-1 allgather steps, each rank sending to its
/// right neighbour and receiving from its left. Each step's piece travels in chunks, all posted at
/// once, and each received chunk is reduced while later chunks are still on the wire. Which chunks
/// move at which step depends only on the sizes and this rank, so it is planned once, outside the
/// timed loop.
struct RingAllreduce<T: MPIElement & Numeric> {
    /// The chunks this rank sends and receives at one step.
    struct Step {
        var outgoing: [Range<Int>]
        var incoming: [Range<Int>]
    }

    let left: Int
    let right: Int
    let reduceScatter: [Step]
    let allgather: [Step]
    private let scratch: UnsafeMutableBufferPointer<T>

    init(count: Int, chunkElements: Int, rank: Int, size n: Int) {
        right = (rank + 1) % n
        left = (rank - 1 + n) % n
        scratch = .allocate(capacity: max(count, 1))
        // Piece k of n covers a contiguous range; the first `count % n` pieces get one more element.
        func chunks(ofPiece piece: Int) -> [Range<Int>] {
            let base = count / n, extra = count % n
            let start = piece * base + min(piece, extra)
            let end = start + base + (piece < extra ? 1 : 0)
            return stride(from: start, to: end, by: chunkElements).map { $0..<min($0 + chunkElements, end) }
        }
        let steps = 0..<max(n - 1, 0)
        // After reduce-scatter step s, piece (rank - s - 1) holds the sum of s + 2 ranks.
        reduceScatter = steps.map { step in
            Step(outgoing: chunks(ofPiece: (rank - step + n) % n), incoming: chunks(ofPiece: (rank - step - 1 + 2 * n) % n))
        }
        // Allgather passes each finished piece around the ring.
        allgather = steps.map { step in
            Step(outgoing: chunks(ofPiece: (rank + 1 - step + n) % n), incoming: chunks(ofPiece: (rank - step + n) % n))
        }
    }

    func deallocate() { scratch.deallocate() }

    /// Sums every rank's `source` into `result`; without a source, `result` holds this rank's
    /// contribution and is summed in place (MPI_IN_PLACE).
    func run(_ source: UnsafeBufferPointer<T>?, into result: UnsafeMutableBufferPointer<T>,
             on communicator: Communicator) throws {
        if let source { _ = result.update(fromContentsOf: source) }
        let base = result.baseAddress!

        for (index, step) in reduceScatter.enumerated() {
            var receives = try step.incoming.map { range in
                try communicator.ireceive(into: UnsafeMutableBufferPointer(rebasing: scratch[range]), from: left, tag: index)
            }
            var sends = try step.outgoing.map { range in
                try communicator.isend(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), to: right, tag: index)
            }
            for (chunk, range) in step.incoming.enumerated() {
                try receives[chunk].wait()
                for element in range { result[element] += scratch[element] }
            }
            try Request.waitAll(&sends)
        }

        let tagBase = reduceScatter.count + 1
        for (index, step) in allgather.enumerated() {
            var requests = try step.incoming.map { range in
                try communicator.ireceive(into: UnsafeMutableBufferPointer(start: base + range.lowerBound, count: range.count),
                                          from: left, tag: tagBase + index)
            }
            requests += try step.outgoing.map { range in
                try communicator.isend(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count),
                                       to: right, tag: tagBase + index)
            }
            try Request.waitAll(&requests)
        }
    }
}
