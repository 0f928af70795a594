import Foundation
import Records
import Statistics

/// nccl-tests' table (all_reduce_perf and its siblings), one per environment and sweep of a kernel
/// that declares a bus factor: size, count, type, redop, root, then time, algbw, busbw and #wrong
/// out of place and in place (records with `params.inPlace` true). Time is each launch's mean time
/// per iteration (nccl-tests averages its iterations), the median over launches; algbw = bytes /
/// time, busbw = algbw x the descriptor's bus factor; #wrong sums the launches' `wrong` counts
/// ("N/A" where the records carry none).
public struct NCCLTestsRenderer: Sendable {
    public init() {}

    /// nccl-tests' names for the element types.
    static let typeNames = ["float32": "float", "float64": "double", "float16": "half", "bfloat16": "bfloat16",
                            "int8": "int8", "uint8": "uint8", "int32": "int32", "uint32": "uint32", "int64": "int64", "uint64": "uint64"]

    struct Table: Hashable { var kernel: String, ranks: Int, series: String }

    public func render(_ analysis: Analysis) -> String {
        var out = ""
        var tables: [Table: [Double: (outOfPlace: PointKey?, inPlace: PointKey?)]] = [:]
        for key in analysis.sortedPoints {
            guard let bytes = key.bytes, analysis.kernels.descriptor(of: key.kernel).busFactor != nil else { continue }
            let pairs = key.pairs
            let inPlace = pairs.contains { $0.key == "inPlace" && $0.value == "true" }
            let series = pairs.filter { !["bytes", "count", "inPlace"].contains($0.key) }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
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
                var lines: [String] = [], busbws: [Double] = [], wrongs: Int?
                for (bytes, keys) in tables[table]!.sorted(by: { $0.key < $1.key }) {
                    let sides = [keys.outOfPlace, keys.inPlace].map { $0.flatMap { analysis.points[$0]?[environment] } }
                    guard sides.contains(where: { !($0?.launches.isEmpty ?? true) }), let any = keys.outOfPlace ?? keys.inPlace else { continue }
                    let pairs = Dictionary(any.pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                    let dtype = pairs["dtype"] ?? "-"
                    var line = Self.row([String(format: "%.0f", bytes), pairs["count"] ?? "-", Self.typeNames[dtype] ?? dtype,
                                         pairs["operation"] ?? "-", "-1"], widths: [12, 12, 8, 6, 6])
                    for (index, side) in sides.enumerated() {
                        guard let side, let time = Median.of(side.launches.map(\.mean)), time > 0 else {
                            line += "  " + Self.row(["N/A", "N/A", "N/A", "N/A"], widths: [7, 6, 6, 6])
                            continue
                        }
                        let algbw = bytes / time / 1e9, busbw = algbw * factor
                        if index == 0 { busbws.append(busbw) }
                        let counted = side.launches.compactMap(\.wrong)
                        let wrong = counted.isEmpty ? "N/A" : "\(counted.reduce(0, +))"
                        if !counted.isEmpty { wrongs = (wrongs ?? 0) + counted.reduce(0, +) }
                        line += "  " + Self.row([Self.time(time * 1e6), String(format: "%.2f", algbw), String(format: "%.2f", busbw), wrong],
                                                widths: [7, 6, 6, 6])
                    }
                    lines.append(line)
                }
                guard !lines.isEmpty else { continue }
                out += "# nccl-tests layout (podgap report): \(table.kernel), environment \(environment), \(table.ranks) ranks\(table.series.isEmpty ? "" : ", " + table.series)\n"
                out += "#\n"
                out += "#                                                              out-of-place                       in-place          \n"
                out += "# " + Self.row(["size", "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong",
                                        "time", "algbw", "busbw", "#wrong"], widths: Self.headerWidths) + "\n"
                out += "# " + Self.row(["(B)", "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "",
                                        "(us)", "(GB/s)", "(GB/s)", ""], widths: Self.headerWidths) + "\n"
                out += lines.joined(separator: "\n") + "\n"
                out += "# Out of bounds values : \(wrongs.map { "\($0) \($0 == 0 ? "OK" : "FAILED")" } ?? "N/A (the records count no wrong elements)")\n"
                out += String(format: "# Avg bus bandwidth    : %g \n", busbws.isEmpty ? 0 : busbws.reduce(0, +) / Double(busbws.count))
                out += "#\n\n"
            }
        }
        if out.isEmpty { out = "# no collective with a bus factor in the inputs: the nccl-tests format shows allreduce-like kernels over message sizes\n" }
        return out
    }

    static let headerWidths = [10, 12, 8, 6, 6, 7, 6, 6, 6, 7, 6, 6, 6]

    /// Cells right-aligned in their widths, two spaces apart, as nccl-tests' printf formats do.
    static func row(_ cells: [String], widths: [Int]) -> String {
        zip(cells, widths).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined(separator: "  ")
    }

    /// nccl-tests' time column: fewer decimals as the number grows.
    static func time(_ microseconds: Double) -> String {
        if microseconds >= 10_000 { return String(format: "%7.0f", microseconds) }
        if microseconds >= 100 { return String(format: "%7.1f", microseconds) }
        return String(format: "%7.2f", microseconds)
    }
}
