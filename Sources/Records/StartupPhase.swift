/// The phases of a job's start, from its submission to its first collective, each named by the
/// milestone that ends it. A startup record's `phases` hold the seconds of each (one sample),
/// in this order; `pulled_bytes` in its throughput says what the image pull moved, and
/// `unpacked_bytes` what the nodes unpacked (0 when each reused its snapshot of the image).
public enum StartupPhase: String, CaseIterable, Codable, Sendable {
    /// Pods: the job accepted and its nodes' namespaces and underlay wired.
    case submit
    /// Pods pulling from the registry: the slowest node's pull (with its digest check).
    case pulled
    /// The rest of the nodes' image stage: umoci unpacking the image into each node's snapshot,
    /// or ~0 where every node found its snapshot made (a warm node, as containerd's snapshotter keeps unpacked layers).
    case unpacked
    /// The pods' network: CNI ADD for every pod (bridge, routed, overlay), or nothing (host).
    case network
    /// Every pod's config written and `runc create` done.
    case created
    /// Every pod's `runc start` done.
    case started
    /// Pods: from the launch command to every rank past MPI_Init (mpirun, orted in the pods,
    /// the ranks' exec and MPI's wire-up).
    case wireUp = "wireup"
    /// Native under sbatch: from the submission to the batch script's start (the queue wait and
    /// the allocation), as the script stamps it.
    case allocated
    /// Native: from the launch command (under sbatch, the batch script's start) to the slowest
    /// rank's process start; under srun Slurm's allocation is part of it.
    case processesStarted = "processes_started"
    /// Native: from the slowest process start to every rank past MPI_Init.
    case mpiInit = "mpi_init"
    /// From every rank past MPI_Init to the first allreduce done on rank 0.
    case firstCollective = "first_allreduce"

    /// The pods' phases, in order; those a launch did not go through (no pull) are left out.
    public static let pods: [StartupPhase] = [.submit, .pulled, .unpacked, .network, .created, .started, .wireUp, .firstCollective]
    /// mpirun on this host (or on the emulated nodes), or srun, in order.
    public static let native: [StartupPhase] = [.processesStarted, .mpiInit, .firstCollective]
    /// A batch job (sbatch, srun in its script), in order.
    public static let batch: [StartupPhase] = [.allocated] + native

    /// Every phase in the order a report shows them.
    public static let ordered: [StartupPhase] = pods.filter { $0 != .firstCollective } + batch

    public var label: String {
        switch self {
        case .submit: return "submit"
        case .pulled: return "image pulled"
        case .unpacked: return "unpacked"
        case .network: return "network ready"
        case .created: return "container created"
        case .started: return "started"
        case .wireUp: return "MPI wire-up"
        case .allocated: return "job allocated"
        case .processesStarted: return "processes started"
        case .mpiInit: return "MPI_Init"
        case .firstCollective: return "first allreduce"
        }
    }

    /// The throughput key of the bytes a launch's image pull moved.
    public static let pulledBytesKey = "pulled_bytes"
    /// The throughput key of the image bytes the nodes unpacked into fresh snapshots (0: every node reused its own).
    public static let unpackedBytesKey = "unpacked_bytes"
    /// The phases may miss the measured submit-to-first-collective time by this fraction at most.
    public static let sumTolerance = 0.05

    /// `name=seconds,...` as the launcher hands pods-up phases to the ranks; nil on a malformed list.
    public static func parse(_ text: String) -> [(StartupPhase, Double)]? {
        var phases: [(StartupPhase, Double)] = []
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let phase = StartupPhase(rawValue: String(pair[0])), let seconds = Double(pair[1]),
                  seconds.isFinite, seconds >= 0 else { return nil }
            phases.append((phase, seconds))
        }
        return phases
    }

    public static func text(_ phases: [(StartupPhase, Double)]) -> String {
        phases.map { "\($0.0.rawValue)=\(String(format: "%.6f", $0.1))" }.joined(separator: ",")
    }
}
