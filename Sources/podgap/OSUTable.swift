import Records
import Foundation

/// What `podgap run` prints on stdout, point by point, when no `--out` file is given.
protocol ResultTable {
    func printHeader(environment: Environment, ranks: Int)
    func printRow(_ record: Record)
}

/// OSU micro-benchmarks' text layout, so scripts that parse OSU output can read podgap's too.
struct OSUTable: ResultTable {
    var title: String

    func printHeader(environment: Environment, ranks: Int) {
        print("# podgap \(title)")
        print("# \(ranks) ranks, environment \(environment.name), \(environment.mpiLibrary)")
        print(pad("# Size", 10) + pad("Avg Latency(us)", 18, right: true) + pad("Min Latency(us)", 18, right: true)
              + pad("Max Latency(us)", 18, right: true) + pad("Iterations", 12, right: true) + pad("busbw(GB/s)", 14, right: true))
        fflush(stdout)
    }

    func printRow(_ record: Record) {
        let bytes = record.params["bytes"]?.description ?? "-"
        let verified = record.verified ? "" : "  UNVERIFIED"
        print(pad(bytes, 10) + number(record.seconds.mean * 1e6, 18) + number(record.seconds.min * 1e6, 18)
              + number(record.seconds.max * 1e6, 18) + pad(String(record.iterations), 12, right: true)
              + number(record.throughput["busbw_gbps"] ?? 0, 14) + verified)
        fflush(stdout)
    }

    private func number(_ value: Double, _ width: Int) -> String { pad(String(format: "%.2f", value), width, right: true) }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let space = String(repeating: " ", count: max(width - text.count, 1))
        return right ? space + text : text + space
    }
}
