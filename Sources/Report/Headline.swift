/// The one number per kernel a reader looks for: small-message latency and large-message
/// bandwidth for size sweeps, iteration time for halo exchange, samples/s for training, startup.
public struct Headline: Sendable {
    public var kernel: String
    /// What is compared, e.g. "small-message latency (4 B)".
    public var metric: String
    /// True when the metric is a rate (bandwidth, samples/s): its gap is read from `comparison` as a rate.
    public var isRate: Bool
    public var comparison: Comparison

    public var gap: Double { isRate ? comparison.rateGap : comparison.gap }
    public var interval: ClosedRange<Double>? { isRate ? comparison.rateInterval : comparison.interval }
    public var summary: String { comparison.summary(asRate: isRate) }

    /// A rate that drops is as bad as a time that grows.
    public var verdict: Comparison.Verdict { comparison.verdict }

    /// Headlines of one environment (against whatever baseline `comparisons` hold), per kernel.
    public static func select(from comparisons: [Comparison]) -> [Headline] {
        var headlines: [Headline] = []
        let byKernel = Dictionary(grouping: comparisons, by: \.point.kernel)
        for kernel in byKernel.keys.sorted(by: { KernelOrder.rank($0) < KernelOrder.rank($1) }) {
            let points = byKernel[kernel]!
            let sized = points.filter { $0.point.bytes != nil }
            if !sized.isEmpty {
                let smallest = sized.min { $0.point.bytes! < $1.point.bytes! }!
                let largest = sized.max { $0.point.bytes! < $1.point.bytes! }!
                headlines.append(Headline(kernel: kernel, metric: "small-message latency (\(Format.bytes(smallest.point.bytes!)) B)",
                                          isRate: false, comparison: smallest))
                if largest.point.bytes! > smallest.point.bytes! {
                    headlines.append(Headline(kernel: kernel, metric: "large-message bandwidth (\(Format.bytes(largest.point.bytes!)) B)",
                                              isRate: true, comparison: largest))
                }
                continue
            }
            // The heaviest configuration: the one the baseline takes longest on.
            let heaviest = points.max { $0.baselineMedian < $1.baselineMedian }!
            switch kernel {
            case "train": headlines.append(Headline(kernel: kernel, metric: "training step (samples/s)", isRate: true, comparison: heaviest))
            case "halo": headlines.append(Headline(kernel: kernel, metric: "halo iteration time", isRate: false, comparison: heaviest))
            case "startup": headlines.append(Headline(kernel: kernel, metric: "startup time (to MPI_Init)", isRate: false, comparison: heaviest))
            case "launch": headlines.append(Headline(kernel: kernel, metric: "launch time (start to exit)", isRate: false, comparison: heaviest))
            default: headlines.append(Headline(kernel: kernel, metric: "\(kernel) time", isRate: false, comparison: heaviest))
            }
        }
        return headlines
    }
}
