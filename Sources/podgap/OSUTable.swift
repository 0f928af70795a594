import Records
import Report
import Runner
import Foundation

/// OSU's layout and meaning on stdout, point by point (Report's `OSULayout` formats it), so that a
/// user who runs OSU beside podgap reads the same quantities under the same headers: Avg, Min and
/// Max Latency are the mean, smallest and largest over ranks of each rank's mean time per call (the
/// record's `osu`); osu_latency's Latency is rank 0's half round trip averaged. busbw is podgap's.
struct OSUTable: ResultTable {
    enum Layout {
        /// osu_allreduce run with -f, and nccl-tests' busbw.
        case collective
        /// osu_latency.
        case latency
    }

    var title: String
    var layout: Layout

    func printHeader(environment: Environment, ranks: Int) {
        print("# podgap \(title)")
        print(provenanceLine(environment: environment, ranks: ranks))
        switch layout {
        case .collective: print(OSULayout.collectiveHeader(extra: [("busbw(GB/s)", 14)]))
        case .latency: print(OSULayout.latencyHeader())
        }
        fflush(stdout)
    }

    func printRow(_ record: Record) {
        let bytes = Int(record.params["bytes"]?.doubleValue ?? 0)
        let verified = record.verified ? "" : "  UNVERIFIED"
        // Records from before the osu view: the mean of the slowest-rank times is the nearest.
        let osu = record.osu ?? OSUStatistics(avg: record.seconds.mean, min: record.seconds.mean, max: record.seconds.mean)
        switch layout {
        case .collective:
            print(OSULayout.collectiveRow(bytes: bytes, avg: osu.avg * 1e6, min: osu.min * 1e6, max: osu.max * 1e6,
                                          iterations: record.iterations,
                                          extra: [(String(format: "%.2f", record.throughput["busbw_gbps"] ?? 0), 14)]) + verified)
        case .latency:
            print(OSULayout.latencyRow(bytes: bytes, latency: osu.avg * 1e6) + verified)
        }
        fflush(stdout)
    }
}
