import Statistics

/// The statistics of one measured point: per-iteration times (already the slowest rank's) boiled
/// down to order statistics, mean and spread.
public struct Summary: Codable, Equatable, Sendable {
    public var min: Double
    public var p50: Double
    public var mean: Double
    public var p99: Double
    public var max: Double
    public var stddev: Double
    /// The raw samples, only when asked for (`--samples`).
    public var samples: [Double]?

    public init(min: Double, p50: Double, mean: Double, p99: Double, max: Double, stddev: Double, samples: [Double]? = nil) {
        self.min = min; self.p50 = p50; self.mean = mean; self.p99 = p99; self.max = max; self.stddev = stddev
        self.samples = samples
    }

    /// Summarises samples. Percentiles interpolate linearly between order statistics (numpy's
    /// default, "type 7"); stddev is the sample standard deviation (n - 1).
    public init(of samples: [Double], keepingSamples: Bool = false) {
        precondition(!samples.isEmpty, "a summary needs at least one sample")
        let sorted = samples.sorted()
        let count = Double(sorted.count)
        let mean = sorted.reduce(0, +) / count
        let squares = sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        self.init(min: sorted[0],
                  p50: Summary.percentile(50, ofSorted: sorted),
                  mean: mean,
                  p99: Summary.percentile(99, ofSorted: sorted),
                  max: sorted[sorted.count - 1],
                  stddev: sorted.count > 1 ? (squares / (count - 1)).squareRoot() : 0,
                  samples: keepingSamples ? samples : nil)
    }

    /// The p-th percentile (0...100) of already sorted values, linear interpolation.
    public static func percentile(_ p: Double, ofSorted sorted: [Double]) -> Double {
        precondition(!sorted.isEmpty)
        return Median.quantile(p / 100, ofSorted: sorted)
    }
}

/// A point as OSU's benchmarks report it: each rank times its own calls and takes its mean per
/// call; `avg` is the mean of those per-rank means over ranks, `min` and `max` the smallest and
/// largest of them (osu_allreduce's Avg, Min and Max Latency). For a ping-pong (osu_latency),
/// rank 0's half round trip averaged over iterations, in all three.
public struct OSUStatistics: Codable, Equatable, Sendable {
    public var avg: Double
    public var min: Double
    public var max: Double
    public init(avg: Double, min: Double, max: Double) { self.avg = avg; self.min = min; self.max = max }
}
