/// Medians and percentiles of small samples (trial medians: a handful of values each).
public enum Median {
    /// The median; the mean of the two middle values for an even count. Nil for no values.
    public static func of(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        return ofSorted(values.sorted())
    }

    public static func ofSorted(_ sorted: [Double]) -> Double {
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Linear-interpolation percentile (0...1) of sorted values, numpy's default.
    public static func quantile(_ q: Double, ofSorted sorted: [Double]) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}
