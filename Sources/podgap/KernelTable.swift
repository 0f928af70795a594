import Collector
import Foundation
import Kernels
import MPI

/// A plain table on stdout for kernels whose points are not message sizes (halo, train): one row
/// per point with the median time, the named phases and the rates, when no `--out` file is given.
struct KernelTable {
    var title: String
    var columns: [Column]

    struct Column {
        var heading: String
        var value: (Collector.Measurement) -> String
    }

    func printHeader(ranks: Int) {
        print("# podgap \(title)")
        print("# \(ranks) ranks")
        print(columns.map { pad($0.heading, 16) }.joined())
        fflush(stdout)
    }

    func printRow(_ measurement: Collector.Measurement) {
        let verified = measurement.verified ? "" : "  UNVERIFIED"
        print(columns.map { pad($0.value(measurement), 16) }.joined() + verified)
        fflush(stdout)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(width - text.count, 1)) + text
    }
}

extension KernelTable.Column {
    /// A column of a phase's or the whole iteration's median, in milliseconds.
    static func milliseconds(_ heading: String, phase: String? = nil) -> KernelTable.Column {
        KernelTable.Column(heading: heading) { measurement in
            let samples = phase.map { measurement.phases[$0] ?? [] } ?? measurement.samples
            return String(format: "%.3f", Summary(of: samples).p50 * 1e3)
        }
    }

    static func rate(_ heading: String, _ name: String, scale: Double = 1, format: String = "%.2f") -> KernelTable.Column {
        KernelTable.Column(heading: heading) { String(format: format, ($0.throughput[name] ?? 0) * scale) }
    }

    static func parameter(_ heading: String, _ name: String) -> KernelTable.Column {
        KernelTable.Column(heading: heading) { $0.parameters[name]?.description ?? "-" }
    }
}

/// Prints each point as a `KernelTable` row on rank 0 as the kernel hands it to the collector,
/// for runs without `--out` (the Job prints OSU tables for allreduce only).
struct Tabulated<Wrapped: Kernel>: Kernel {
    static var name: String { Wrapped.name }
    var kernel: Wrapped
    var table: KernelTable?

    func measure(on communicator: Communicator, record: (Collector.Measurement) throws -> Void) throws {
        if communicator.rank == 0 { table?.printHeader(ranks: communicator.size) }
        try kernel.measure(on: communicator) { measurement in
            try record(measurement)
            if communicator.rank == 0 { table?.printRow(measurement) }
        }
    }
}
