import Records
import Foundation

/// What the launcher told this process through its environment, read before MPI starts, so that
/// bad input is reported once (by rank 0) and yield-when-idle is decided before MPI_Init reads it.
public struct LaunchContext: Sendable, Equatable {
    /// mpirun, srun, pod or singleton.
    public var launcher: String
    public var rank: Int
    public var size: Int
    /// Ranks on this node.
    public var localSize: Int
    /// This rank's index among the ranks on its node (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID):
    /// what picks its GPU (0 where the launcher does not say: every launcher podgap knows does).
    public var localRank: Int
    /// Cores on this node that the job may use: the count oversubscription is judged by. Under srun it
    /// is the job's allocation on the node (SLURM_CPUS_ON_NODE, capped by the cores online), not the
    /// rank's own binding: two ranks each bound to one core of a two-core node still fill the node.
    public var nodeCores: Int

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func int(_ name: String) -> Int? { environment[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        if let rank = int("OMPI_COMM_WORLD_RANK") {
            // The MPI Operator's pods and ours mark the launcher role; mpirun is the transport either way.
            launcher = environment["K_MPI_JOB_ROLE"] != nil || environment["PODGAP_POD"] != nil ? "pod" : "mpirun"
            self.rank = rank
            size = int("OMPI_COMM_WORLD_SIZE") ?? 1
            localSize = int("OMPI_COMM_WORLD_LOCAL_SIZE") ?? size
            localRank = int("OMPI_COMM_WORLD_LOCAL_RANK") ?? 0
        } else if let rank = int("SLURM_PROCID"), environment["SLURM_STEP_ID"] != nil {
            launcher = "srun"
            self.rank = rank
            size = int("SLURM_NTASKS") ?? int("SLURM_NPROCS") ?? 1
            localSize = LaunchContext.slurmTasksOnThisNode(environment) ?? size
            localRank = int("SLURM_LOCALID") ?? 0
        } else if let rank = int("PMIX_RANK") {
            launcher = "pmix"
            self.rank = rank
            size = int("PMIX_SIZE") ?? 1
            localSize = size
            localRank = int("PMIX_LOCAL_RANK") ?? 0
        } else {
            launcher = "singleton"
            rank = 0
            size = 1
            localSize = 1
            localRank = 0
        }
        nodeCores = LaunchContext.availableCores
        if launcher == "srun", let allocated = int("SLURM_CPUS_ON_NODE"), allocated > 0 {
            nodeCores = min(allocated, max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1))
        }
    }

    /// Cores this process may use (its affinity mask): `nodeCores` outside srun.
    public static var availableCores: Int {
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let mask = CPUSet.current()
        return mask.isEmpty ? max(Int(online), 1) : mask.count
    }

    /// Ranks on a node at least equal to its cores: busy-polling ranks then starve the kernel's
    /// network softirq (veth ping-pong measured 4 ms instead of 20 us on 2 cores).
    public var isOversubscribed: Bool { localSize >= nodeCores }

    /// SLURM_TASKS_PER_NODE looks like "2(x3),1"; SLURM_NODEID picks this node's entry.
    static func slurmTasksOnThisNode(_ environment: [String: String]) -> Int? {
        guard let text = environment["SLURM_STEP_TASKS_PER_NODE"] ?? environment["SLURM_TASKS_PER_NODE"] else { return nil }
        let node = Int(environment["SLURM_NODEID"] ?? "0") ?? 0
        var counts: [Int] = []
        for part in text.split(separator: ",") {
            if let open = part.firstIndex(of: "(") {
                let count = Int(part[..<open]) ?? 0
                let repeats = Int(part[part.index(open, offsetBy: 2)...].dropLast()) ?? 1
                counts += Array(repeating: count, count: repeats)
            } else if let count = Int(part) {
                counts.append(count)
            }
        }
        return node < counts.count ? counts[node] : counts.first
    }
}
