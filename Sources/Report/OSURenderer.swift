import Foundation

/// OSU micro-benchmarks' text layout, one block per environment and size sweep, so scripts that
/// parse OSU output read podgap's medians unchanged.
public struct OSURenderer: Sendable {
    public init() {}

    public func render(_ analysis: Analysis) -> String {
        var out = ""
        let sweeps = SweepKey.sweeps(of: analysis.sortedPoints.filter { $0.bytes != nil }, kernels: analysis.kernels)
        for environment in analysis.environments {
            for (sweep, keys) in sweeps {
                let rows = keys.compactMap { key -> (PointKey, EnvironmentPoint)? in
                    guard let point = analysis.points[key]?[environment], !point.trialMedians.isEmpty else { return nil }
                    return (key, point)
                }
                guard !rows.isEmpty else { continue }
                out += "# OSU MPI \(sweep.kernel.capitalized) Latency Test (podgap report, median of trial medians)\n"
                out += "# environment \(environment), \(sweep.ranks) ranks, \(sweep.series)\n"
                out += "# Size       Avg Latency(us)\n"
                for (key, point) in rows {
                    out += String(format: "%-10d%18.2f\n", Int(key.bytes!), point.median * 1e6)
                }
                out += "\n"
            }
        }
        if out.isEmpty { out = "# no size sweeps in the inputs: the osu format shows kernels measured over message sizes\n" }
        return out
    }
}

/// The points of one size sweep: kernel, every parameter but the size, and ranks.
struct SweepKey: Hashable {
    var kernel: String
    var series: String
    var ranks: Int

    /// `points` grouped by sweep, sweeps in the kernels' order and each sweep's points sorted.
    static func sweeps(of points: [PointKey], kernels: KernelDescriptions) -> [(sweep: SweepKey, points: [PointKey])] {
        let grouped = Dictionary(grouping: points) { SweepKey(kernel: $0.kernel, series: $0.series, ranks: $0.ranks) }
        let order = grouped.keys.sorted { a, b in
            a.kernel != b.kernel ? kernels.precedes(a.kernel, b.kernel) : (a.ranks, a.series) < (b.ranks, b.series)
        }
        return order.map { ($0, grouped[$0]!.sorted()) }
    }
}
