import RDMA
import Records
import Kernels

/// The fabric's own numbers without MPI, as perftest measures them: one RC queue pair between a
/// client and a server (`VerbsServer`); the client drives every point and records it. Kernel-like:
/// a name and a descriptor like the MPI kernels, measured over a verbs connection instead of a
/// communicator. `Operation` says which baseline: `VerbsPingPong` or `VerbsBandwidth`.
public struct VerbsBaseline<Operation: VerbsOperation>: Workload {
    public static var name: String { Operation.name }
    public static var descriptor: KernelDescriptor { Operation.descriptor }

    public var sizes: [Int]
    public var plan: IterationPlan

    public init(sizes: [Int], plan: IterationPlan = IterationPlan()) { self.sizes = sizes; self.plan = plan }

    /// A send and a receive buffer of the largest size, registered on both sides.
    public func memoryPerRank(ranks: Int) -> MemoryNeed {
        let largest = sizes.max() ?? 0
        return MemoryNeed(buffers: 2, of: largest, setBy: "--sizes \(ByteCount.format(largest))")
    }

    /// Measures every size in order, handing each point to `record` the moment it is done.
    public func measure(with client: VerbsClient, progress: ProgressLine?, record: (MeasuredPoint) throws -> Void) throws {
        for (step, bytes) in sizes.enumerated() {
            progress?.update("\(Self.name) \(ByteCount.format(bytes))", step: step + 1, of: sizes.count)
            let counts = plan.counts(forBytes: bytes)
            let point = try Operation.measure(client, bytes: bytes, warmup: counts.warmup, iterations: counts.iterations)
            try record(measurement(point, device: client.device, port: client.port))
        }
        progress?.finish()
    }

    private func measurement(_ point: VerbsPoint, device: String, port: Int) -> MeasuredPoint {
        var throughput: [String: Double] = [:]
        if Self.descriptor.metrics.contains(where: { $0.key == "bw_gbps" }), point.elapsed > 0 {
            // GB/s (10^9 bytes), as the allreduce records' algbw.
            throughput["bw_gbps"] = Double(point.bytes * point.iterations) / point.elapsed / 1e9
            throughput["msg_rate_mps"] = Double(point.iterations) / point.elapsed / 1e6
        }
        return MeasuredPoint(parameters: ["bytes": .number(Double(point.bytes)), "operation": .string(Operation.operation),
                                          "transport": "verbs-rc", "device": .string(device), "port": .number(Double(port))],
                             warmup: point.warmup, iterations: point.iterations, samples: point.samples,
                             throughput: throughput, verified: point.verified, verification: point.verification)
    }
}

/// One verbs baseline: its name and descriptor, and how one point is measured.
public protocol VerbsOperation {
    static var name: String { get }
    static var descriptor: KernelDescriptor { get }
    /// What records carry in `params.operation`: "send" or "rdma-write".
    static var operation: String { get }
    static func measure(_ client: VerbsClient, bytes: Int, warmup: Int, iterations: Int) throws -> VerbsPoint
}

/// RDMA send/receive ping-pong, like perftest's ib_send_lat: half of each round trip.
public enum VerbsPingPong: VerbsOperation {
    public static let name = "verbs-pingpong"
    public static let operation = "send"
    public static let descriptor = KernelDescriptor(
        metrics: [.init(key: "seconds", label: "one-way time", unit: "seconds", direction: .lowerIsBetter)],
        headlines: [.init(label: "small-message one-way latency", point: .smallest, asRate: false)],
        order: 10, role: .pointToPoint)

    public static func measure(_ client: VerbsClient, bytes: Int, warmup: Int, iterations: Int) throws -> VerbsPoint {
        try client.pingPong(bytes: bytes, warmup: warmup, iterations: iterations)
    }
}

/// RDMA write bandwidth, like perftest's ib_write_bw.
public enum VerbsBandwidth: VerbsOperation {
    public static let name = "verbs-bw"
    public static let operation = "rdma-write"
    public static let descriptor = KernelDescriptor(
        metrics: [.init(key: "seconds", label: "time per message", unit: "seconds", direction: .lowerIsBetter),
                  .init(key: "bw_gbps", label: "write bandwidth", unit: "gigabytes_per_second", direction: .higherIsBetter),
                  .init(key: "msg_rate_mps", label: "message rate", unit: "megamessages_per_second", direction: .higherIsBetter)],
        headlines: [.init(label: "large-message write bandwidth", point: .largest, asRate: true)],
        order: 11)

    public static func measure(_ client: VerbsClient, bytes: Int, warmup: Int, iterations: Int) throws -> VerbsPoint {
        try client.bandwidth(bytes: bytes, warmup: warmup, iterations: iterations)
    }
}
