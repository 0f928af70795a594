import Foundation

/// Paired log ratios adjusted for the machine's mode: a covariate adjustment (ANCOVA; "CUPED" in
/// A/B testing) with a covariate measured before the outcome.
///
/// Each round gives a log ratio `r` of two launches' kernel times and a log ratio `g` of the two
/// launches' probe rates, measured in the same launches just before each kernel. This VM runs a
/// launch in a fast or a slow mode; a round whose two launches ran in different modes shows it in
/// `g` as well as in `r` (benchmarks/README.md, "Where the demo's noise comes from": correlations of
/// +0.5 to +0.8 between the two over 64 rounds). The adjusted ratio is `r - beta g`, beta the
/// least-squares slope of `r` on `g` over the rounds: each round's ratio as it would read had both
/// launches run at the same probe rate (g = 0), which is what a gap between two environments on
/// one machine means. The slope is held at zero or above (a slower mode never makes a launch
/// faster), so data without the relation are left as measured.
///
/// Only where the environment does not move the probe itself: if the rounds' median probe ratio
/// is more than `shiftLimit` away from 1 (a CPU limit slows the probe in every round), the probe
/// is part of what is compared, and the ratios stay as measured.
///
/// The probe runs before the kernel. Where the kernel times its own computation with nothing in
/// flight (`KernelDescriptor.modePhase`: the training step's `compute_alone`), that time is the
/// better covariate: it is taken at the kernel's own moments, and this VM's mode changes within a
/// second (benchmarks/README.md, "The step's noise": the probe's ratio explained none of the
/// step's, the step's own computation 90%). It is used only between launches that compute alike
/// (the same BLAS threads, no knob that changes how a pod computes), where no environment can
/// move it but through the machine.
public struct ModeAdjustment: Sendable, Equatable {
    /// What measured each launch's mode.
    public enum Covariate: String, Sendable {
        /// The launch's probe GEMM rate (`MachineProbe`), just before the kernel.
        case probe
        /// The kernel's own computation with nothing in flight (`KernelDescriptor.modePhase`).
        case kernelPhase = "kernel phase"
    }

    /// Below this many rounds the slope is not estimated (the ratios stay as they are): a slope
    /// from fewer rounds is mostly noise.
    public static let minimumRounds = 8
    /// The largest median probe ratio (either way) still read as the same machine state.
    public static let shiftLimit = 1.2

    public var slope: Double

    /// The least-squares slope of `ratios` on `covariates` (same length), nil below
    /// `minimumRounds`, where the covariate does not vary, or where its median says the
    /// environment itself moves the probe.
    public init?(ratios: [Double], covariates: [Double]) {
        guard covariates.count == ratios.count, let centre = Median.of(covariates),
              abs(centre) <= log(ModeAdjustment.shiftLimit),
              let slope = ModeAdjustment.slope(ratios, on: covariates) else { return nil }
        self.slope = slope
    }

    /// `ratios` with the mode's share taken out.
    public func adjusted(_ ratios: [Double], covariates: [Double]) -> [Double] {
        zip(ratios, covariates).map { $0 - slope * $1 }
    }

    /// The median of the adjusted ratios of the rounds at `indices` (a bootstrap draw), the slope
    /// estimated again on those rounds, so that the interval carries the slope's own uncertainty;
    /// the unadjusted median where the draw cannot give a slope. (Whether to adjust at all is
    /// decided once, on every round, by `init`: a draw of mostly mixed rounds is no sign of an
    /// environment that moves the probe.)
    public static func adjustedMedian(ratios: [Double], covariates: [Double], indices: [Int]) -> Double? {
        let r = indices.map { ratios[$0] }, g = indices.map { covariates[$0] }
        guard let slope = slope(r, on: g) else { return Median.of(r) }
        return Median.of(zip(r, g).map { $0 - slope * $1 })
    }

    static func slope(_ ratios: [Double], on covariates: [Double]) -> Double? {
        let n = ratios.count
        guard n >= ModeAdjustment.minimumRounds, covariates.count == n,
              !ratios.contains(where: { !$0.isFinite }), !covariates.contains(where: { !$0.isFinite }) else { return nil }
        let meanR = ratios.reduce(0, +) / Double(n), meanG = covariates.reduce(0, +) / Double(n)
        var sxx = 0.0, sxy = 0.0
        for i in 0..<n {
            let dg = covariates[i] - meanG
            sxx += dg * dg
            sxy += dg * (ratios[i] - meanR)
        }
        // A launch in the slower mode is never faster for it: a negative slope is noise (seen in
        // a run under a compiler's load), so the slope is held at zero or above.
        return sxx > 1e-12 ? max(0, sxy / sxx) : nil
    }
}
