import Records
import MPI

/// Allreduce latency and bandwidth over a sweep of message sizes (OSU-style), with MPI's own
/// algorithm or a ring (reduce-scatter then allgather, as NCCL and Horovod do) written in Swift.
public struct Allreduce: Kernel {
    public static let name = "allreduce"

    public enum Algorithm: String, CaseIterable, Sendable {
        case mpi, ring
    }

    public var sizes: [Int]
    public var elementType: ElementType
    public var algorithm: Algorithm
    public var plan: IterationPlan
    /// Ring pieces are sent in chunks of this many bytes so that reduction overlaps the transfer.
    public var chunkBytes: Int
    /// Fault injection for tests: this rank corrupts one element of its result before the check.
    public var corruptRank: Int?
    public var progress: ProgressLine?

    public init(sizes: [Int], elementType: ElementType = .float32, algorithm: Algorithm = .mpi,
                plan: IterationPlan = IterationPlan(), chunkBytes: Int = 1 << 20, corruptRank: Int? = nil,
                progress: ProgressLine? = nil) {
        self.sizes = sizes
        self.elementType = elementType
        self.algorithm = algorithm
        self.plan = plan
        self.chunkBytes = chunkBytes
        self.corruptRank = corruptRank
        self.progress = progress
    }

    public func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws {
        switch elementType {
        case .float32: try sweep(Float.self, on: communicator, record: record)
        case .float64: try sweep(Double.self, on: communicator, record: record)
        case .int32: try sweep(Int32.self, on: communicator, record: record)
        }
    }

    /// Sizes smaller than one element cannot be sent; they are left out, as OSU does.
    public var effectiveSizes: [Int] { sizes.filter { $0 >= elementType.byteCount } }

    private func sweep<T: ExactlySummable>(_ type: T.Type, on communicator: Communicator,
                                           record: (MeasuredPoint) throws -> Void) throws {
        let points = effectiveSizes
        for (index, bytes) in points.enumerated() {
            progress?.update("allreduce \(ByteCount.format(bytes))", step: index + 1, of: points.count)
            try record(try measurePoint(T.self, bytes: bytes, on: communicator))
        }
        progress?.finish()
    }

    private func measurePoint<T: ExactlySummable>(_ type: T.Type, bytes: Int, on communicator: Communicator) throws -> MeasuredPoint {
        let count = bytes / elementType.byteCount
        let rank = communicator.rank, size = communicator.size
        let (iterations, warmup) = plan.counts(forBytes: bytes)

        // Page-aligned, as OSU allocates its buffers: alignment changes shared-memory copy speed.
        let source = Allreduce.pageAligned(T.self, count: count)
        let result = Allreduce.pageAligned(T.self, count: count)
        defer { source.deallocate(); result.deallocate() }
        // Element i of rank r is (r + 1) * (i % 7 + 1): small integers, so every sum is exact.
        for index in 0..<count { source[index] = T((rank + 1) * (index % 7 + 1)) }
        result.initialize(repeating: 0)

        let ring = algorithm == .ring
            ? RingAllreduce<T>(count: count, chunkElements: max(chunkBytes / elementType.byteCount, 1), rank: rank, size: size)
            : nil
        defer { ring?.deallocate() }

        var samples = [Double](repeating: 0, count: iterations)
        for iteration in 0..<(warmup + iterations) {
            try communicator.barrier()
            let start = MPI.wallTime
            if let ring {
                try ring.run(UnsafeBufferPointer(source), into: result, on: communicator)
            } else {
                try communicator.allreduce(UnsafeBufferPointer(source), into: result, operation: .sum)
            }
            let elapsed = MPI.wallTime - start
            if iteration >= warmup { samples[iteration - warmup] = elapsed }
        }

        if corruptRank == rank, count > 0 { result[count / 2] += 1 }
        let ranksSum = size * (size + 1) / 2
        var problem: String?
        for index in 0..<count where result[index] != T(ranksSum * (index % 7 + 1)) {
            problem = "rank \(rank): element \(index) is \(result[index]), expected \(ranksSum * (index % 7 + 1))"
            break
        }
        // Every rank's first wrong element, if any; the point is verified only when no rank found one.
        let firstProblem = try communicator.allgather(problem ?? "").first { !$0.isEmpty }
        let allGood = firstProblem == nil

        let slowest = try Timing.slowest(samples, over: communicator)
        let median = Summary(of: slowest).p50
        let algbw = median > 0 ? Double(bytes) / median / 1e9 : 0
        return MeasuredPoint(
            parameters: ["bytes": .number(Double(bytes)), "count": .number(Double(count)),
                         "dtype": .string(elementType.rawValue), "algorithm": .string(algorithm.rawValue),
                         "operation": "sum"],
            warmup: warmup, iterations: iterations, samples: slowest,
            throughput: ["algbw_gbps": algbw, "busbw_gbps": Allreduce.busBandwidth(algorithmBandwidth: algbw, ranks: size)],
            verified: allGood,
            verification: allGood ? "every element equals the exact sum over \(size) ranks" : (firstProblem ?? "mismatch"))
    }

    static func pageAligned<T>(_ type: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 4096)
        return UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: max(count, 1)), count: count)
    }

    /// nccl-tests' bus bandwidth: what each link carries, `algbw * 2(n-1)/n`.
    public static func busBandwidth(algorithmBandwidth: Double, ranks: Int) -> Double {
        guard ranks > 1 else { return algorithmBandwidth }
        return algorithmBandwidth * 2 * Double(ranks - 1) / Double(ranks)
    }
}
