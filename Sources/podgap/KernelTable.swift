import Records
import Foundation
import Runner

/// A plain table on stdout for kernels whose points are not message sizes (halo, train): one row
/// per point with the median time, the named phases and the rates, when no `--out` file is given.
struct KernelTable: ResultTable {
    var title: String
    var columns: [Column]

    struct Column {
        var heading: String
        var value: (Record) -> String
    }

    func printHeader(environment: Environment, ranks: Int) {
        print("# podgap \(title)")
        print("# \(ranks) ranks, environment \(environment.name), \(environment.mpiLibrary)")
        print(columns.map { pad($0.heading, 16) }.joined())
        fflush(stdout)
    }

    func printRow(_ record: Record) {
        let verified = record.verified ? "" : "  UNVERIFIED"
        print(columns.map { pad($0.value(record), 16) }.joined() + verified)
        fflush(stdout)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(width - text.count, 1)) + text
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
