import Records

/// The launch plan's rules, each with the reason the records keep. One rule per question, the
/// same for every starter: native runs from the suite, `podgap-mpirun` and `run startup` bind
/// alike, and pods differ only where their cpusets make the difference (docs/launch.md).
enum Rules {
    /// Host processes bind to a core each while a core is left over for mpirun, the kernel and
    /// its softirqs (what an HPC site does on a node it owns); once the ranks fill or exceed the
    /// cores, pinning would stack them with that work, so they float (and yield, below).
    static func nativeBinding(ranksPerNode ranks: Int, cores: Int) -> BindingPolicy {
        if ranks < cores {
            return BindingPolicy(policy: "core",
                                 reason: "\(ranks) rank(s) per node on \(cores) cores: each rank on a core of its own, with cores left for mpirun and the kernel")
        }
        return BindingPolicy(policy: "none",
                             reason: "\(ranks) ranks per node on \(cores) cores: the ranks fill the cores, so pinning would stack them with mpirun and kernel softirqs; they float")
    }

    /// Several Slurm nodes: the site's task plugin binds as it is configured to (the record's
    /// `launcher.cpuBinding` says what it applied). A forced binding would stack ranks where
    /// Slurm's nodes share one machine (scripts/slurm-local), and a real site has chosen its own.
    static func slurmNodesBinding() -> BindingPolicy {
        BindingPolicy(policy: "slurm",
                      reason: "Slurm's nodes: the site's task plugin binds as configured (see launcher.cpuBinding); forcing a binding would stack ranks where Slurm's nodes share one machine")
    }

    /// Pods and emulated nodes all run on this machine. Their cpusets and CPU limits place their
    /// ranks, as the kubelet's CPU manager does in a cluster; Open MPI binding inside each one
    /// would pin every pod's (node's) first rank to the same core and stack them.
    static func podBinding(containers: Bool) -> BindingPolicy {
        let what = containers ? "pods" : "emulated nodes"
        return BindingPolicy(policy: "none",
                             reason: "\(what) on one machine: each one's cpuset and CPU limit place its ranks (as the kubelet's CPU manager does); binding inside each would pin every \(containers ? "pod" : "node")'s first rank to the same core")
    }

    /// Busy-polling ranks that fill the cores starve the kernel's softirq that moves veth and
    /// VXLAN packets: 4 ms instead of 20 us per small message on 2 cores (FIELD-NOTES).
    static func yield(ranksOnMachine ranks: Int, cores: Int) -> (Bool, String) {
        if ranks >= cores {
            return (true, "\(ranks) ranks on \(cores) cores: idle ranks yield their core, or busy-polling starves the kernel's network softirq")
        }
        return (false, "\(ranks) rank(s) on \(cores) cores: cores are left for the kernel, so ranks busy-poll as MPI does by default")
    }
}
