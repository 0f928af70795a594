import Records
import Statistics

/// One environment's measurements of one point: one value per launch (a round of a suite, or a
/// trial of separate runs), and their median.
public struct EnvironmentPoint: Sendable {
    /// What one launch measured at the point: the median over its records (a launch normally
    /// writes one record per point).
    public struct Launch: Sendable {
        /// The suite round, nil for a launch outside rounds (then `trial` tells launches apart).
        public var round: Int?
        public var trial: Int
        public var position: Int?
        public var iterations: Int
        public var seconds: Double
        public var mean: Double
        public var p99: Double
        public var osu: OSUStatistics?
        public var wrong: Int?
        public var throughput: [String: Double]
        public var probe: MachineProbe?
        /// The kernel's own computation time with nothing in flight (`RecordFacts.modeSeconds`),
        /// and the environment-derived parameters it computed with (`RecordFacts.derived`).
        public var modeSeconds: Double?
        public var derived: String
        /// Records with two different positions claimed this round: two launches of one
        /// environment in one round, so the round cannot be paired.
        public var duplicate: Bool
    }

    public var environment: String
    /// Verified, physically possible launches, in round (or trial) order.
    public var launches: [Launch]
    /// Each launch's median time, in the same order.
    public var trialMedians: [Double]
    /// Median over launches: the environment's value for the point.
    public var median: Double
    /// The bootstrap the report uses, for `interval`.
    var bootstrap: Bootstrap
    /// Bootstrap interval of that median (nil with fewer than two launches). Computed when asked:
    /// only the charts draw it, and a large report holds thousands of points.
    public var interval: ClosedRange<Double>? { bootstrap.medianInterval(trialMedians) }
    /// Records of the point that failed verification or lie outside physical bounds (kept out of
    /// the statistics), and the first such reason given by the bounds.
    public var unverified: Int
    public var implausible: String?

    /// True when every launch ran in a suite round: the point can be paired by round.
    public var inRounds: Bool { !launches.isEmpty && launches.allSatisfy { $0.round != nil } }
}
