/// One measured point as a kernel produces it, before the collector adds run and environment.
public struct MeasuredPoint: Sendable {
    /// Parameters that identify the point (bytes, dtype, algorithm, grid ...).
    public var parameters: [String: JSONValue]
    public var warmup: Int
    public var iterations: Int
    /// Per-iteration seconds, each the slowest rank's.
    public var samples: [Double]
    /// Kernel-specific rates: algbw/busbw (GB/s), cells per second, samples per second ...
    public var throughput: [String: Double]
    /// Named parts of an iteration (exchange, compute, exposed communication), slowest rank each.
    public var phases: [String: [Double]]
    public var verified: Bool
    /// What was checked, or what went wrong, in a sentence.
    public var verification: String
    /// OSU's own view of the point (mean over ranks of per-rank means, and their min and max).
    public var osu: OSUStatistics?
    /// Elements that failed verification, where the kernel counts them (nccl-tests' #wrong).
    public var wrong: Int?

    public init(parameters: [String: JSONValue], warmup: Int, iterations: Int, samples: [Double],
                throughput: [String: Double] = [:], phases: [String: [Double]] = [:],
                verified: Bool, verification: String, osu: OSUStatistics? = nil, wrong: Int? = nil) {
        self.parameters = parameters
        self.warmup = warmup
        self.iterations = iterations
        self.samples = samples
        self.throughput = throughput
        self.phases = phases
        self.verified = verified
        self.verification = verification
        self.osu = osu
        self.wrong = wrong
    }
}
