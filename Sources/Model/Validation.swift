import Collector
import Foundation

/// A measured training step next to what the profile predicts for it.
public struct ValidationRow: Equatable, Sendable {
    public var environment: String
    public var ranks: Int
    public var measuredSeconds: Double
    public var predictedSeconds: Double
    public var errorPercent: Double { (predictedSeconds / measuredSeconds - 1) * 100 }
    /// Against the baseline at the same rank count (nil for the baseline itself or when it was not measured).
    public var measuredGapPercent: Double?
    public var predictedGapPercent: Double?
}

/// Predicts every training-step record with a profile and compares.
public enum Validation {
    public static func run(profile: Profile, records: [Record], gpusPerNode: Int) throws -> [ValidationRow] {
        let projection = try Projection(profile: profile, gpusPerNode: gpusPerNode)
        // Median step per (environment, ranks) over trials.
        var measured: [String: [Double]] = [:]
        var keys: [(String, Int)] = []
        for record in records where record.kernel == "train" {
            let key = "\(record.environment.name)\t\(record.ranks)"
            if measured[key] == nil { keys.append((record.environment.name, record.ranks)) }
            measured[key, default: []].append(record.seconds.p50)
        }
        guard !keys.isEmpty else { throw ModelError("no training-step records (podgap run train) to validate against") }
        func median(_ name: String, _ ranks: Int) -> Double? {
            measured["\(name)\t\(ranks)"].map { Calibration.median($0) }
        }
        let baseline = try profile.environment(named: profile.baseline)
        var rows: [ValidationRow] = []
        for (name, ranks) in keys {
            let environment = try profile.environment(named: name)
            let step = projection.step(environment, gpus: ranks)
            let baseStep = projection.step(baseline, gpus: ranks)
            let predicted = step.compute + step.exposed
            let mine = median(name, ranks)!
            var row = ValidationRow(environment: name, ranks: ranks, measuredSeconds: mine, predictedSeconds: predicted)
            if name != profile.baseline, let base = median(profile.baseline, ranks) {
                row.measuredGapPercent = (mine / base - 1) * 100
                row.predictedGapPercent = (predicted / (baseStep.compute + baseStep.exposed) - 1) * 100
            }
            rows.append(row)
        }
        return rows
    }

    public static func table(_ rows: [ValidationRow], format: TextTable.Format) -> TextTable {
        func gap(_ value: Double?) -> String { value.map { String(format: "%+.1f", $0) } ?? "" }
        return TextTable(
            headings: format == .csv
                ? ["ranks", "environment", "measured_step_ms", "predicted_step_ms", "error_percent", "measured_gap_percent", "predicted_gap_percent", "gap_difference_points"]
                : ["ranks", "environment", "measured step(ms)", "predicted step(ms)", "error", "measured gap", "predicted gap", "gap difference"],
            rows: rows.map { row in
                var difference: Double?
                if let measured = row.measuredGapPercent, let predicted = row.predictedGapPercent { difference = predicted - measured }
                return [String(row.ranks), row.environment, String(format: "%.1f", row.measuredSeconds * 1e3),
                        String(format: "%.1f", row.predictedSeconds * 1e3), String(format: "%+.1f%%", row.errorPercent),
                        gap(row.measuredGapPercent) + (row.measuredGapPercent == nil || format == .csv ? "" : "%"),
                        gap(row.predictedGapPercent) + (row.predictedGapPercent == nil || format == .csv ? "" : "%"),
                        gap(difference) + (difference == nil || format == .csv ? "" : " pts")]
            })
    }
}
