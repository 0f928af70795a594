import Foundation
import Records

/// nccl-tests' text layout for allreduce records (src/util.cu: writeResultHeader,
/// writeBenchmarkLinePreamble, writeBenchmarkLineBody, the footer), so that GPU users read podgap's
/// numbers where they read NCCL's: one row per size, out-of-place then in-place time, algbw, busbw
/// and #wrong. The one formatter for `podgap run allreduce --table nccl` (row by row, as points
/// finish, from records) and `podgap report --format nccl-tests` (from the values over launches).
///
/// time is the record's OSU average (each rank's mean time per call, averaged over ranks: what
/// nccl-tests reports with its default `-a 1`), algbw = bytes / time, busbw = algbw times the
/// record's bus factor (2(n-1)/n for allreduce). Records without an OSU view use the mean of the
/// slowest-rank times.
public enum NCCLTestsTable {
    /// One placement's numbers: microseconds per call, the two bandwidths in GB/s (10^9 bytes),
    /// and the elements that failed verification where they were counted.
    public struct Side: Equatable, Sendable {
        public var microseconds: Double
        public var algbw: Double
        public var busbw: Double
        public var wrong: Int?
        public init(microseconds: Double, algbw: Double, busbw: Double, wrong: Int?) {
            self.microseconds = microseconds; self.algbw = algbw; self.busbw = busbw; self.wrong = wrong
        }

        /// From a time per call in seconds: algbw = bytes / time, busbw = algbw x the bus factor.
        public init(seconds: Double, bytes: Double, busFactor: Double, wrong: Int?) {
            let algbw = seconds > 0 ? bytes / seconds / 1e9 : 0
            self.init(microseconds: seconds * 1e6, algbw: algbw, busbw: algbw * busFactor, wrong: wrong)
        }
    }

    /// nccl-tests' two heading lines and the units line, after a lone "#".
    public static func headerLines() -> [String] {
        let lead = "# " + [pad("", 10), pad("", 12), pad("", 8), pad("", 6), pad("", 6)].joined(separator: "  ")
        let sides = [pad("time", 7), pad("algbw", 6), pad("busbw", 6), pad("#wrong", 6)].joined(separator: "  ")
        let units = [pad("(us)", 7), pad("(GB/s)", 6), pad("(GB/s)", 6), pad("", 6)].joined(separator: "  ")
        return [
            "#",
            lead + "           out-of-place                       in-place          ",
            "# " + [pad("size", 10), pad("count", 12), pad("type", 8), pad("redop", 6), pad("root", 6)].joined(separator: "  ")
                + "  " + sides + "  " + sides + " ",
            "# " + [pad("(B)", 10), pad("(elements)", 12), pad("", 8), pad("", 6), pad("", 6)].joined(separator: "  ")
                + "  " + units + "  " + units + " ",
        ]
    }

    /// One size: the preamble, then each side, "N/A" for a side not measured.
    public static func row(bytes: Int, count: Int, dtype: String, operation: String, outOfPlace: Side?, inPlace: Side?) -> String {
        let preamble = [pad(String(bytes), 12), pad(String(count), 12), pad(typeName(dtype), 8), pad(operation, 6), pad("-1", 6)]
            .joined(separator: "  ")
        return preamble + side(outOfPlace) + side(inPlace)
    }

    /// One size from its records: the preamble from whichever record is there.
    public static func row(outOfPlace: Record?, inPlace: Record?) -> String {
        guard let any = outOfPlace ?? inPlace else { return "" }
        func text(_ name: String) -> String? {
            any.params[name].flatMap { if case .string(let text) = $0 { return text } else { return nil } }
        }
        return row(bytes: Int(any.params["bytes"]?.doubleValue ?? 0), count: Int(any.params["count"]?.doubleValue ?? 0),
                   dtype: text("dtype") ?? "?", operation: text("operation") ?? "sum",
                   outOfPlace: outOfPlace.map { figures(of: $0) }, inPlace: inPlace.map { figures(of: $0) })
    }

    /// The lines after the rows: elements that failed verification, and the mean bus bandwidth
    /// over every measured side.
    public static func footerLines(wrong: Int, busbws: [Double]) -> [String] {
        let average = busbws.isEmpty ? 0 : busbws.reduce(0, +) / Double(busbws.count)
        return ["# Out of bounds values : \(wrong) \(wrong == 0 ? "OK" : "FAILED")",
                "# Avg bus bandwidth    : \(String(format: "%g", average)) ",
                "#"]
    }

    public static func footerLines(_ records: [Record]) -> [String] {
        footerLines(wrong: records.reduce(0) { $0 + ($1.wrong ?? 0) }, busbws: records.map { figures(of: $0).busbw })
    }

    /// Microseconds per call and the two bandwidths in GB/s (10^9 bytes).
    static func figures(of record: Record) -> Side {
        Side(seconds: record.osu?.avg ?? record.seconds.mean, bytes: record.params["bytes"]?.doubleValue ?? 0,
             busFactor: record.descriptor?.busFactor?.factor(ranks: record.ranks) ?? 1, wrong: record.wrong)
    }

    private static func side(_ side: Side?) -> String {
        guard let side else { return "  " + [pad("N/A", 7), pad("N/A", 6), pad("N/A", 6), pad("N/A", 6)].joined(separator: "  ") }
        let wrong = side.wrong.map { pad(String(format: "%g", Double($0)), 6) } ?? pad("N/A", 6)
        return "  " + [number(side.microseconds, width: 7), number(side.algbw, width: 6), number(side.busbw, width: 6), wrong]
            .joined(separator: "  ")
    }

    /// nccl-tests' type names for podgap's element types.
    static func typeName(_ dtype: String) -> String {
        switch dtype {
        case "float32": return "float"
        case "float64": return "double"
        case "float16": return "half"
        default: return dtype
        }
    }

    /// nccl-tests' getFloatStr: two decimals if they fit the width, then one, then none, then an exponent.
    static func number(_ value: Double, width: Int) -> String {
        for format in ["%.2f", "%.1f", "%.0f"] {
            let text = String(format: format, value)
            if text.count <= width { return pad(text, width) }
        }
        return pad(String(format: width >= 7 ? "%.1e" : "%.0e", value), width)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(width - text.count, 0)) + text
    }
}
