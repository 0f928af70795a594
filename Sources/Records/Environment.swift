/// Where and how a measurement ran: the provenance that makes two records comparable or not.
public struct Environment: Codable, Equatable, Sendable {
    /// The environment's name in the comparison (native-shm, pod-overlay ...), from `--label` or detected.
    public var name: String
    public var launcher: Launcher
    public var container: Container?
    /// Network the ranks talk over: loopback, host, bridge, routed, overlay, underlay ...
    public var network: String?
    public var transport: Transport
    public var hostname: String
    /// Every distinct node name of the job, sorted.
    public var hostnames: [String]
    public var cores: Int
    /// CPUs this process may run on, as a Linux cpu list ("0-1").
    public var cpuset: String
    public var cgroup: CgroupLimits
    public var kernel: String
    public var mpiLibrary: String
    public var podgapVersion: String
    public var gitCommit: String?
    public var topology: Topology?
    /// Each rank's CPU binding as hwloc reads it, indexed by rank.
    public var bindings: [String]?
    /// The binding rule the launch applied and why (podgap's launch plan, or the user's own).
    /// Nil on records written before it was kept.
    public var bindingPolicy: BindingPolicy?
    public var ranksPerNode: Int
    /// True when ranks on a node are at least its cores: the case where busy-polling starves the kernel.
    public var oversubscribed: Bool
    public var yieldWhenIdle: Bool
    /// Who turned yield-when-idle on: "podgap" (it saw oversubscription), "launcher" (mpirun flags, environment), or nil when off.
    public var yieldSetBy: String?
    /// RDMA devices found (empty where none exist).
    public var rdma: [JSONValue]
    /// The machine-state probe every launch runs before its kernel (which mode the machine was in).
    public var probe: MachineProbe?
    /// GPUs this node has: [] where they were looked for and none found (as `rdma`); nil only
    /// where nothing looked (hwloc failed, or records written before this was probed).
    public var gpus: [GPUDevice]?
    /// The GPU each rank used, indexed by rank (its index on its node, or its UUID).
    public var gpuBindings: [String]?
    public var ncclVersion: String?
    /// The thread level MPI granted (single, funneled ...): Open MPI's small-message latency differs
    /// between them, so two records compare only at the same level. Nil on records written before.
    public var mpiThreadLevel: String?
    /// The Kubernetes knobs the pods ran with (`pods up --cpu-limit ...`, a suite's `cpu-limit: ...`);
    /// nil where none was turned (and on native environments, which have none).
    public var knobs: Knobs?
    /// Under the `hugepages` knob, whether the message buffers really came from huge pages.
    public var hugePages: HugePageBuffers?

    public init(name: String, launcher: Launcher, container: Container?, network: String?, transport: Transport,
                hostname: String, hostnames: [String], cores: Int, cpuset: String, cgroup: CgroupLimits,
                kernel: String, mpiLibrary: String, podgapVersion: String, gitCommit: String?, topology: Topology?,
                bindings: [String]?, ranksPerNode: Int, oversubscribed: Bool, yieldWhenIdle: Bool,
                yieldSetBy: String?, rdma: [JSONValue] = [], probe: MachineProbe? = nil) {
        self.name = name; self.launcher = launcher; self.container = container; self.network = network
        self.transport = transport; self.hostname = hostname; self.hostnames = hostnames; self.cores = cores
        self.cpuset = cpuset; self.cgroup = cgroup; self.kernel = kernel; self.mpiLibrary = mpiLibrary
        self.podgapVersion = podgapVersion; self.gitCommit = gitCommit; self.topology = topology
        self.bindings = bindings; self.ranksPerNode = ranksPerNode; self.oversubscribed = oversubscribed
        self.yieldWhenIdle = yieldWhenIdle; self.yieldSetBy = yieldSetBy; self.rdma = rdma
        self.probe = probe
    }

    public struct Launcher: Codable, Equatable, Sendable {
        /// mpirun, srun, pod, or singleton.
        public var kind: String
        public var jobID: String?
        public var stepID: String?
        public var nodeList: String?
        public var tasksPerNode: String?
        public var cpuBinding: String?
        public init(kind: String, jobID: String? = nil, stepID: String? = nil, nodeList: String? = nil,
                    tasksPerNode: String? = nil, cpuBinding: String? = nil) {
            self.kind = kind; self.jobID = jobID; self.stepID = stepID; self.nodeList = nodeList
            self.tasksPerNode = tasksPerNode; self.cpuBinding = cpuBinding
        }
    }

