import ArgumentParser
import Records
import Runner

/// Options every `podgap run <kernel>` shares: where records go, how the job is labelled, the
/// transport and the time limit. Parsed here, handed to the run loop as `RunSettings`.
struct RunOptions: ParsableArguments {
    @Option(help: "Append one JSON Lines record per point to this file (flushed per point). Without it, a table on stdout.")
    var out: String?

    @Option(help: "Environment name to record (native-shm, pod-overlay ...); detected when absent.")
    var label: String?

    @Option(help: "Run identifier shared by the records of this run; generated when absent.")
    var runID: String?

    @Option(parsing: .unconditional, help: "Trial number recorded, for interleaved repeats.")
    var trial: Int = 0

    @Option(parsing: .unconditional, help: "Suite round this launch belongs to, recorded as-is (podgap suite passes it).")
    var round: Int?

    @Option(parsing: .unconditional, help: "This launch's place in its round's order, 1 first, recorded as-is (podgap suite passes it).")
    var position: Int?

    @Flag(help: "Keep every per-iteration sample in the records.")
    var samples = false

    @Option(help: "MPI transport: auto (UCX over RDMA between nodes where a port is active, shared memory on one node, else TCP), ucx, or tcp (TCP even over the RDMA link).")
    var transport: TransportRequest = .auto

    @Option(parsing: .unconditional, help: "End the job after this long, e.g. 600, 90s, 10m (default: 10m). Records already written stay intact.",
            transform: Typed.seconds)
    var timeout = Typed(value: 600.0, text: "10m")

    func validate() throws {
        if trial < 0 { throw ValidationError("--trial \(trial) must not be negative") }
        if let round, round < 0 { throw ValidationError("--round \(round) must not be negative") }
        if let position, position < 1 { throw ValidationError("--position \(position) must be at least 1 (the first launch of a round is 1)") }
    }

    var settings: RunSettings {
        RunSettings(out: out, label: label, runID: runID, trial: trial, round: round, position: position,
                    keepSamples: samples, transport: transport, timeout: timeout.value)
    }
}

extension TransportRequest: ExpressibleByArgument {}
