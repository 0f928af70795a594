import MPI

/// Ring allreduce: n-1 reduce-scatter steps then n-1 allgather steps, each rank sending to its
/// right neighbour and receiving from its left. Each step's piece travels in chunks, all posted at
/// once, and each received chunk is reduced while later chunks are still on the wire.
struct RingAllreduce<T: MPIElement & Numeric> {
    let count: Int
    let chunkElements: Int
    private let scratch: UnsafeMutableBufferPointer<T>

    init(count: Int, chunkElements: Int) {
        self.count = count
        self.chunkElements = chunkElements
        scratch = .allocate(capacity: max(count, 1))
    }

    func deallocate() { scratch.deallocate() }

    /// Piece k of n covers elements [offset(k), offset(k+1)); the first `count % n` pieces get one more.
    private func bounds(of piece: Int, among pieces: Int) -> Range<Int> {
        let base = count / pieces, extra = count % pieces
        let start = piece * base + min(piece, extra)
        return start..<(start + base + (piece < extra ? 1 : 0))
    }

    private func chunks(of range: Range<Int>) -> [Range<Int>] {
        stride(from: range.lowerBound, to: range.upperBound, by: chunkElements).map {
            $0..<min($0 + chunkElements, range.upperBound)
        }
    }

    mutating func run(_ source: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>,
                      on communicator: Communicator) throws {
        _ = result.update(fromContentsOf: source)
        let n = communicator.size
        guard n > 1 else { return }
        let rank = communicator.rank
        let right = (rank + 1) % n, left = (rank - 1 + n) % n
        let base = result.baseAddress!

        // Reduce-scatter: after step s, piece (rank - s - 1) holds the sum of s + 2 ranks.
        for step in 0..<(n - 1) {
            let outgoing = chunks(of: bounds(of: (rank - step + n) % n, among: n))
            let incoming = chunks(of: bounds(of: (rank - step - 1 + 2 * n) % n, among: n))
            var receives = try incoming.map { range in
                try communicator.ireceive(into: UnsafeMutableBufferPointer(rebasing: scratch[range]), from: left, tag: step)
            }
            var sends = try outgoing.map { range in
                try communicator.isend(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), to: right, tag: step)
            }
            for (index, range) in incoming.enumerated() {
                try receives[index].wait()
                for element in range { result[element] += scratch[element] }
            }
            try Request.waitAll(&sends)
        }

        // Allgather: pass each finished piece around the ring.
        for step in 0..<(n - 1) {
            let outgoing = chunks(of: bounds(of: (rank + 1 - step + n) % n, among: n))
            let incoming = chunks(of: bounds(of: (rank - step + n) % n, among: n))
            var requests = try incoming.map { range in
                try communicator.ireceive(into: UnsafeMutableBufferPointer(start: base + range.lowerBound, count: range.count),
                                          from: left, tag: n + step)
            }
            requests += try outgoing.map { range in
                try communicator.isend(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count),
                                       to: right, tag: n + step)
            }
            try Request.waitAll(&requests)
        }
    }
}
