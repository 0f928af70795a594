/// What a kernel measures and how a reader should judge it, as each nccl-tests collective
/// declares its own: the metrics with units, the headlines, the bus-bandwidth factor. Each kernel
/// declares one next to its code; records carry it (`descriptor`), so reports and exporters need
/// no list of kernel names.
public struct KernelDescriptor: Codable, Equatable, Sendable {
    public enum Direction: String, Codable, Sendable {
        case lowerIsBetter = "lower"
        case higherIsBetter = "higher"
    }

    public struct Metric: Codable, Equatable, Sendable {
        /// Where the value sits in a record: `seconds` (per-iteration time), `osu.avg`, or a key of
        /// `throughput` (`busbw_gbps`, `samples_per_second` ...).
        public var key: String
        /// Words for a reader: "bus bandwidth".
        public var label: String
        /// The unit, as OpenMetrics spells units: "seconds", "gigabytes_per_second", "samples_per_second".
        public var unit: String
        public var direction: Direction

        public init(key: String, label: String, unit: String, direction: Direction) {
            self.key = key; self.label = label; self.unit = unit; self.direction = direction
        }
    }

    /// One number a reader looks for first, compared between environments through the median
    /// per-iteration time; `asRate` reads the gap as a rate (bandwidth, samples/s), where more is
    /// better.
    public struct Headline: Codable, Equatable, Sendable {
        /// Which of the kernel's points: the smallest or largest message of a sweep, or the one the
        /// baseline takes longest on.
        public enum Point: String, Codable, Sendable { case smallest, largest, heaviest }
        public var label: String
        public var point: Point
        public var asRate: Bool

        public init(label: String, point: Point, asRate: Bool) {
            self.label = label; self.point = point; self.asRate = asRate
        }
    }

    /// nccl-tests' bus bandwidth: what each link carries for the operation's algorithm bandwidth.
    public enum BusFactor: String, Codable, Sendable {
        /// 2(n-1)/n.
        case allreduce
        /// (n-1)/n.
        case allgather, reduceScatter
        /// 1.
        case unity

        public func factor(ranks: Int) -> Double {
            guard ranks > 1 else { return 1 }
            let n = Double(ranks)
            switch self {
            case .allreduce: return 2 * (n - 1) / n
            case .allgather, .reduceScatter: return (n - 1) / n
            case .unity: return 1
            }
        }
    }

    /// What the model (podgap model) may calibrate from a kernel's records: the kernel says which
    /// cost it measures, so the model needs no list of kernel names.
    public enum Role: String, Codable, Sendable {
        /// An allreduce over a sweep of message sizes (`params.bytes`): the collective link's fit.
        case allreduce
        /// One message one way over a sweep of sizes (half a ping-pong round trip): the one-way fit.
        case pointToPoint = "point-to-point"
        /// A data-parallel training step (`params.batch`, `phases.compute`): compute and overlap.
        case trainingStep = "training-step"

        /// The roles of the kernels recorded before descriptors carried one (their records keep
        /// calibrating): names as those podgaps and the OSU imports wrote them, frozen; a kernel
        /// added since declares its role in its descriptor instead.
        public init?(legacyKernel kernel: String) {
            switch kernel {
            case "allreduce": self = .allreduce
            case "pingpong", "latency", "verbs-pingpong", "osu-latency": self = .pointToPoint
            case "train": self = .trainingStep
            default: return nil
            }
        }
    }

    public var metrics: [Metric]
    public var headlines: [Headline]
    public var busFactor: BusFactor?
    /// Reading order among kernels in reports (lower first).
    public var order: Int
    /// What the model calibrates from these records; nil for a kernel it does not read (and in
    /// records written before roles: `Record.role` then falls back to the kernel's name).
    public var role: Role?
    /// A phase of the kernel's records (`phases`) that times computation alone, at the moments the
    /// kernel runs and with no message in flight: the machine's speed for this kernel, which no
    /// network moves. A report adjusts this kernel's paired ratios by it instead of by the probe,
    /// which ran before the kernel and, on a machine whose speed changes within a second, misses
    /// the kernel's own mode (benchmarks/README.md, "The step's noise"). Nil: the probe.
    public var modePhase: String?

    public init(metrics: [Metric], headlines: [Headline], busFactor: BusFactor? = nil, order: Int, role: Role? = nil,
                modePhase: String? = nil) {
        self.metrics = metrics; self.headlines = headlines; self.busFactor = busFactor; self.order = order; self.role = role
        self.modePhase = modePhase
    }

    /// For records that carry no descriptor (schema 1, hand-made files): time per iteration,
    /// lower is better, after every kernel that describes itself.
    public static let generic = KernelDescriptor(
        metrics: [Metric(key: "seconds", label: "time per iteration", unit: "seconds", direction: .lowerIsBetter)],
        headlines: [Headline(label: "time per iteration", point: .heaviest, asRate: false)],
        order: 1000)

    /// The same for a kernel whose records sweep message sizes (`params.bytes`): latency at the
    /// smallest size, bandwidth at the largest, as OSU-style tables are read.
    public static let genericSweep = KernelDescriptor(
        metrics: [Metric(key: "seconds", label: "time per call", unit: "seconds", direction: .lowerIsBetter)],
        headlines: [Headline(label: "small-message latency", point: .smallest, asRate: false),
                    Headline(label: "large-message bandwidth", point: .largest, asRate: true)],
        order: 1000)
}
