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
        } else if let rank = int("SLURM_PROCID"), environment["SLURM_STEP_ID"] != nil {
            launcher = "srun"
            self.rank = rank
            size = int("SLURM_NTASKS") ?? int("SLURM_NPROCS") ?? 1
            localSize = LaunchContext.slurmTasksOnThisNode(environment) ?? size
        } else if let rank = int("PMIX_RANK") {
            launcher = "pmix"
            self.rank = rank
            size = int("PMIX_SIZE") ?? 1
            localSize = size
        } else {
            launcher = "singleton"
            rank = 0
            size = 1
            localSize = 1
        }
        nodeCores = LaunchContext.availableCores
        if launcher == "srun", let allocated = int("SLURM_CPUS_ON_NODE"), allocated > 0 {
            nodeCores = min(allocated, max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1))
        }
    }

    /// This process's environment plus what Open MPI's mpirun needs to start ranks as root (it
    /// refuses otherwise), for the launches podgap makes itself.
    public static var mpirunEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        return environment
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

/// A set of CPU numbers, as Linux writes them in cpu lists ("0-3,6").
public struct CPUSet: Equatable, Sendable {
    public var cpus: [Int]
    public var count: Int { cpus.count }
    public var isEmpty: Bool { cpus.isEmpty }

    public init(_ cpus: [Int]) { self.cpus = cpus.sorted() }

    /// This process's affinity mask, as the kernel reports it in /proc/self/status.
    public static func current() -> CPUSet {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return CPUSet([]) }
        return CPUSet(parsing: line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)) ?? CPUSet([])
    }

    /// Parses a Linux cpu list ("0-3,6"); nil when malformed (empty parts, signs, open ranges).
    public init?(parsing list: String) {
        guard !list.isEmpty else { return nil }
        var cpus: [Int] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), high >= low else { return nil }
            cpus += Array(low...high)
        }
        self.init(cpus)
    }

    /// "0-3,6" style, runs collapsed.
    public var listDescription: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count && cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}
