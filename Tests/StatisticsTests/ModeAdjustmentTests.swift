import Foundation
import Testing
@testable import Statistics

@Suite struct ModeAdjustmentTests {
    /// Ten rounds whose ratios follow the probe ratio (slope 0.7) around a true gap of 0.2: the
    /// slope is found, and the adjusted ratios are the gap within the noise.
    @Test func findsTheSlopeAndTakesTheModeOut() throws {
        let covariates = [0.0, 0.5, -0.02, 0.01, -0.6, 0.03, 0.45, -0.01, 0.0, -0.5]
        let noise = [0.01, -0.02, 0.0, 0.02, -0.01, 0.01, 0.0, -0.01, 0.02, -0.02]
        let ratios = zip(covariates, noise).map { 0.2 + 0.7 * $0 + $1 }
        let adjustment = try #require(ModeAdjustment(ratios: ratios, covariates: covariates))
        #expect(abs(adjustment.slope - 0.7) < 0.05)
        let adjusted = adjustment.adjusted(ratios, covariates: covariates)
        #expect(adjusted.allSatisfy { abs($0 - 0.2) < 0.05 }, "\(adjusted)")
        // The raw ratios stray up to 0.4 from the gap; a bootstrap draw re-estimates the slope.
        #expect(ratios.contains { abs($0 - 0.2) > 0.3 })
        let median = try #require(ModeAdjustment.adjustedMedian(ratios: ratios, covariates: covariates, indices: Array(0..<10)))
        #expect(abs(median - 0.2) < 0.02)
    }

    /// No slope from too few rounds, from a covariate that does not vary, or where the median probe
    /// ratio says the environment itself moves the probe (a CPU limit halving it every round).
    @Test func leavesRatiosAloneWhereItCannotOrMustNotAdjust() throws {
        let covariates = [0.0, 0.5, -0.02, 0.01, -0.6, 0.03, 0.45, -0.01, 0.0, -0.5]
        let ratios = covariates.map { 0.2 + 0.7 * $0 }
        #expect(ModeAdjustment(ratios: Array(ratios.prefix(7)), covariates: Array(covariates.prefix(7))) == nil)
        #expect(ModeAdjustment(ratios: ratios, covariates: Array(repeating: 0.1, count: 10)) == nil)
        let shifted = covariates.map { $0 + log(2.0) }
        #expect(ModeAdjustment(ratios: ratios, covariates: shifted) == nil)
        #expect(ModeAdjustment(ratios: ratios, covariates: covariates.map { $0 + log(1.1) }) != nil)
        // A draw the slope cannot come from falls back to the plain median.
        #expect(ModeAdjustment.adjustedMedian(ratios: ratios, covariates: covariates, indices: [0, 1, 2]) == Median.of(Array(ratios.prefix(3))))
        #expect(ModeAdjustment(ratios: ratios + [.nan], covariates: covariates + [0]) == nil)
        // Ratios that fall as the probe ratio rises are not a mode's doing: slope zero, ratios as measured.
        let falling = covariates.map { 0.2 - 0.5 * $0 }
        let none = try #require(ModeAdjustment(ratios: falling, covariates: covariates))
        #expect(none.slope == 0 && none.adjusted(falling, covariates: covariates) == falling)
    }
}
