import Compute
import Records
import MPI

/// One-way message time over a sweep of sizes, as osu_latency measures it: rank 0 sends, rank 1
/// receives and sends as many bytes of its own back, and half the round trip is one message. One message
/// is in flight at a time, in one direction at a time: the cost of each round of a binomial tree
/// (a reduce, a broadcast, libnbc's in-place allreduce), which an allreduce sweep, moving data
/// both ways at once, cannot give where a link or a CPU is not full duplex.
public struct PingPong: Kernel {
    public static let name = "pingpong"
    /// Only the main thread runs while it measures: OSU's level (Kernel.threadLevel).
    public static let threadLevel = MPI.ThreadLevel.single

    /// osu_latency: one-way time (half the round trip), and the bandwidth one message in flight reaches.
    public static let descriptor = KernelDescriptor(
        metrics: [
            .init(key: "seconds", label: "one-way time", unit: "seconds", direction: .lowerIsBetter),
            .init(key: "osu.avg", label: "OSU latency", unit: "seconds", direction: .lowerIsBetter),
            .init(key: "bandwidth_gbps", label: "one-way bandwidth", unit: "gigabytes_per_second", direction: .higherIsBetter),
        ],
        headlines: [.init(label: "small-message one-way latency", point: .smallest, asRate: false),
                    .init(label: "large-message one-way bandwidth", point: .largest, asRate: true)],
        order: 1, role: .pointToPoint)

    /// osu_latency's default sweep: 1 B (size 0 moves no element and OSU 7 skips it) to
    /// MAX_MESSAGE_SIZE, 4 MiB.
    public static let defaultSizes = "1:4M"

    public var sizes: [Int]
    public var plan: IterationPlan
    /// Fault injection for tests: this rank flips a byte of what it received before the check.
    public var corruptRank: Int?
    public var progress: ProgressLine?

    public init(sizes: [Int], plan: IterationPlan = IterationPlan(), corruptRank: Int? = nil, progress: ProgressLine? = nil) {
        self.sizes = sizes; self.plan = plan; self.corruptRank = corruptRank; self.progress = progress
    }

    /// What a sweep needs before MPI starts: sizes of at least one byte (ranks: `check(ranks:)`).
    public func validate(sizesText: String) throws {
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else {
            throw InvalidParameters(description: "--sizes '\(sizesText)' holds no size of at least 1 byte")
        }
    }

    /// An outgoing and an incoming buffer of the largest size.
    public func memoryPerRank(ranks: Int) -> MemoryNeed {
        let largest = sizes.max() ?? 0
        return MemoryNeed(buffers: 2, of: largest, setBy: "--sizes \(ByteCount.format(largest))")
    }

    public func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws {
        try PingPong.check(ranks: communicator.size)
        // One pair of page-aligned buffers of the largest size for the whole sweep, as osu_latency
        // allocates them: fresh buffers per size measured slower from 4 KiB up (benchmarks/README).
        let largest = sizes.max() ?? 0
        let outgoingMapping = try PageBuffer<UInt8>(count: largest, message: true)
        defer { outgoingMapping.release() }
        let incomingMapping = try PageBuffer<UInt8>(count: largest, message: true)
        defer { incomingMapping.release() }
        let outgoing = outgoingMapping.buffer, incoming = incomingMapping.buffer
        for (index, bytes) in sizes.enumerated() {
            progress?.update("pingpong \(ByteCount.format(bytes))", step: index + 1, of: sizes.count)
            try record(try measurePoint(bytes: bytes, outgoing: UnsafeMutableBufferPointer(rebasing: outgoing[..<bytes]),
                                        incoming: UnsafeMutableBufferPointer(rebasing: incoming[..<bytes]), on: communicator))
        }
        progress?.finish()
    }

    private func measurePoint(bytes: Int, outgoing: UnsafeMutableBufferPointer<UInt8>, incoming: UnsafeMutableBufferPointer<UInt8>,
                              on communicator: Communicator) throws -> MeasuredPoint {
        let rank = communicator.rank, peer = 1 - rank
        let (iterations, warmup) = plan.counts(forBytes: bytes, defaults: .latency)
        // Each rank sends its own bytes, a pattern of the size and the sender. Rank 1 does not echo
        // what it got: osu_latency's rank 1 sends from its own buffer, and sending the bytes just
        // received (dirty in its cache) measured 9-16% slower from 16 KiB up over shared memory.
        for index in 0..<bytes { outgoing[index] = PingPong.pattern(index, bytes, from: rank) }
        incoming.update(repeating: 0)

        // osu_latency's loop: one barrier before the point, then rank 0 times each round trip.
        var samples = [Double](repeating: 0, count: iterations)
        try communicator.barrier()
        for iteration in 0..<(warmup + iterations) {
            if rank == 0 {
                let start = MPI.wallTime
                try communicator.send(UnsafeBufferPointer(outgoing), to: peer)
                try communicator.receive(into: incoming, from: peer)
                if iteration >= warmup { samples[iteration - warmup] = (MPI.wallTime - start) / 2 }
            } else {
                try communicator.receive(into: incoming, from: peer)
                try communicator.send(UnsafeBufferPointer(outgoing), to: peer)
            }
        }

        if corruptRank == rank { incoming[bytes / 2] ^= 0xff }
        // Each rank checks what arrived against its peer's pattern: both directions, and a message
        // that came back to its own sender fails.
        var problem: String?
        for index in 0..<bytes where incoming[index] != PingPong.pattern(index, bytes, from: peer) {
            problem = "rank \(rank): byte \(index) is \(incoming[index]), expected \(PingPong.pattern(index, bytes, from: peer))"
            break
        }
        let firstProblem = try communicator.allgather(problem ?? "").first { !$0.isEmpty }
        // Only rank 0 times; the other rank's zeros do not change the maximum.
        let timed = try Timing.slowest(samples, over: communicator)
        let median = Summary(of: timed).p50
        return MeasuredPoint(
            parameters: ["bytes": .number(Double(bytes)), "pattern": "one message each way in turn; half the round trip"],
            warmup: warmup, iterations: iterations, samples: timed,
            throughput: ["bandwidth_gbps": median > 0 ? Double(bytes) / median / 1e9 : 0],
            verified: firstProblem == nil,
            verification: firstProblem ?? "every byte arrived as sent, both ways",
            osu: Timing.osuLatency(halfRoundTrips: timed))
    }

    /// Exactly two ranks, checked before any traffic (the command does it before MPI starts).
    public static func check(ranks: Int) throws {
        guard ranks == 2 else {
            throw InvalidParameters(description: "pingpong runs on exactly 2 ranks, as osu_latency does; this launch has \(ranks)")
        }
    }

    static func pattern(_ index: Int, _ bytes: Int, from sender: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: index &* 31 &+ bytes &+ 7 &+ sender &* 101)
    }
}
