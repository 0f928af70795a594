import Foundation
/// Rows of text rendered as an aligned table, GitHub markdown or CSV.
public struct TextTable: Equatable, Sendable {
    public enum Format: String, CaseIterable, Sendable { case table, markdown, csv }

    public var headings: [String]
    public var rows: [[String]]

    public init(headings: [String], rows: [[String]]) { self.headings = headings; self.rows = rows }

    public func render(_ format: Format) -> String {
        switch format {
        case .csv:
            return ([headings] + rows).map { $0.map(TextTable.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .markdown:
            var lines = ["| " + headings.joined(separator: " | ") + " |",
                         "|" + headings.map { $0 == "environment" || $0 == "input" ? "---|" : "---:|" }.joined()]
            lines += rows.map { "| " + $0.joined(separator: " | ") + " |" }
            return lines.joined(separator: "\n") + "\n"
        case .table:
            let widths = headings.indices.map { column in ([headings] + rows).map { $0[column].count }.max() ?? 0 }
            func line(_ cells: [String]) -> String {
                zip(cells, widths).map { String(repeating: " ", count: $1 - $0.count) + $0 }.joined(separator: "  ")
            }
            return ([line(headings)] + rows.map(line)).joined(separator: "\n") + "\n"
        }
    }

    private static func csvField(_ text: String) -> String {
        text.contains(where: { ",\"\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

extension Projection {
    /// One row per GPU count and environment; CSV headings are machine-friendly names.
    public static func table(_ points: [ProjectedPoint], format: TextTable.Format) -> TextTable {
        let csv = format == .csv
        let headings = csv
            ? ["gpus", "environment", "algorithm", "compute_ms", "allreduce_ms", "exposed_ms", "step_ms", "samples_per_second", "efficiency_percent", "gap_percent"]
            : ["gpus", "environment", "allreduce", "compute(ms)", "allreduce(ms)", "exposed(ms)", "step(ms)", "samples/s", "efficiency", "gap"]
        let rows = points.map { point -> [String] in
            [String(point.gpus), point.environment, point.gpus == 1 ? "-" : point.algorithm.rawValue,
             fixed(point.computeSeconds * 1e3, 2), fixed(point.communicationSeconds * 1e3, 2), fixed(point.exposedSeconds * 1e3, 2),
             fixed(point.stepSeconds * 1e3, 2), fixed(point.throughput, 1),
             csv ? fixed(point.efficiency * 100, 1) : fixed(point.efficiency * 100, 1) + "%",
             csv ? fixed(point.gapPercent, 2) : signed(point.gapPercent) + "%"]
        }
        return TextTable(headings: headings, rows: rows)
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    static func signed(_ value: Double) -> String { String(format: "%+.1f", value) }
}

extension Sensitivity {
    public static func table(_ rows: [SensitivityRow], baselineGap: Double, format: TextTable.Format) -> TextTable {
        let csv = format == .csv
        return TextTable(
            headings: csv ? ["input", "factor", "gap_percent", "change_points"] : ["input", "scaled by", "gap", "change"],
            rows: rows.map { row in
                [row.input, String(format: "%.2f", row.factor),
                 csv ? Projection.fixed(row.gapPercent, 2) : Projection.signed(row.gapPercent) + "%",
                 csv ? Projection.fixed(row.gapPercent - baselineGap, 2) : Projection.signed(row.gapPercent - baselineGap) + " pts"]
            })
    }
}
