import Records
import MPI

/// A workload measured the same way in every environment.
public protocol Kernel {
    /// The name users type after `podgap run` and records carry.
    static var name: String { get }

    /// Measures every point in order, handing each to `record` the moment it is done so that the
    /// collector can flush it before the next point starts. Collective over `communicator`.
    func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws
}

/// Iteration counts as OSU's collective benchmarks use them.
public struct IterationPlan: Sendable, Equatable {
    public var iterations: Int?
    public var warmup: Int?

    public init(iterations: Int? = nil, warmup: Int? = nil) {
        self.iterations = iterations
        self.warmup = warmup
    }

    /// 1000 timed and 100 warm-up up to 8 KiB, 100 and 10 above, unless overridden.
    public func counts(forBytes bytes: Int) -> (iterations: Int, warmup: Int) {
        let large = bytes > 8192
        return (iterations ?? (large ? 100 : 1000), warmup ?? (large ? 10 : 100))
    }
}

/// Per-iteration wall times, reduced over ranks so that each iteration counts its slowest rank.
public enum Timing {
    public static func slowest(_ samples: [Double], over communicator: Communicator) throws -> [Double] {
        var result = samples
        try result.withUnsafeMutableBufferPointer { try communicator.allreduce(inPlace: $0, operation: .max) }
        return result
    }
}
