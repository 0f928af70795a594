import Foundation
import Statistics

/// OSU micro-benchmarks' full text layout (`-f`), one block per environment and size sweep, with
/// OSU's own numbers: each record's `osu` view (avg, min and max over ranks of each rank's mean
/// time per call, as osu_allreduce computes them; half the round trip for a ping-pong), the median
/// of each over the point's launches. Records without that view (schema 1, or a kernel that
/// keeps none) print "-" and say so: podgap's slowest-rank medians are a different quantity.
public struct OSURenderer: Sendable {
    public init() {}

    public func render(_ analysis: Analysis) -> String {
        var out = ""
        let sweeps = SweepKey.sweeps(of: analysis.sortedPoints.filter { $0.bytes != nil }, kernels: analysis.kernels)
        for environment in analysis.environments {
            for (sweep, keys) in sweeps {
                let rows = keys.compactMap { key -> (PointKey, EnvironmentPoint)? in
                    guard let point = analysis.points[key]?[environment], !point.launches.isEmpty else { return nil }
                    return (key, point)
                }
                guard !rows.isEmpty else { continue }
                out += "# OSU MPI \(sweep.kernel.capitalized) Latency Test (podgap report: OSU's avg/min/max over ranks, median over launches)\n"
                out += "# environment \(environment), \(sweep.ranks) ranks, \(sweep.series.isEmpty ? "-" : sweep.series)\n"
                let missing = rows.filter { $0.1.launches.allSatisfy { $0.osu == nil } }.count
                if missing > 0 {
                    out += "# \(missing) of \(rows.count) sizes: records without OSU's view (written before schema 2, or by a kernel that keeps none), shown as -\n"
                }
                out += "# Size       Avg Latency(us)   Min Latency(us)   Max Latency(us)  Iterations\n"
                for (key, point) in rows {
                    let views = point.launches.compactMap(\.osu)
                    func column(_ values: [Double]) -> String {
                        guard let median = Median.of(values) else { return String(repeating: " ", count: 17) + "-" }
                        return String(format: "%18.2f", median * 1e6)
                    }
                    let iterations = Median.of(point.launches.map { Double($0.iterations) }).map { String(Int($0)) } ?? "-"
                    out += String(format: "%-10d", Int(key.bytes!)) + column(views.map(\.avg)) + column(views.map(\.min))
                        + column(views.map(\.max)) + String(repeating: " ", count: max(1, 12 - iterations.count)) + iterations + "\n"
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
