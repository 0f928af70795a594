import ArgumentParser
import Records
import Foundation

/// Options every `podgap run <kernel>` shares: where records go and how the job is labelled.
struct RunOptions: ParsableArguments {
    @Option(help: "Append one JSON Lines record per point to this file (flushed per point). Without it, a table on stdout.")
    var out: String?

    @Option(help: "Environment name to record (native-shm, pod-overlay ...); detected when absent.")
    var label: String?

    @Option(help: "Run identifier shared by the records of this run; generated when absent.")
    var runID: String?

    @Option(help: "Trial number recorded, for interleaved repeats.")
    var trial: Int = 0

    @Flag(help: "Keep every per-iteration sample in the records.")
    var samples = false

    @Option(help: "MPI transport: auto (UCX over RDMA between nodes where a port is active, shared memory on one node, else TCP), ucx, or tcp (TCP even over the RDMA link).")
    var transport: String = "auto"

    @Option(help: "End the job after this long, e.g. 600, 90s, 10m. Records already written stay intact.")
    var timeout: String = "10m"

    func validateTimeout() throws -> Double {
        guard let seconds = DurationText.seconds(timeout) else {
            throw Failure.badInput("--timeout '\(timeout)' is not a duration: use seconds, or a number with s, m or h")
        }
        return seconds
    }
}
