import Foundation

/// The Wilcoxon signed-rank test, two-sided: are paired differences (one per round) centred on
/// zero? Zero differences are dropped (Wilcoxon's convention). Exact for up to `exactLimit`
/// differences without ties in their absolute values, by counting the 2^n sign patterns;
/// otherwise the normal approximation with tie and continuity corrections.
public enum WilcoxonSignedRank {
    public struct Result: Equatable, Sendable {
        /// The sum of the ranks of the positive differences (W+).
        public var wPlus: Double
        /// Differences left after dropping zeros.
        public var n: Int
        public var pValue: Double
        public var exact: Bool
    }

    /// Up to here the exact distribution is counted (n(n+1)/2 + 1 sums per step: cheap).
    static let exactLimit = 50

    /// Nil when no difference is non-zero.
    public static func test(_ differences: [Double]) -> Result? {
        let nonZero = differences.filter { $0 != 0 && $0.isFinite }
        let n = nonZero.count
        guard n > 0 else { return nil }
        // Ranks of |d|, ties sharing their mean rank. Sorted as integers: a finite |d|'s bits
        // order as the value does, shifted up to make room for the sign in the lowest bit (a
        // tie's ranks are all the same, so the order within a tie does not matter).
        let keys = nonZero.map { ($0.magnitude.bitPattern << 1) | ($0 > 0 ? 1 : 0) }.sorted()
        var wPlus = 0.0, tieTerm = 0.0, hasTies = false
        var start = 0
        while start < n {
            var stop = start + 1
            while stop < n && keys[stop] >> 1 == keys[start] >> 1 { stop += 1 }
            let size = stop - start
            let rank = Double(start + 1 + stop) / 2
            if size > 1 { hasTies = true; tieTerm += Double(size * size * size - size) }
            for index in start..<stop where keys[index] & 1 == 1 { wPlus += rank }
            start = stop
        }
        if !hasTies && n <= exactLimit {
            return Result(wPlus: wPlus, n: n, pValue: exactPValue(wPlus: Int(wPlus.rounded()), n: n), exact: true)
        }
        let count = Double(n)
        let mean = count * (count + 1) / 4
        let variance = count * (count + 1) * (2 * count + 1) / 24 - tieTerm / 48
        guard variance > 0 else { return Result(wPlus: wPlus, n: n, pValue: 1, exact: false) }
        let z = max(abs(wPlus - mean) - 0.5, 0) / variance.squareRoot()
        return Result(wPlus: wPlus, n: n, pValue: min(1, erfc(z / 2.0.squareRoot())), exact: false)
    }

    /// Two-sided exact p: twice the smaller tail of W+'s null distribution, where each of the n
    /// ranks carries a + or - sign with probability one half.
    static func exactPValue(wPlus: Int, n: Int) -> Double {
        let distribution = nullDistribution(n)
        let total = pow(2.0, Double(n))
        let lower = distribution[0...wPlus].reduce(0, +) / total
        let upper = distribution[wPlus...].reduce(0, +) / total
        return min(1, 2 * min(lower, upper))
    }

    /// counts[w]: how many of the 2^n sign patterns give W+ = w.
    static func nullDistribution(_ n: Int) -> [Double] {
        let maximum = n * (n + 1) / 2
        var counts = [Double](repeating: 0, count: maximum + 1)
        counts[0] = 1
        var reached = 0
        for rank in 1...n {
            // Rank `rank` positive shifts every sum so far up by `rank`; walk down to reuse one array.
            reached += rank
            for sum in stride(from: reached, through: rank, by: -1) { counts[sum] += counts[sum - rank] }
        }
        return counts
    }
}
