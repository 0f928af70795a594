import Records
import Testing

@Suite struct SummaryTests {
    @Test func orderStatisticsMatchHandArithmetic() {
        // Sorted: 1 2 3 4 10. Mean 4. Deviations -3 -2 -1 0 6: squares 9+4+1+0+36 = 50; 50/4 = 12.5.
        let summary = Summary(of: [4, 1, 10, 3, 2])
        #expect(summary.min == 1)
        #expect(summary.max == 10)
        #expect(summary.p50 == 3)
        #expect(summary.mean == 4)
        #expect(abs(summary.stddev - 12.5.squareRoot()) < 1e-12)
        // p99 at position 0.99 * 4 = 3.96 between 4 and 10: 4 + 0.96 * 6 = 9.76.
        #expect(abs(summary.p99 - 9.76) < 1e-12)
        #expect(summary.samples == nil)
    }

    @Test func evenCountMedianInterpolates() {
        let summary = Summary(of: [1, 2, 3, 4], keepingSamples: true)
        #expect(summary.p50 == 2.5)
        #expect(summary.samples == [1, 2, 3, 4])
    }

    @Test func singleSampleHasNoSpread() {
        let summary = Summary(of: [0.5])
        #expect(summary.min == 0.5 && summary.p50 == 0.5 && summary.p99 == 0.5 && summary.max == 0.5)
        #expect(summary.stddev == 0)
    }

    @Test func percentileEnds() {
        let sorted: [Double] = [10, 20, 30]
        #expect(Summary.percentile(0, ofSorted: sorted) == 10)
        #expect(Summary.percentile(100, ofSorted: sorted) == 30)
        #expect(Summary.percentile(25, ofSorted: sorted) == 15)
    }
}
