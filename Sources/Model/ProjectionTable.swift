import Foundation
import Records

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
        return TextTable(headings: headings, rows: rows, alignments: [.right, .left])
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
            },
            alignments: [.left])
    }
}
