import Statistics
/// One environment against the baseline on one point: the gap of medians, its interval, the
/// rank test, and a verdict only where the interval leaves no doubt about the sign.
public struct Comparison: Sendable {
    public var point: PointKey
    public var environment: String
    public var baseline: String
    public var median: Double
    public var baselineMedian: Double
    public var trials: Int
    public var baselineTrials: Int
    /// `(median - baselineMedian) / baselineMedian`: positive means slower than the baseline.
    public var gap: Double
    public var interval: ClosedRange<Double>?
    public var pValue: Double?
    public var unverified: Int

    public init(point: PointKey, candidate: EnvironmentPoint, baseline: EnvironmentPoint, bootstrap: Bootstrap) {
        self.point = point
        environment = candidate.environment
        self.baseline = baseline.environment
        median = candidate.median
        baselineMedian = baseline.median
        trials = candidate.trialMedians.count
        baselineTrials = baseline.trialMedians.count
        gap = baseline.median > 0 ? candidate.median / baseline.median - 1 : 0
        interval = bootstrap.gapInterval(baseline: baseline.trialMedians, candidate: candidate.trialMedians)
        pValue = MannWhitney.test(candidate.trialMedians, baseline.trialMedians)?.pValue
        unverified = candidate.unverified + baseline.unverified
    }

    public enum Verdict: String, Sendable { case slower, faster, unclear }

    /// Slower or faster only where the whole interval lies on one side of zero.
    public var verdict: Verdict {
        guard let interval else { return .unclear }
        if interval.lowerBound > 0 { return .slower }
        if interval.upperBound < 0 { return .faster }
        return .unclear
    }

    /// The same comparison read as a rate (bandwidth, samples/s): rate gap = 1 / (1 + time gap) - 1.
    public var rateGap: Double { 1 / (1 + gap) - 1 }
    public var rateInterval: ClosedRange<Double>? {
        interval.map { (1 / (1 + $0.upperBound) - 1)...(1 / (1 + $0.lowerBound) - 1) }
    }

    /// "+7.9% [+6.1, +9.8], p < 0.01" for times; `asRate` gives the rate's gap instead.
    public func summary(asRate: Bool = false) -> String {
        let value = asRate ? rateGap : gap
        var text = Format.percent(value)
        if let range = asRate ? rateInterval : interval {
            text += " [\(Format.percent(range.lowerBound, unit: false)), \(Format.percent(range.upperBound, unit: false))]"
        }
        if let pValue { text += ", " + Format.pValue(pValue) }
        return text
    }
}
