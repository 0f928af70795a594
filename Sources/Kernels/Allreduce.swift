import Compute
import Records
import MPI

/// Allreduce latency and bandwidth over a sweep of message sizes, timed as osu_allreduce times it,
/// with MPI's own algorithm or a ring (reduce-scatter then allgather, as NCCL and Horovod do)
/// written in Swift.
public struct Allreduce: Kernel {
    public static let name = "allreduce"
    /// Only the main thread runs while it measures: OSU's level (Kernel.threadLevel).
    public static let threadLevel = MPI.ThreadLevel.single

    /// nccl-tests' allreduce: bandwidth from the median time, the bus bandwidth 2(n-1)/n of it;
    /// OSU's Avg beside the slowest-rank time per call.
    public static let descriptor = KernelDescriptor(
        metrics: [
            .init(key: "seconds", label: "time per call (slowest rank)", unit: "seconds", direction: .lowerIsBetter),
            .init(key: "osu.avg", label: "OSU average latency", unit: "seconds", direction: .lowerIsBetter),
            .init(key: "algbw_gbps", label: "algorithm bandwidth", unit: "gigabytes_per_second", direction: .higherIsBetter),
            .init(key: "busbw_gbps", label: "bus bandwidth", unit: "gigabytes_per_second", direction: .higherIsBetter),
        ],
        headlines: [.init(label: "small-message latency", point: .smallest, asRate: false),
                    .init(label: "large-message bandwidth", point: .largest, asRate: true)],
        busFactor: .allreduce, order: 0, role: .allreduce)

    /// osu_allreduce's default sweep: MIN_MESSAGE_SIZE to MAX_MSG_SIZE_COLL; sizes below one
    /// element are skipped, as OSU skips them.
    public static let defaultSizes = "1:1M"

    public enum Algorithm: String, CaseIterable, Sendable {
        case mpi, ring
    }

    /// Where the sum lands: a separate buffer, or the send buffer itself (MPI_IN_PLACE), as
    /// nccl-tests' out-of-place and in-place columns.
    public enum Placement: String, CaseIterable, Sendable {
        case outOfPlace = "out-of-place"
        case inPlace = "in-place"
    }

    public var sizes: [Int]
    public var elementType: ElementType
    public var algorithm: Algorithm
    /// Measured in this order at every size, one point each (nccl-tests measures both).
    public var placements: [Placement]
    public var plan: IterationPlan
    /// Ring pieces are sent in chunks of this many bytes so that reduction overlaps the transfer.
    public var chunkBytes: Int
    /// Fault injection for tests: this rank corrupts one element of its result before the check.
    public var corruptRank: Int?
    public var progress: ProgressLine?

    public init(sizes: [Int], elementType: ElementType = .float32, algorithm: Algorithm = .mpi, placements: [Placement] = [.outOfPlace],
                plan: IterationPlan = IterationPlan(), chunkBytes: Int = 1 << 20, corruptRank: Int? = nil,
                progress: ProgressLine? = nil) {
        self.sizes = sizes
        self.elementType = elementType
        self.algorithm = algorithm
        self.placements = placements
        self.plan = plan
        self.chunkBytes = chunkBytes
        self.corruptRank = corruptRank
        self.progress = progress
    }

    /// Sizes smaller than one element cannot be sent; they are left out, as OSU does.
    public var effectiveSizes: [Int] { sizes.filter { $0 >= elementType.byteCount } }

    /// Checks what needs no MPI: at least one size holds an element, and every size's element
    /// count fits one MPI count (a C int).
    public func validate(sizesText: String) throws {
        guard let largest = effectiveSizes.max() else {
            throw InvalidParameters(description: "--sizes '\(sizesText)' holds no size of at least one \(elementType.rawValue) element (\(elementType.byteCount) bytes)")
        }
        let count = largest / elementType.byteCount
        guard count <= Int(Int32.max) else {
            throw InvalidParameters(description: "--sizes: \(ByteCount.format(largest)) is \(count) \(elementType.rawValue) elements, more than one MPI count holds (\(Int32.max))")
        }
        guard chunkBytes > 0 else { throw InvalidParameters(description: "--chunk must be greater than zero") }
        guard !placements.isEmpty else { throw InvalidParameters(description: "an allreduce needs at least one placement") }
    }

    /// A send and a receive buffer of the largest size, and the ring's scratch piece.
    public func memoryPerRank(ranks: Int) -> MemoryNeed {
        let largest = effectiveSizes.max() ?? 0
        return MemoryNeed(buffers: algorithm == .ring ? 3 : 2, of: largest, setBy: "--sizes \(ByteCount.format(largest))")
    }

    public func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws {
        switch elementType {
        case .float32: try sweep(Float.self, on: communicator, record: record)
        case .float64: try sweep(Double.self, on: communicator, record: record)
        case .int32: try sweep(Int32.self, on: communicator, record: record)
        }
    }

