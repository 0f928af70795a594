/// One measured collective or point-to-point time, reduced to Hockney's terms: the operation
/// costs `latencies * alpha + bytesPerLink * beta`. A ring allreduce of m bytes over p ranks is
/// 2(p-1) messages carrying 2(p-1)/p * m bytes; a one-way point-to-point message is 1 and m.
public struct FitSample: Equatable, Sendable {
    /// The message size as the record gives it (the regime split is on this).
    public var bytes: Int
    public var latencies: Double
    public var bytesPerLink: Double
    public var seconds: Double

    public init(bytes: Int, latencies: Double, bytesPerLink: Double, seconds: Double) {
        self.bytes = bytes; self.latencies = latencies; self.bytesPerLink = bytesPerLink; self.seconds = seconds
    }

    /// An allreduce of `bytes` over `ranks`, costed as a ring (what Open MPI's tuned and libnbc
    /// components pick for large messages and what NCCL and Horovod use).
    public static func allreduce(bytes: Int, ranks: Int, seconds: Double) -> FitSample {
        let p = Double(max(ranks, 2))
        return FitSample(bytes: bytes, latencies: 2 * (p - 1), bytesPerLink: 2 * (p - 1) / p * Double(bytes), seconds: seconds)
    }

    public static func pointToPoint(bytes: Int, seconds: Double) -> FitSample {
        FitSample(bytes: bytes, latencies: 1, bytesPerLink: Double(bytes), seconds: seconds)
    }

    /// What `link` predicts for this operation.
    public func predicted(by link: Link) -> Double {
        let regime = link.regime(bytes: Double(bytes))
        return latencies * regime.alpha + bytesPerLink * regime.beta
    }
}

/// A fitted link with how well it fits.
public struct LinkFit: Equatable, Sendable {
    public var link: Link
    public var points: Int
    /// Root mean square of the relative residuals, in percent.
    public var rmsErrorPercent: Double
    /// Largest relative residual, in percent.
    public var maxErrorPercent: Double
}

/// Least squares for Hockney's alpha and beta.
public enum AlphaBetaFit {
    /// Open MPI's eager limits (bytes): vader (shared memory) and tcp. A split is tried at every
    /// size boundary; these are where the protocol is known to change.
    public static let eagerLimits = [4096, 65536]

    /// Fits one regime by minimising the sum of squared *relative* residuals: a sweep spans six
    /// orders of magnitude, and plain least squares would let the largest sizes decide alone.
    /// Weighted normal equations in two unknowns, solved in closed form.
    public static func fitRegime(_ points: [FitSample]) throws -> Regime {
        guard points.count >= 2 else { throw ModelError("a fit needs at least two measured sizes, got \(points.count)") }
        var saa = 0.0, sab = 0.0, sbb = 0.0, say = 0.0, sby = 0.0
        for point in points {
            guard point.seconds > 0 else { throw ModelError("a measured time of \(point.seconds) s at \(point.bytes) bytes is not positive") }
            let w = 1 / (point.seconds * point.seconds)
            saa += w * point.latencies * point.latencies
            sab += w * point.latencies * point.bytesPerLink
            sbb += w * point.bytesPerLink * point.bytesPerLink
            say += w * point.latencies * point.seconds
            sby += w * point.bytesPerLink * point.seconds
        }
        let determinant = saa * sbb - sab * sab
        guard abs(determinant) > 1e-300 * max(saa * sbb, 1e-300) else {
            throw ModelError("the sizes do not separate latency from bandwidth: measure at least two different sizes")
        }
        var alpha = (say * sbb - sby * sab) / determinant
        var beta = (saa * sby - sab * say) / determinant
        // A negative latency or bandwidth is noise, not physics: refit with that term pinned at zero.
        if alpha < 0 { alpha = 0; beta = sby / sbb }
        if beta < 0 { beta = 0; alpha = say / saa }
        return Regime(alpha: alpha, beta: beta)
    }

    /// Relative residuals of `points` against `link`.
    public static func residuals(_ points: [FitSample], _ link: Link) -> [Double] {
        points.map { ($0.predicted(by: link) - $0.seconds) / $0.seconds }
    }

    /// Fits one line, then splits into regimes, at most `maxRegimes`, one boundary at a time.
    /// Open MPI's eager limits come first: a split there is kept whenever it improves the fit of
    /// the regime it splits, since the protocol is known to change there. Any other boundary between two
    /// measured sizes above the eager limits (three sizes or more below, two above) must halve it: that
    /// is where a message stops fitting in cache or in socket buffers; below them, scatter is
    /// noise around the latency. No split is tried once the fit is within 1% rms, so
    /// that noise alone does not invent a regime. Six regimes at most: the two eager limits leave
    /// room for the knees above them (messages outgrowing the socket buffers, then the caches),
    /// where the gradient buckets of a training step lie; with four, the largest sizes shared
    /// one line and the 16 MiB buckets were mispredicted by 10% (benchmarks/README.md).
    public static func fit(_ points: [FitSample], maxRegimes: Int = 6) throws -> LinkFit {
        let sorted = points.sorted { $0.bytes < $1.bytes }
        var groups = [sorted]
        var best = try link(groups)
        var bestError = squaredError(sorted, best)
        while groups.count < maxRegimes, bestError / Double(sorted.count) > 1e-4 {
            // Each candidate is judged on the points of the regime it splits, as the share of that
            // regime's squared error it leaves: a knee among the largest sizes counts even when
            // the scatter of the small ones dominates the total.
            var eager: (groups: [[FitSample]], share: Double)?, other = eager
            for (index, group) in groups.enumerated() {
                let sizes = Array(Set(group.map(\.bytes))).sorted()
                guard sizes.count >= 5, let whole = try? link([group]) else { continue }
                let before = squaredError(group, whole)
                guard before > 0 else { continue }
                for limit in sizes[2..<(sizes.count - 2)] {
                    let parts = [group.filter { $0.bytes <= limit }, group.filter { $0.bytes > limit }]
                    guard let split = try? link(parts) else { continue }
                    let share = squaredError(group, split) / before
                    var candidate = groups
                    candidate.replaceSubrange(index...index, with: parts)
                    if eagerLimits.contains(limit) {
                        if share < (eager?.share ?? .infinity) { eager = (candidate, share) }
                    } else if limit > eagerLimits.max()!, share < (other?.share ?? .infinity) {
                        other = (candidate, share)
                    }
                }
            }
            if let eager, eager.share < 1 { groups = eager.groups }
            else if let other, other.share < 0.5 { groups = other.groups }
            else { break }
            best = try link(groups)
            bestError = squaredError(sorted, best)
        }
        let relative = residuals(sorted, best)
        let rms = (relative.reduce(0) { $0 + $1 * $1 } / Double(relative.count)).squareRoot()
        return LinkFit(link: best, points: sorted.count, rmsErrorPercent: rms * 100,
                       maxErrorPercent: (relative.map(abs).max() ?? 0) * 100)
    }

    /// One regime per group of points (groups in size order), each valid up to its largest size.
    private static func link(_ groups: [[FitSample]]) throws -> Link {
        var regimes: [Regime] = []
        for (index, group) in groups.enumerated() {
            var regime = try fitRegime(group)
            if index < groups.count - 1 { regime.upToBytes = group.map(\.bytes).max() }
            regimes.append(regime)
        }
        return Link(regimes: regimes)
    }

    private static func squaredError(_ points: [FitSample], _ link: Link) -> Double {
        residuals(points, link).reduce(0) { $0 + $1 * $1 }
    }
}
