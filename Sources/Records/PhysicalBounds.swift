/// Values no real run can produce: a record holding one measured nothing real (a broken timer, a
/// hand-edited file, a unit slip), so readers treat it as unverified and say why.
public enum PhysicalBounds {
    /// Faster than a clock cycle of any machine this runs on.
    public static let shortestIteration = 1e-9
    public static let longestIteration = 86_400.0
    /// GB/s: beyond any link or memory system today (HBM3e is about 5 TB/s).
    public static let fastestBandwidth = 10_000.0

    /// Why a summary of per-iteration times cannot be real, or nil when it can.
    public static func violation(secondsMin min: Double, max: Double, others: [Double] = []) -> String? {
        for value in [min, max] + others where !value.isFinite {
            return "a time per iteration is not a finite number"
        }
        if min < shortestIteration { return "time per iteration \(min) s is below 1 ns" }
        if max > longestIteration { return "time per iteration \(max) s is above a day" }
        return nil
    }

    /// Why a throughput value cannot be real, or nil; only bandwidths (`*_gbps`) have an upper bound.
    public static func violation(throughput key: String, value: Double) -> String? {
        guard value.isFinite else { return "throughput '\(key)' is not a finite number" }
        if key.hasSuffix("_gbps"), value > fastestBandwidth {
            return "bandwidth '\(key)' \(value) GB/s is above 10 TB/s"
        }
        return nil
    }

    public static func violation(_ record: Record) -> String? {
        let s = record.seconds
        if let reason = violation(secondsMin: s.min, max: s.max, others: [s.p50, s.mean, s.p99, s.stddev]) { return reason }
        for key in record.throughput.keys.sorted() {
            if let reason = violation(throughput: key, value: record.throughput[key]!) { return reason }
        }
        return nil
    }
}
