import Foundation
import Records

/// What a launcher hands the ranks of `podgap run startup`'s probe besides their command: when
/// the launch command began, the phases of bringing the pods up before it (`pods up`'s, from the
/// submit), the bytes the image pull moved and the bytes the nodes unpacked. `run startup` and a suite's startup probe
/// (`startup: phases`) both start the probe with these words, so it has one spelling.
public struct StartupHandover: Sendable {
    public var launched: Double
    public var phases: [(StartupPhase, Double)] = []
    public var pulledBytes: Int64?
    /// The image bytes the nodes unpacked into fresh snapshots: 0 where every node reused its own.
    public var unpackedBytes: Int64?
    /// Under sbatch, when the batch script started (the ranks read it from their environment).
    public var allocated: Double?

    public init(launched: Double, phases: [(StartupPhase, Double)] = [], pulledBytes: Int64? = nil, unpackedBytes: Int64? = nil,
                allocated: Double? = nil) {
        self.launched = launched; self.phases = phases; self.pulledBytes = pulledBytes; self.unpackedBytes = unpackedBytes
        self.allocated = allocated
    }

    /// The record's throughput keys for the image's bytes (none without a pull).
    public var byteCounts: [String: Double] {
        var counts: [String: Double] = [:]
        if let pulledBytes { counts[StartupPhase.pulledBytesKey] = Double(pulledBytes) }
        if let unpackedBytes { counts[StartupPhase.unpackedBytesKey] = Double(unpackedBytes) }
        return counts
    }

    public var arguments: [String] {
        var words = ["--probe-launched", String(format: "%.6f", launched)]
        if !phases.isEmpty { words += ["--probe-phases", StartupPhase.text(phases)] }
        if let pulledBytes { words += ["--probe-pulled-bytes", String(pulledBytes)] }
        if let unpackedBytes { words += ["--probe-unpacked-bytes", String(unpackedBytes)] }
        return words
    }

    /// The probe's words for a launch submitted at `start` (seconds since 1970) whose ranks
    /// `launch` starts (mpirun, srun, pods), followed by this handover's.
    public func arguments(start: Double, launch: String) -> [String] {
        ["--probe-start", String(format: "%.6f", start), "--probe-launch", launch] + arguments
    }
}
