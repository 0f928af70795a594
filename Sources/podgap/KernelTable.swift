import Records
import Foundation
import Runner

/// A plain table on stdout for kernels whose points are not message sizes (halo, train): one row
/// per point with the median time, the named phases and the rates, when no `--out` file is given.
/// Rows are printed as points finish, so the one `TextTable` lays them out at fixed widths.
struct KernelTable: ResultTable {
    var title: String
    var columns: [Column]

    struct Column {
        var heading: String
        var value: (Record) -> String
    }

    private var table: TextTable { TextTable(headings: columns.map(\.heading), rows: []) }
    /// Wide enough for every heading and for the numbers these tables print.
    private var widths: [Int] { columns.map { max($0.heading.count, 12) } }

    func printHeader(environment: Environment, ranks: Int) {
        print("# podgap \(title)")
        print(provenanceLine(environment: environment, ranks: ranks))
        print(table.line(table.headings, widths: widths))
        fflush(stdout)
    }

    func printRow(_ record: Record) {
        print(table.line(columns.map { $0.value(record) }, widths: widths) + (record.verified ? "" : "  UNVERIFIED"))
        fflush(stdout)
    }
}

extension KernelTable.Column {
    /// A column of a phase's or the whole iteration's median, in milliseconds.
    static func milliseconds(_ heading: String, phase: String? = nil) -> KernelTable.Column {
        KernelTable.Column(heading: heading) { record in
            let median = phase.map { record.phases[$0]?.p50 ?? 0 } ?? record.seconds.p50
            return String(format: "%.3f", median * 1e3)
        }
    }

    static func rate(_ heading: String, _ name: String, scale: Double = 1, format: String = "%.2f") -> KernelTable.Column {
        KernelTable.Column(heading: heading) { String(format: format, ($0.throughput[name] ?? 0) * scale) }
    }

    static func parameter(_ heading: String, _ name: String) -> KernelTable.Column {
        KernelTable.Column(heading: heading) { $0.params[name]?.description ?? "-" }
    }
}