    private func sweep<T: ExactlySummable>(_ type: T.Type, on communicator: Communicator,
                                           record: (MeasuredPoint) throws -> Void) throws {
        let points = effectiveSizes
        // One pair of buffers of the largest size for the whole sweep, page-aligned, as OSU
        // allocates them: alignment changes shared-memory copy speed. Each is a mapping of its own
        // (PageBuffer), outside the heap where Open MPI's temporaries land.
        let largest = (points.max() ?? 0) / elementType.byteCount
        let sourceMapping = try PageBuffer<T>(count: largest, message: true)
        defer { sourceMapping.release() }
        let resultMapping = try PageBuffer<T>(count: largest, message: true)
        defer { resultMapping.release() }
        let source = sourceMapping.buffer, result = resultMapping.buffer
        for (index, bytes) in points.enumerated() {
            progress?.update("allreduce \(ByteCount.format(bytes))", step: index + 1, of: points.count)
            let count = bytes / elementType.byteCount
            for placement in placements {
                try record(try measurePoint(bytes: bytes, inPlace: placement == .inPlace,
                                            source: UnsafeMutableBufferPointer(rebasing: source[..<count]),
                                            result: UnsafeMutableBufferPointer(rebasing: result[..<count]), on: communicator))
            }
        }
        progress?.finish()
    }

    /// Element i of rank r is (r + 1) * (i % 7 + 1): small integers, so every sum is exact.
    private static func contribution(rank: Int, index: Int) -> Int { (rank + 1) * (index % 7 + 1) }

    private func measurePoint<T: ExactlySummable>(bytes: Int, inPlace: Bool, source: UnsafeMutableBufferPointer<T>,
                                                  result: UnsafeMutableBufferPointer<T>, on communicator: Communicator) throws -> MeasuredPoint {
        let count = source.count
        let rank = communicator.rank, size = communicator.size
        let (iterations, warmup) = plan.counts(forBytes: bytes, defaults: .collective)
        for index in 0..<count { source[index] = T(Allreduce.contribution(rank: rank, index: index)) }
        if inPlace { _ = result.update(fromContentsOf: source) } else { result.update(repeating: 0) }

        let ring = algorithm == .ring
            ? RingAllreduce<T>(count: count, chunkElements: max(chunkBytes / elementType.byteCount, 1), rank: rank, size: size)
            : nil
        defer { ring?.deallocate() }
        func call() throws {
            switch (ring, inPlace) {
            case let (ring?, true): try ring.run(nil, into: result, on: communicator)
            case let (ring?, false): try ring.run(UnsafeBufferPointer(source), into: result, on: communicator)
            case (nil, true): try communicator.allreduce(inPlace: result, operation: .sum)
            case (nil, false): try communicator.allreduce(UnsafeBufferPointer(source), into: result, operation: .sum)
            }
        }

        // osu_allreduce's loop: one barrier before the point, then each call timed on its own with
        // a barrier after it, outside the timed region, so no rank starts a call early.
        var samples = [Double](repeating: 0, count: iterations)
        try communicator.barrier()
        for iteration in 0..<(warmup + iterations) {
            let start = MPI.wallTime
            try call()
            let elapsed = MPI.wallTime - start
            try communicator.barrier()
            if iteration >= warmup { samples[iteration - warmup] = elapsed }
        }
        // In place, every call summed the previous sums: check one call from fresh contributions,
        // as nccl-tests checks a separate call.
        if inPlace {
            _ = result.update(fromContentsOf: source)
            try call()
        }

        if corruptRank == rank, count > 0 { result[count / 2] += 1 }
        let ranksSum = size * (size + 1) / 2
        var problem: String?
        var wrongHere = 0
        for index in 0..<count where result[index] != T(ranksSum * (index % 7 + 1)) {
            if problem == nil { problem = "rank \(rank): element \(index) is \(result[index]), expected \(ranksSum * (index % 7 + 1))" }
            wrongHere += 1
        }
        // Every rank's first wrong element, if any; the point is verified only when no rank found one.
        let firstProblem = try communicator.allgather(problem ?? "").first { !$0.isEmpty }
        let wrong = try communicator.allreduce(Int64(wrongHere), operation: .sum)

        let slowest = try Timing.slowest(samples, over: communicator)
        let osu = try Timing.osu(samples, over: communicator)
        let median = Summary(of: slowest).p50
        let algbw = median > 0 ? Double(bytes) / median / 1e9 : 0
        return MeasuredPoint(
            parameters: ["bytes": .number(Double(bytes)), "count": .number(Double(count)),
                         "dtype": .string(elementType.rawValue), "algorithm": .string(algorithm.rawValue),
                         "operation": "sum", "in_place": .bool(inPlace)],
            warmup: warmup, iterations: iterations, samples: slowest,
            throughput: ["algbw_gbps": algbw, "busbw_gbps": algbw * Allreduce.descriptor.busFactor!.factor(ranks: size)],
            verified: firstProblem == nil,
            verification: firstProblem.map { wrong > 1 ? "\($0) (\(wrong) elements wrong)" : $0 }
                ?? "every element equals the exact sum over \(size) ranks",
            osu: osu, wrong: Int(wrong))
    }
}
