import Records

/// The numbers a reader looks for first, as each kernel's descriptor names them: for a size
/// sweep typically small-message latency and large-message bandwidth, otherwise the heaviest
/// configuration's time or rate.
public struct Headline: Sendable {
    public var kernel: String
    /// What is compared, e.g. "small-message latency (4 B)".
    public var metric: String
    /// True when the metric is a rate (bandwidth, samples/s): its gap is read from `comparison` as a rate.
    public var isRate: Bool
    public var comparison: Comparison

    public var gap: Double { isRate ? comparison.rateGap : comparison.gap }
    public var interval: ClosedRange<Double>? { isRate ? comparison.rateInterval : comparison.interval }
    /// The interval's width as a fraction (upper minus lower end); infinite while there is none.
    public var width: Double { interval.map { $0.upperBound - $0.lowerBound } ?? .infinity }
    public var summary: String { comparison.summary(asRate: isRate) }

    /// Judged on the scale shown: a rate's equivalence on the rate's interval.
    public var verdict: Comparison.Verdict { comparison.verdict(asRate: isRate) }

    /// Headlines of one environment (against whatever baseline `comparisons` hold), per kernel in
    /// the descriptors' order.
    public static func select(from comparisons: [Comparison], kernels: KernelDescriptions) -> [Headline] {
        var headlines: [Headline] = []
        let byKernel = Dictionary(grouping: comparisons, by: \.point.kernel)
        for kernel in byKernel.keys.sorted(by: kernels.precedes) {
            let points = byKernel[kernel]!
            let sized = points.filter { $0.point.bytes != nil }
            let smallest = sized.min { $0.point.bytes! < $1.point.bytes! }
            let largest = sized.max { $0.point.bytes! < $1.point.bytes! }
            // The heaviest configuration: the one the baseline takes longest on.
            let heaviest = points.max { $0.baselineMedian < $1.baselineMedian }!
            let wanted = kernels.descriptor(of: kernel).headlines
            var mine: [Headline] = []
            for headline in wanted {
                func add(_ comparison: Comparison, size: Double?) {
                    let metric = size.map { "\(headline.label) (\(ByteCount.format($0)) B)" } ?? headline.label
                    mine.append(Headline(kernel: kernel, metric: metric, isRate: headline.asRate, comparison: comparison))
                }
                switch headline.point {
                case .smallest:
                    if let smallest { add(smallest, size: smallest.point.bytes) }
                case .largest:
                    // One size only: the smallest-size headline already says it all.
                    guard let largest, let smallest else { continue }
                    let alsoSmallest = wanted.contains { $0.point == .smallest }
                    if !alsoSmallest || largest.point.bytes! > smallest.point.bytes! { add(largest, size: largest.point.bytes) }
                case .heaviest:
                    add(heaviest, size: nil)
                }
            }
            if mine.isEmpty {
                let generic = KernelDescriptor.generic.headlines[0]
                mine.append(Headline(kernel: kernel, metric: generic.label, isRate: generic.asRate, comparison: heaviest))
            }
            headlines += mine
        }
        return headlines
    }
}