    public struct Container: Codable, Equatable, Sendable {
        public var runtime: String
        public var version: String?
        public var id: String?
        /// The confinement the pod ran under: its seccomp profile's name, whether it had a user
        /// namespace of its own, and its cgroup pids limit.
        public var seccomp: String?
        public var userNamespace: Bool?
        public var pidsLimit: Int?
        public init(runtime: String, version: String? = nil, id: String? = nil, seccomp: String? = nil,
                    userNamespace: Bool? = nil, pidsLimit: Int? = nil) {
            self.runtime = runtime; self.version = version; self.id = id
            self.seccomp = seccomp; self.userNamespace = userNamespace; self.pidsLimit = pidsLimit
        }
    }

    /// The MPI transport as the library was configured, read through MPI_T; "unknown" when unreadable.
    public struct Transport: Codable, Equatable, Sendable {
        public var pml: String
        public var btl: String
        /// Our own reading of what those settings mean for this job (e.g. "vader" on one node).
        public var note: String?
        public init(pml: String, btl: String, note: String? = nil) { self.pml = pml; self.btl = btl; self.note = note }
    }

    public struct CgroupLimits: Codable, Equatable, Sendable {
        /// CPU quota in cores (quota / period), nil when unlimited.
        public var cpuQuota: Double?
        /// Memory limit in bytes, nil when unlimited.
        public var memoryBytes: Int64?
        public init(cpuQuota: Double? = nil, memoryBytes: Int64? = nil) { self.cpuQuota = cpuQuota; self.memoryBytes = memoryBytes }
    }
}

/// The machine as hwloc sees it.
public struct Topology: Codable, Equatable, Sendable {
    public var packages: Int
    public var numaNodes: Int
    public var cores: Int
    public var processingUnits: Int
    /// Cache sizes in bytes by level name ("L1d", "L2", "L3"), one entry per distinct level.
    public var caches: [String: Int64]
    public var pciDevices: [PCIDevice]

    public init(packages: Int, numaNodes: Int, cores: Int, processingUnits: Int, caches: [String: Int64], pciDevices: [PCIDevice]) {
        self.packages = packages; self.numaNodes = numaNodes; self.cores = cores
        self.processingUnits = processingUnits; self.caches = caches; self.pciDevices = pciDevices
    }

    public struct PCIDevice: Codable, Equatable, Sendable {
        /// "network", "gpu", "openfabrics", "storage" or "other".
        public var kind: String
        public var name: String
        public var busID: String
        /// NUMA node the device is attached near, when hwloc knows it.
        public var numaNode: Int?
        public init(kind: String, name: String, busID: String, numaNode: Int?) {
            self.kind = kind; self.name = name; self.busID = busID; self.numaNode = numaNode
        }
    }
}

/// A short fixed probe every launch runs before its kernel: how fast this machine was at that
/// moment, so a report can tell launches that ran in different machine modes apart.
public struct MachineProbe: Codable, Equatable, Sendable {
    /// A local float sum's speed in GB/s (memory-bound).
    public var sumGBps: Double
    /// A short GEMM's rate in GFLOP/s (compute-bound).
    public var gemmGflops: Double
    /// How long the probe took in all.
    public var seconds: Double
    public init(sumGBps: Double, gemmGflops: Double, seconds: Double) {
        self.sumGBps = sumGBps; self.gemmGflops = gemmGflops; self.seconds = seconds
    }
}

/// A GPU as `podgap env` and records describe it.
public struct GPUDevice: Codable, Equatable, Sendable {
    public var index: Int
    public var name: String
    public var uuid: String?
    public var memoryBytes: Int64?
    public var busID: String?
    public var numaNode: Int?
    public var driverVersion: String?
    public var cudaVersion: String?
    /// The network device fewest PCI-tree hops away (the one GPUDirect RDMA would use).
    public var nearestNIC: String?
    public init(index: Int, name: String, uuid: String? = nil, memoryBytes: Int64? = nil, busID: String? = nil,
                numaNode: Int? = nil, driverVersion: String? = nil, cudaVersion: String? = nil, nearestNIC: String? = nil) {
        self.index = index; self.name = name; self.uuid = uuid; self.memoryBytes = memoryBytes; self.busID = busID
        self.numaNode = numaNode; self.driverVersion = driverVersion; self.cudaVersion = cudaVersion
        self.nearestNIC = nearestNIC
    }
}
