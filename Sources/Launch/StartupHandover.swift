import Foundation
import Records

/// What a launcher hands the ranks of `podgap run startup`'s probe besides their command: when
/// the launch command began, the phases of bringing the pods up before it (`pods up`'s, from the
/// submit), and the bytes the image pull moved. `run startup` and a suite's startup probe
/// (`startup: phases`) both start the probe with these words, so it has one spelling.
public struct StartupHandover: Sendable {
    public var launched: Double
    public var phases: [(StartupPhase, Double)] = []
    public var pulledBytes: Int64?
    /// Under sbatch, when the batch script started (the ranks read it from their environment).
    public var allocated: Double?

    public init(launched: Double, phases: [(StartupPhase, Double)] = [], pulledBytes: Int64? = nil, allocated: Double? = nil) {
        self.launched = launched; self.phases = phases; self.pulledBytes = pulledBytes; self.allocated = allocated
    }

    public var arguments: [String] {
        var words = ["--probe-launched", String(format: "%.6f", launched)]
        if !phases.isEmpty { words += ["--probe-phases", StartupPhase.text(phases)] }
        if let pulledBytes { words += ["--probe-pulled-bytes", String(pulledBytes)] }
        return words
    }

    /// The probe's words for a launch submitted at `start` (seconds since 1970) whose ranks
    /// `launch` starts (mpirun, srun, pods), followed by this handover's.
    public func arguments(start: Double, launch: String) -> [String] {
        ["--probe-start", String(format: "%.6f", start), "--probe-launch", launch] + arguments
    }
}
