import Records
import Runner
import Foundation

/// OSU micro-benchmarks' text layout and meaning, so that a user who runs OSU beside podgap reads
/// the same quantities under the same headers: osu_allreduce's Avg, Min and Max Latency are the
/// mean, smallest and largest over ranks of each rank's mean time per call (the record's `osu`),
/// osu_latency's Latency is rank 0's half round trip averaged over iterations. Widths and
/// precision are those of a built OSU (configure.ac sets `FIELD_WIDTH` 18, `FLOAT_PRECISION` 2);
/// podgap adds busbw for collectives.
struct OSUTable: ResultTable {
    enum Layout {
        /// osu_allreduce run with -f: Avg, Min, Max Latency and Iterations.
        case collective
        /// osu_latency: one latency column.
        case latency
    }

    var title: String
    var layout: Layout

    func printHeader(environment: Environment, ranks: Int) {
        print("# podgap \(title)")
        print("# \(ranks) ranks, environment \(environment.name), \(environment.mpiLibrary)")
        switch layout {
        case .collective:
            print(left("# Size") + right("Avg Latency(us)") + right("Min Latency(us)") + right("Max Latency(us)")
                  + right("Iterations", 12) + right("busbw(GB/s)", 14))
        case .latency:
            print(left("# Size") + right("Latency (us)"))
        }
        fflush(stdout)
    }

    func printRow(_ record: Record) {
        let bytes = record.params["bytes"]?.description ?? "-"
        let verified = record.verified ? "" : "  UNVERIFIED"
        // Records from before the osu view: the mean of the slowest-rank times is the nearest.
        let osu = record.osu ?? OSUStatistics(avg: record.seconds.mean, min: record.seconds.mean, max: record.seconds.mean)
        switch layout {
        case .collective:
            print(left(bytes) + microseconds(osu.avg) + microseconds(osu.min) + microseconds(osu.max)
                  + right(String(record.iterations), 12) + right(String(format: "%.2f", record.throughput["busbw_gbps"] ?? 0), 14) + verified)
        case .latency:
            print(left(bytes) + microseconds(osu.avg) + verified)
        }
        fflush(stdout)
    }

    private func microseconds(_ seconds: Double) -> String { right(String(format: "%.2f", seconds * 1e6)) }

    /// OSU's `%-10s` / `%-*d` with 10.
    private func left(_ text: String) -> String { text.padding(toLength: max(10, text.count), withPad: " ", startingAt: 0) }

    /// OSU's `%*s` / `%*.*f` with FIELD_WIDTH.
    private func right(_ text: String, _ width: Int = 18) -> String {
        String(repeating: " ", count: max(width - text.count, 0)) + text
    }
}
