import Foundation
import Records
import Statistics

/// One environment against another (the baseline, or its neighbour on the ladder) on one point.
///
/// Paired, where both ran in suite rounds: per round the log ratio of the two launches' medians;
/// the gap is the median of those ratios, its interval an expanded-percentile bootstrap over rounds
/// (`Bootstrap.pairedMedianInterval`), p the Wilcoxon signed-rank test. The median, not the
/// Hodges-Lehmann estimate, because a round whose two launches ran in different machine modes
/// gives a ratio 2-5x off: the median ignores a minority of such rounds where a mean of pairs
/// does not, and its bootstrap costs O(1) per resample beyond a hundred rounds.
///
/// Unpaired otherwise (separate runs, hand-made files): the median over trials of each side,
/// bootstrap of each side on its own, Mann-Whitney U over trial medians.
public struct Comparison: Sendable {
    public enum Pairing: Sendable, Equatable {
        case paired(rounds: Int)
        case unpaired
    }

    public var point: PointKey
    public var environment: String
    public var baseline: String
    public var pairing: Pairing
    public var median: Double
    public var baselineMedian: Double
    /// Launches of each side used: rounds when paired (both the same), trials when unpaired.
    public var trials: Int
    public var baselineTrials: Int
    /// `environment / baseline - 1` as estimated: positive means slower than the baseline.
    public var gap: Double
    /// The same as a log ratio: what attribution adds up.
    public var logGap: Double
    public var interval: ClosedRange<Double>?
    public var pValue: Double?
    public var unverified: Int
    /// The equivalence margin E: "equivalent" needs the whole interval inside ±E.
    public var equivalence: Double
    /// Rounds that could not be paired here (one side absent, or a side launched twice), and
    /// rounds whose two launches ran in different machine modes (`MachineMode`); `excluded` of
    /// the latter were dropped (`--exclude-mixed`).
    public var missingRounds: [Int] = []
    public var duplicateRounds: [Int] = []
    public var mixedRounds: [Int] = []
    public var excludedMixed = 0
    /// The slope of the mode adjustment (`ModeAdjustment`) where the paired ratios were adjusted,
    /// and what measured the mode.
    public var modeSlope: Double?
    public var modeCovariate: ModeAdjustment.Covariate?

    public var isPaired: Bool { if case .paired = pairing { return true } else { return false } }

    /// Paired by round. `covariates` (one per ratio: the log ratio of the two launches' probe
    /// rates) adjust the ratios for the machine's mode (`ModeAdjustment`) where there are enough
    /// rounds. `estimateOnly` leaves out the interval and p (to choose points cheaply).
    init(point: PointKey, environment: String, baseline: String, ratios: [Double], covariates: [Double]? = nil,
         covariateSource: ModeAdjustment.Covariate = .probe, candidateMedians: [Double], baselineMedians: [Double], options: Analysis.Options, estimateOnly: Bool = false) {
        self.point = point
        self.environment = environment
        self.baseline = baseline
        pairing = .paired(rounds: ratios.count)
        trials = ratios.count
        baselineTrials = ratios.count
        median = Median.of(candidateMedians) ?? 0
        baselineMedian = Median.of(baselineMedians) ?? 0
        let adjustment = covariates.flatMap { ModeAdjustment(ratios: ratios, covariates: $0) }
        let used = covariates.flatMap { adjustment?.adjusted(ratios, covariates: $0) } ?? ratios
        modeSlope = adjustment?.slope
        modeCovariate = adjustment == nil ? nil : covariateSource
        logGap = Median.of(used) ?? 0
        gap = exp(logGap) - 1
        unverified = 0
        equivalence = options.equivalence
        guard !estimateOnly else { return }
        let logInterval: ClosedRange<Double>?
        if let covariates, adjustment != nil, ratios.count <= Comparison.slopeResampledUpTo {
            // The slope is estimated again in every resample: the interval carries its uncertainty.
            logInterval = options.bootstrap.pairedInterval(rounds: ratios.count) { indices in
                ModeAdjustment.adjustedMedian(ratios: ratios, covariates: covariates, indices: indices)
            }
        } else {
            logInterval = options.bootstrap.pairedMedianInterval(used)
        }
        interval = logInterval.map { (exp($0.lowerBound) - 1)...(exp($0.upperBound) - 1) }
        pValue = WilcoxonSignedRank.test(used)?.pValue ?? (used.isEmpty ? nil : 1)
    }

    /// Beyond this many rounds the slope is estimated once: its error is then small against the
    /// median's, and the bootstrap keeps its O(1)-per-resample path for large reports.
    static let slopeResampledUpTo = 200

