import Testing
@testable import Model

@Suite struct AlphaBetaFitTests {
    /// Synthetic allreduce times at 2 ranks from alpha = 15 us and 1.2 GB/s, with +/-1% of
    /// deterministic alternating noise: the fit must give both back within 2%.
    @Test func recoversAlphaAndBetaFromSyntheticAllreduce() throws {
        let alpha = 15e-6, beta = 1 / 1.2e9
        var points: [FitSample] = []
        var bytes = 4
        var sign = 1.0
        while bytes <= 4 << 20 {
            let exact = FitSample.allreduce(bytes: bytes, ranks: 2, seconds: 1)
            let seconds = (exact.latencies * alpha + exact.bytesPerLink * beta) * (1 + 0.01 * sign)
            points.append(.allreduce(bytes: bytes, ranks: 2, seconds: seconds))
            bytes *= 2
            sign = -sign
        }
        let fit = try AlphaBetaFit.fit(points)
        #expect(fit.link.regimes.count == 1)
        let regime = fit.link.regimes[0]
        #expect(abs(regime.alpha / alpha - 1) < 0.02)
        #expect(abs(regime.beta / beta - 1) < 0.02)
        #expect(fit.rmsErrorPercent > 0.5 && fit.rmsErrorPercent < 1.5)
    }
}
