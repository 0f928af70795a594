import Statistics
/// One environment's measurements of one point: the median of each trial, and their median.
public struct EnvironmentPoint: Sendable {
    public var environment: String
    /// Trial number -> median of that trial's records for the point, verified records only.
    public var trialMedians: [Double]
    /// Median over trials: the environment's value for the point.
    public var median: Double
    /// Bootstrap interval of that median (nil with fewer than two trials).
    public var interval: ClosedRange<Double>?
    /// Records of the point that failed verification (kept out of the statistics).
    public var unverified: Int
}
