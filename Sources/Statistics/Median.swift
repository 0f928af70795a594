/// Medians and percentiles of small samples (trial medians: a handful of values each).
public enum Median {
    /// The median; the mean of the two middle values for an even count. Nil for no values.
    /// Found by selection, not by sorting: a large report takes thousands of medians of a thousand
    /// rounds each, and the middle values are the same either way.
    public static func of(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        // NaN has no place in an order, and -0 and +0 sort as equals while they print apart:
        // such samples keep the stable sort's answer.
        guard !values.contains(where: { $0.isNaN || $0 == 0 }) else { return ofSorted(values.sorted()) }
        var copy = values
        return copy.withUnsafeMutableBufferPointer { buffer in
            let middle = buffer.count / 2
            let upper = select(middle, in: buffer)
            guard buffer.count % 2 == 0 else { return upper }
            return (buffer[..<middle].max()! + upper) / 2
        }
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

    /// The same percentiles of values in any order, each equal to `quantile(_:ofSorted:)` of the
    /// sorted values; `values` is reordered. Selection instead of a sort: a bootstrap interval
    /// needs two ranks of thousands of resampled estimates.
    public static func quantiles(_ qs: [Double], of values: inout [Double]) -> [Double] {
        guard !values.contains(where: { $0.isNaN || $0 == 0 }) else {
            let sorted = values.sorted()
            return qs.map { quantile($0, ofSorted: sorted) }
        }
        return values.withUnsafeMutableBufferPointer { buffer in
            qs.map { q in
                let position = q * Double(buffer.count - 1)
                let lower = Int(position.rounded(.down))
                let low = select(lower, in: buffer)
                // After the selection every value past `lower` is at least `low`: the next rank is their least.
                let high = lower + 1 < buffer.count ? buffer[(lower + 1)...].min()! : low
                return low + (high - low) * (position - Double(lower))
            }
        }
    }

    /// Reorders `values` so that the `k`-th smallest (from 0) is at `k`, none after it smaller and
    /// none before it larger (Hoare's selection, median-of-three pivots), and returns it.
    /// The values must be ordered (no NaN).
    static func select(_ k: Int, in values: UnsafeMutableBufferPointer<Double>) -> Double {
        var low = 0, high = values.count - 1
        while high > low {
            let middle = low + (high - low) / 2
            if values[middle] < values[low] { values.swapAt(middle, low) }
            if values[high] < values[low] { values.swapAt(high, low) }
            if values[high] < values[middle] { values.swapAt(high, middle) }
            let pivot = values[middle]
            var i = low, j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while pivot < values[j] { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            // Now low...j hold values at most the pivot, i...high values at least it, and any
            // between j and i equal it.
            if k <= j { high = j } else if k >= i { low = i } else { break }
        }
        return values[k]
    }
}
