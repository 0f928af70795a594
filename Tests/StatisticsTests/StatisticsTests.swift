import Foundation
import Testing
@testable import Statistics

@Suite struct StatisticsTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(Median.of([3, 1, 2]) == 2)
        #expect(Median.of([4, 1, 3, 2]) == 2.5)
        #expect(Median.of([]) == nil)
    }

    @Test func mannWhitneyExactForFullySeparatedSamples() throws {
        // 3 vs 3, every x below every y: U = 0; only 1 of the C(6,3) = 20 orderings is as extreme
        // on each side, so the two-sided p is 2/20.
        let result = try #require(MannWhitney.test([1, 2, 3], [4, 5, 6]))
        #expect(result.u == 0)
        #expect(result.exact)
        #expect(abs(result.pValue - 0.1) < 1e-12)
        // 4 vs 4: 2 / C(8,4) = 2/70.
        let four = try #require(MannWhitney.test([5, 6, 7, 8], [1, 2, 3, 4]))
        #expect(four.u == 16)
        #expect(abs(four.pValue - 2.0 / 70) < 1e-12)
    }

    @Test func mannWhitneyExactWithOneInversion() throws {
        // x = 1 2 4, y = 3 5 6: only 4 > 3, so U = 1. For 3 vs 3 the counts of U = 0, 1 are 1 and 1
        // out of 20: P(U <= 1) = 2/20, two-sided p = 0.2.
        let result = try #require(MannWhitney.test([1, 2, 4], [3, 5, 6]))
        #expect(result.u == 1)
        #expect(abs(result.pValue - 0.2) < 1e-12)
    }

    @Test func mannWhitneyNormalApproximationWithTies() throws {
        // Pooled: 1x 2x 2x 2y 3x 3y 3y 4y -> ranks 1, 3, 3, 3, 6, 6, 6, 8; x's rank sum 1+3+3+6 = 13,
        // U = 13 - 4*5/2 = 3. Mean m*n/2 = 8. Ties: two groups of three -> sum(t^3 - t) = 48.
        // Variance = 16/12 * (9 - 48/(8*7)); z = (|3 - 8| - 0.5) / sqrt(variance); p = erfc(z/sqrt 2).
        let result = try #require(MannWhitney.test([1, 2, 2, 3], [2, 3, 3, 4]))
        #expect(result.u == 3)
        #expect(!result.exact)
        let variance = 16.0 / 12 * (9 - 48.0 / 56)
        let expected = erfc(4.5 / variance.squareRoot() / 2.0.squareRoot())
        #expect(abs(result.pValue - expected) < 1e-12)
        #expect(abs(result.pValue - 0.172) < 0.001)
    }

    @Test func mannWhitneyAllTiedIsOne() throws {
        #expect(try #require(MannWhitney.test([2, 2], [2, 2])).pValue == 1)
        #expect(MannWhitney.test([], [1]) == nil)
    }

    @Test func bootstrapIsExactForConstantTrialsAndRepeatable() throws {
        let bootstrap = Bootstrap(resamples: 500, seed: 7)
        let flat = try #require(bootstrap.gapInterval(baseline: [2, 2, 2], candidate: [3, 3, 3]))
        #expect(abs(flat.lowerBound - 0.5) < 1e-12 && abs(flat.upperBound - 0.5) < 1e-12)
        let first = bootstrap.gapInterval(baseline: [1, 2, 3, 4], candidate: [2, 3, 5, 6])
        let second = bootstrap.gapInterval(baseline: [1, 2, 3, 4], candidate: [2, 3, 5, 6])
        #expect(first == second)
        // Resampled medians can only come from the values: the gap lies within min/max ratios.
        let range = try #require(first)
        #expect(range.lowerBound >= 2.0 / 4 - 1 && range.upperBound <= 6.0 / 1 - 1)
        #expect(bootstrap.gapInterval(baseline: [1], candidate: [1, 2]) == nil)
    }

    @Test func bootstrapOfLargerSamplesStaysCentred() throws {
        // The median's 95% bootstrap interval is about +-1.96 * sqrt(n)/2 ranks wide. 81 values
        // (1...81, median 41) take the counting path: +-9 ranks, well inside 41 +- 20. 1001 values
        // (median 501) take the normal-limit path: +-31 ranks, well inside 501 +- 60.
        var generator = SeededGenerator(seed: 3)
        let small = (1...81).map(Double.init).shuffled(using: &generator)
        let counted = try #require(Bootstrap(resamples: 400, seed: 1).medianInterval(small))
        #expect(counted.contains(41) && counted.lowerBound > 21 && counted.upperBound < 61)
        #expect(counted.upperBound - counted.lowerBound > 4)
        let large = (1...1001).map(Double.init).shuffled(using: &generator)
        let limit = try #require(Bootstrap(resamples: 400, seed: 1).medianInterval(large))
        #expect(limit.contains(501) && limit.lowerBound > 441 && limit.upperBound < 561)
        #expect(limit.upperBound - limit.lowerBound > 20)
    }

    @Test func seededGeneratorIsDeterministic() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
    }
}
