import Foundation

/// The Mann-Whitney U test (Wilcoxon rank-sum), two-sided: do two sets of trial medians come
/// from the same distribution? Exact for small samples without ties, otherwise the normal
/// approximation with tie and continuity corrections.
public enum MannWhitney {
    public struct Result: Equatable, Sendable {
        /// U of the first sample: the number of pairs (x, y) with x > y, ties counting one half.
        public var u: Double
        public var pValue: Double
        public var exact: Bool
    }

    /// Largest sample sizes for which the exact distribution is counted.
    static let exactLimit = 20

    /// Nil when either sample is empty.
    public static func test(_ x: [Double], _ y: [Double]) -> Result? {
        let m = x.count, n = y.count
        guard m > 0, n > 0 else { return nil }
        // Ranks of the pooled sample, ties sharing their mean rank: walk both sorted samples at once.
        let xs = x.sorted(), ys = y.sorted()
        var rankSumX = 0.0, tieTerm = 0.0, hasTies = false
        var i = 0, j = 0, position = 0
        while i < m || j < n {
            let value = j >= n || (i < m && xs[i] <= ys[j]) ? xs[i] : ys[j]
            var inX = 0, inY = 0
            while i < m && xs[i] == value { inX += 1; i += 1 }
            while j < n && ys[j] == value { inY += 1; j += 1 }
            let size = inX + inY
            let rank = Double(2 * position + size + 1) / 2
            if size > 1 { hasTies = true; tieTerm += Double(size * size * size - size) }
            rankSumX += rank * Double(inX)
            position += size
        }
        let u = rankSumX - Double(m * (m + 1)) / 2
        if !hasTies && m <= exactLimit && n <= exactLimit {
            return Result(u: u, pValue: exactPValue(u: Int(u.rounded()), m: m, n: n), exact: true)
        }
        let total = Double(m + n)
        let mean = Double(m * n) / 2
        let variance = Double(m * n) / 12 * ((total + 1) - tieTerm / (total * (total - 1)))
        guard variance > 0 else { return Result(u: u, pValue: 1, exact: false) }
        let z = max(abs(u - mean) - 0.5, 0) / variance.squareRoot()
        return Result(u: u, pValue: min(1, erfc(z / 2.0.squareRoot())), exact: false)
    }

    /// Two-sided exact p: twice the smaller tail of U's distribution under the null hypothesis,
    /// counted as the number of orderings of m x's and n y's giving each U.
    static func exactPValue(u: Int, m: Int, n: Int) -> Double {
        // counts[i][j][k]: orderings of i x's and j y's with U = k; built up one element at a time.
        let maxU = m * n
        var previous = [[Double]](repeating: [1] + [Double](repeating: 0, count: maxU), count: n + 1)
        // previous[j] is the distribution for i = 0 (U is always 0).
        for _ in 1...m {
            var current = [[Double]](repeating: [Double](repeating: 0, count: maxU + 1), count: n + 1)
            current[0][0] = 1
            for j in 1...n {
                for k in 0...maxU {
                    // The largest element is an x (it beats all j y's) or a y (it adds nothing).
                    let xLast = k >= j ? previous[j][k - j] : 0
                    current[j][k] = xLast + current[j - 1][k]
                }
            }
            previous = current
        }
        let distribution = previous[n]
        let total = distribution.reduce(0, +)
        let lower = distribution[0...u].reduce(0, +) / total
        let upper = distribution[u...].reduce(0, +) / total
        return min(1, 2 * min(lower, upper))
    }
}
