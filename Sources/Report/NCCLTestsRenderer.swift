import Foundation
import Records
import Statistics

/// `podgap report --format nccl-tests`: nccl-tests' table (`NCCLTestsTable`) per environment and
/// sweep of a kernel that declares a bus factor, out-of-place and in-place records
/// (`params.in_place`) side by side. Each side's time is the median over the point's launches of
/// each launch's time per call (OSU's average over ranks where the records keep it, else the mean
/// of the slowest-rank times); #wrong sums the launches' counts ("N/A" where none were counted).
public struct NCCLTestsRenderer: Sendable {
    public init() {}

    struct Table: Hashable { var kernel: String, ranks: Int, series: String }

    public func render(_ analysis: Analysis) -> String {
        var out = ""
        var tables: [Table: [Double: (outOfPlace: PointKey?, inPlace: PointKey?)]] = [:]
        for key in analysis.sortedPoints {
            guard let bytes = key.bytes, analysis.kernels.descriptor(of: key.kernel).busFactor != nil else { continue }
            let pairs = key.pairs
            let inPlace = pairs.contains { $0.key == "in_place" && $0.value == "true" }
            let series = pairs.filter { !["bytes", "count", "in_place"].contains($0.key) }.map { "\($0.key)=\($0.value)" }
                .joined(separator: ",")
            let table = Table(kernel: key.kernel, ranks: key.ranks, series: series)
            if inPlace { tables[table, default: [:]][bytes, default: (nil, nil)].inPlace = key }
            else { tables[table, default: [:]][bytes, default: (nil, nil)].outOfPlace = key }
        }
        let order = tables.keys.sorted { a, b in
            a.kernel != b.kernel ? analysis.kernels.precedes(a.kernel, b.kernel) : (a.ranks, a.series) < (b.ranks, b.series)
        }
        for environment in analysis.environments {
            for table in order {
                let factor = analysis.kernels.descriptor(of: table.kernel).busFactor!.factor(ranks: table.ranks)
                var rows: [String] = [], busbws: [Double] = [], wrong = 0
                for (bytes, keys) in tables[table]!.sorted(by: { $0.key < $1.key }) {
                    func side(_ key: PointKey?) -> NCCLTestsTable.Side? {
                        guard let key, let point = analysis.points[key]?[environment],
                              let seconds = Median.of(point.launches.map { $0.osu?.avg ?? $0.mean }) else { return nil }
                        let counted = point.launches.compactMap(\.wrong)
                        let side = NCCLTestsTable.Side(seconds: seconds, bytes: bytes, busFactor: factor,
                                                       wrong: counted.isEmpty ? nil : counted.reduce(0, +))
                        busbws.append(side.busbw)
                        wrong += side.wrong ?? 0
                        return side
                    }
                    let outOfPlace = side(keys.outOfPlace), inPlace = side(keys.inPlace)
                    guard outOfPlace != nil || inPlace != nil, let any = keys.outOfPlace ?? keys.inPlace else { continue }
                    let parameters = Dictionary(any.pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                    rows.append(NCCLTestsTable.row(bytes: Int(bytes), count: parameters["count"].flatMap { Int($0) } ?? 0,
                                                   dtype: parameters["dtype"] ?? "?", operation: parameters["operation"] ?? "sum",
                                                   outOfPlace: outOfPlace, inPlace: inPlace))
                }
                guard !rows.isEmpty else { continue }
                out += "# nccl-tests layout (podgap report): \(table.kernel), environment \(environment), \(table.ranks) ranks"
                    + (table.series.isEmpty ? "" : ", " + table.series) + "\n"
                out += (NCCLTestsTable.headerLines() + rows + NCCLTestsTable.footerLines(wrong: wrong, busbws: busbws))
                    .joined(separator: "\n") + "\n\n"
            }
        }
        if out.isEmpty { out = "# no collective with a bus factor in the inputs: the nccl-tests format shows allreduce-like kernels over message sizes\n" }
        return out
    }
}
