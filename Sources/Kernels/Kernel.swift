import Records
import MPI

/// What every workload podgap records declares about itself, next to its code: the name users
/// type after `podgap run` and records carry, and what it measures (metrics, headlines, bus
/// factor), which records carry so that readers need no list of kernel names.
public protocol Workload {
    static var name: String { get }
    static var descriptor: KernelDescriptor { get }
}

/// A workload measured the same way in every environment, collectively over MPI.
public protocol Kernel: Workload {
    /// Measures every point in order, handing each to `record` the moment it is done so that the
    /// collector can flush it before the next point starts. Collective over `communicator`.
    func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws

    /// The buffers one rank allocates for the heaviest point (rank 0's, where it holds more), for
    /// the check made before anything is allocated or any MPI traffic starts.
    func memoryPerRank(ranks: Int) -> MemoryNeed

    /// The thread level the kernel asks MPI_Init_thread for. Open MPI's small-message path is
    /// measurably slower at FUNNELED than at SINGLE (benchmarks/README), so a kernel during whose
    /// measurement no other thread works asks for SINGLE, as OSU's benchmarks (MPI_Init) do; one
    /// whose compute threads (OpenBLAS) run beside its MPI calls asks for FUNNELED, as the
    /// standard requires. The level granted goes in every record.
    static var threadLevel: MPI.ThreadLevel { get }
}

extension Kernel {
    public static var threadLevel: MPI.ThreadLevel { .funneled }
}

/// Bytes a kernel will allocate per rank, and the option that sets them, to name in a refusal.
public struct MemoryNeed: Sendable, Equatable {
    public var bytes: Int
    public var setBy: String

    public init(bytes: Int, setBy: String) { self.bytes = bytes; self.setBy = setBy }

    /// `count` buffers of `bytes` each, saturating instead of overflowing (sizes reach 2^60).
    public init(buffers count: Int, of bytes: Int, setBy: String) {
        let (product, overflow) = count.multipliedReportingOverflow(by: bytes)
        self.init(bytes: overflow ? Int.max : product, setBy: setBy)
    }
}

/// Iteration counts as OSU's benchmarks use them (osu_util.h, OMB 7.2): one set for collectives,
/// one for point-to-point latency, each switching above 8 KiB (LARGE_MESSAGE_SIZE).
public struct IterationPlan: Sendable, Equatable {
    /// Timed iterations and skipped warm-up ones, up to 8 KiB and above it.
    public struct Defaults: Sendable, Equatable {
        public var iterations: Int, warmup: Int, largeIterations: Int, largeWarmup: Int

        /// COLL_LOOP_SMALL/COLL_SKIP_SMALL, COLL_LOOP_LARGE/COLL_SKIP_LARGE.
        public static let collective = Defaults(iterations: 1000, warmup: 100, largeIterations: 100, largeWarmup: 10)
        /// LAT_LOOP_SMALL/LAT_SKIP_SMALL, LAT_LOOP_LARGE/LAT_SKIP_LARGE (osu_latency).
        public static let latency = Defaults(iterations: 10000, warmup: 100, largeIterations: 1000, largeWarmup: 10)
    }

    /// OSU's LARGE_MESSAGE_SIZE: above it, the large counts.
    public static let largeMessage = 8192

    public var iterations: Int?
    public var warmup: Int?

    public init(iterations: Int? = nil, warmup: Int? = nil) {
        self.iterations = iterations
        self.warmup = warmup
    }

    /// The counts for one size: the overrides where given, else the kernel's OSU defaults.
    public func counts(forBytes bytes: Int, defaults: Defaults = .collective) -> (iterations: Int, warmup: Int) {
        let large = bytes > IterationPlan.largeMessage
        return (iterations ?? (large ? defaults.largeIterations : defaults.iterations),
                warmup ?? (large ? defaults.largeWarmup : defaults.warmup))
    }
}

/// Per-call times reduced over ranks, in the two views records keep.
public enum Timing {
    /// Per-iteration times reduced so that each iteration counts its slowest rank (`seconds`).
    public static func slowest(_ samples: [Double], over communicator: Communicator) throws -> [Double] {
        var result = samples
        try result.withUnsafeMutableBufferPointer { try communicator.allreduce(inPlace: $0, operation: .max) }
        return result
    }

    /// OSU's view (osu_allreduce): each rank's mean time per call, then the mean, smallest and
    /// largest of those means over ranks. Collective; every rank gets the result.
    public static func osu(_ samples: [Double], over communicator: Communicator) throws -> OSUStatistics {
        let means = try communicator.allgather([mean(samples)])
        return osu(perRankMeans: means)
    }

    /// OSU's Avg, Min and Max from each rank's mean per call.
    public static func osu(perRankMeans means: [Double]) -> OSUStatistics {
        precondition(!means.isEmpty, "OSU statistics need at least one rank")
        return OSUStatistics(avg: means.reduce(0, +) / Double(means.count), min: means.min()!, max: means.max()!)
    }

    /// OSU's view from every rank's per-call times (rank-major), as `osu(_:over:)` computes it.
    public static func osu(perRankTimes times: [[Double]]) -> OSUStatistics {
        osu(perRankMeans: times.map(mean))
    }

    /// osu_latency's number: rank 0's half round trips averaged over iterations, in all three.
    public static func osuLatency(halfRoundTrips: [Double]) -> OSUStatistics {
        let value = mean(halfRoundTrips)
        return OSUStatistics(avg: value, min: value, max: value)
    }

    /// OSU sums the timed calls and divides by the iterations: the arithmetic mean.
    static func mean(_ samples: [Double]) -> Double {
        samples.isEmpty ? 0 : samples.reduce(0, +) / Double(samples.count)
    }
}


/// A kernel whose only parameters are how often it repeats: `podgap run` builds its command, its
/// options and its table from this alone, so such a kernel is its own file plus one line in the
/// CLI's kernel list (`RunKernels.commands`).
public protocol RepeatingKernel: Kernel {
    /// One line for `podgap run --help`.
    static var abstract: String { get }
    /// Timed and warm-up iterations when the options leave them out.
    static var defaultPlan: IterationPlan.Defaults { get }
    var iterations: Int { get }
    var warmup: Int { get }
    /// The kernel for these counts, checked: `InvalidParameters` names the option.
    init(iterations: Int, warmup: Int, progress: ProgressLine?) throws
}
