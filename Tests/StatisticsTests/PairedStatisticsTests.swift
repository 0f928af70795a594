import Foundation
import Testing
@testable import Statistics

@Suite struct WilcoxonSignedRankTests {
    /// Critical values of the two-sided test from the standard tables (e.g. Wilcoxon, Katti and
    /// Wilcox 1963; any statistics textbook's Table of critical values of T): the largest T with
    /// P(T <= crit) <= alpha / 2.
    @Test(arguments: [(6, 0.05, 0), (10, 0.05, 8), (10, 0.01, 3), (20, 0.05, 52), (20, 0.01, 37)])
    func exactPValuesMatchTheTabulatedCriticalValues(n: Int, alpha: Double, critical: Int) {
        #expect(WilcoxonSignedRank.exactPValue(wPlus: critical, n: n) <= alpha)
        #expect(WilcoxonSignedRank.exactPValue(wPlus: critical + 1, n: n) > alpha)
        // Symmetric: W+ and n(n+1)/2 - W+ give the same two-sided p.
        #expect(WilcoxonSignedRank.exactPValue(wPlus: n * (n + 1) / 2 - critical, n: n) == WilcoxonSignedRank.exactPValue(wPlus: critical, n: n))
    }

    @Test func exactValuesCountedByHand() {
        // n = 6: one sign pattern of 64 gives W+ = 0 and one W+ = 1: p(0) = 2/64, p(1) = 4/64.
        #expect(WilcoxonSignedRank.exactPValue(wPlus: 0, n: 6) == 2.0 / 64)
        #expect(WilcoxonSignedRank.exactPValue(wPlus: 1, n: 6) == 4.0 / 64)
        // n = 10: 25 of the 1024 patterns have W+ <= 8; n = 20: 25,397 of 2^20 have W+ <= 52.
        #expect(WilcoxonSignedRank.exactPValue(wPlus: 8, n: 10) == 50.0 / 1024)
        #expect(WilcoxonSignedRank.exactPValue(wPlus: 52, n: 20) == 2 * 25397.0 / 1048576)
        #expect(WilcoxonSignedRank.nullDistribution(3) == [1, 1, 1, 2, 1, 1, 1])
    }

    @Test func fromDifferences() throws {
        // Ten differences, the two negatives the two smallest in size: W+ = 55 - 3 = 52,
        // p = 2 P(W+ <= 3) = 2 x 5/1024 (scipy.stats.wilcoxon gives 0.009765625).
        let result = try #require(WilcoxonSignedRank.test([1.5, -0.3, 2.2, 0.8, 1.1, 3.0, -0.6, 0.9, 1.7, 2.5]))
        #expect(result.wPlus == 52 && result.n == 10 && result.exact)
        #expect(abs(result.pValue - 0.009765625) < 1e-15)
        // Zeros are dropped.
        #expect(try #require(WilcoxonSignedRank.test([0, 0, 1, 2])).n == 2)
        #expect(WilcoxonSignedRank.test([0, 0]) == nil)
    }

    @Test func tiesUseTheNormalApproximation() throws {
        // |d| ranks: 0.25 -> 1, 0.5 -> 2, 1.5 1.5 -> 3.5, 2 2 -> 5.5, 3 -> 7, 4 -> 8; W+ = 31.5.
        // Mean 18, variance 8*9*17/24 - (6 + 6)/48 = 50.75, z = (13.5 - 0.5)/sqrt(50.75);
        // scipy.stats.wilcoxon(method="approx", correction=True) gives 0.06802483707221696.
        let result = try #require(WilcoxonSignedRank.test([0.5, 1.5, -1.5, 2, 2, 3, -0.25, 4]))
        #expect(result.wPlus == 31.5 && !result.exact)
        #expect(abs(result.pValue - 0.06802483707221696) < 1e-12)
    }
}

@Suite struct DistributionTests {
    /// Student t quantiles from the tables (to the six decimals they give).
    @Test(arguments: [(0.975, 1.0, 12.706205), (0.975, 9.0, 2.262157), (0.975, 30.0, 2.042272), (0.995, 4.0, 4.604095),
                      (0.9, 2.0, 1.885618)])
    func studentTQuantiles(p: Double, degrees: Double, expected: Double) {
        #expect(abs(StudentT.quantile(p, degrees: degrees) - expected) < 5e-6)
        #expect(abs(StudentT.quantile(1 - p, degrees: degrees) + expected) < 5e-6)
        #expect(abs(StudentT.cdf(expected, degrees: degrees) - p) < 1e-6)
    }

    @Test func expandedPercentileTails() {
        let bootstrap = Bootstrap()
        // n = 10: Phi(-sqrt(10/9) x 2.262157) = Phi(-2.38455) = 0.00855.
        #expect(abs(bootstrap.expandedTail(n: 10) - 0.008549) < 2e-5)
        // Wider for fewer rounds, the nominal 2.5% in the limit.
        #expect(bootstrap.expandedTail(n: 3) < bootstrap.expandedTail(n: 10))
        #expect(abs(bootstrap.expandedTail(n: 100_000) - 0.025) < 1e-4)
        #expect(abs(Normal.cdf(-1.959964) - 0.025) < 1e-7)
    }

    @Test func pairedIntervalHoldsTheMedianAndWidensForFewRounds() throws {
        let differences = [0.08, 0.09, 0.1, 0.11, 0.12, 0.1, 0.095, 0.105, 0.3, -0.2]
        let interval = try #require(Bootstrap(resamples: 2000, seed: 3).pairedMedianInterval(differences))
        #expect(interval.contains(Median.of(differences)!))
        #expect(interval.lowerBound >= -0.2 && interval.upperBound <= 0.3)
        #expect(Bootstrap().pairedMedianInterval([0.1]) == nil)
        // Seeded: the same interval every time.
        #expect(Bootstrap(resamples: 2000, seed: 3).pairedMedianInterval(differences) == interval)
    }
}