    /// Unpaired, trial medians on each side.
    init(point: PointKey, candidate: EnvironmentPoint, baseline: EnvironmentPoint, options: Analysis.Options,
         estimateOnly: Bool = false) {
        self.point = point
        environment = candidate.environment
        self.baseline = baseline.environment
        pairing = .unpaired
        median = candidate.median
        baselineMedian = baseline.median
        trials = candidate.trialMedians.count
        baselineTrials = baseline.trialMedians.count
        gap = baseline.median > 0 ? candidate.median / baseline.median - 1 : 0
        logGap = gap > -1 ? log1p(gap) : 0
        unverified = candidate.unverified + baseline.unverified
        equivalence = options.equivalence
        guard !estimateOnly else { return }
        interval = options.bootstrap.gapInterval(baseline: baseline.trialMedians, candidate: candidate.trialMedians)
        pValue = MannWhitney.test(candidate.trialMedians, baseline.trialMedians)?.pValue
    }

    public enum Verdict: String, Sendable {
        case slower, faster, equivalent
        case notResolved = "not resolved"
    }

    /// Time verdict: slower or faster where the whole interval lies on one side of zero;
    /// equivalent where it lies inside ±E (two one-sided tests, each at 2.5%); otherwise not
    /// resolved. An interval both off zero and inside ±E is a difference shown, so it reads
    /// slower or faster.
    public var verdict: Verdict { verdict(asRate: false) }

    /// The verdict on the scale a reader sees: for a rate, equivalence is judged on the rate's
    /// interval (a time +5% is a rate -4.8%), and slower reads as lower.
    public func verdict(asRate: Bool) -> Verdict {
        guard let interval, let range = asRate ? rateInterval : interval else { return .notResolved }
        if interval.lowerBound > 0 { return .slower }
        if interval.upperBound < 0 { return .faster }
        if range.lowerBound >= -equivalence && range.upperBound <= equivalence { return .equivalent }
        return .notResolved
    }

    /// The smallest gap this run could have detected: half the interval's width, on the log
    /// scale, as a percentage. A true gap at least this large, measured with the same spread,
    /// has an interval that excludes zero about half the time or more; a "not resolved" with a
    /// resolution of ±40% says "noisy", not "small".
    public var resolution: Double? {
        guard let interval, interval.lowerBound > -1 else { return nil }
        return exp((log1p(interval.upperBound) - log1p(interval.lowerBound)) / 2) - 1
    }

    /// The same comparison read as a rate (bandwidth, samples/s): rate gap = 1 / (1 + time gap) - 1.
    public var rateGap: Double { 1 / (1 + gap) - 1 }
    public var rateInterval: ClosedRange<Double>? {
        interval.map { (1 / (1 + $0.upperBound) - 1)...(1 / (1 + $0.lowerBound) - 1) }
    }

    /// "+7.9% [+6.1, +9.8], p < 0.01" for times; `asRate` gives the rate's gap instead.
    public func summary(asRate: Bool = false) -> String {
        let value = asRate ? rateGap : gap
        var text = NumberText.percent(value)
        if let range = asRate ? rateInterval : interval {
            text += " [\(NumberText.percent(range.lowerBound, unit: false)), \(NumberText.percent(range.upperBound, unit: false))]"
        }
        if let pValue { text += ", " + NumberText.pValue(pValue) }
        return text
    }

    /// "12 rounds" when paired, "3/3 trials (unpaired)" otherwise: what the line rests on.
    public var basis: String {
        switch pairing {
        case .paired(let rounds): return "\(rounds) round\(rounds == 1 ? "" : "s")"
        case .unpaired: return "\(trials)/\(baselineTrials) trials (unpaired)"
        }
    }
}

/// Whether two launches ran with the machine in the same mode, judged by the short probe each ran
/// before its kernel. The machines this was built on run each launch in a fast or a slow mode
/// 2-5x apart, while a probe's own jitter between launches in one mode stays well under 1.5x: so
/// two launches are in different modes when their float-sum rates or their GEMM rates differ by
/// more than `factor` (1.5) either way.
public enum MachineMode {
    public static let factor = 1.5

    public static func differ(_ a: MachineProbe, _ b: MachineProbe, factor: Double = MachineMode.factor) -> Bool {
        func apart(_ x: Double, _ y: Double) -> Bool {
            guard x > 0, y > 0, x.isFinite, y.isFinite else { return false }
            return max(x, y) / min(x, y) > factor
        }
        return apart(a.sumGBps, b.sumGBps) || apart(a.gemmGflops, b.gemmGflops)
    }
}
