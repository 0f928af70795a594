import Records
import Foundation
import MPI

extension Environment {
    public static let podgapVersion = "0.1.0"
    /// The git commit this binary was built from, embedded at build time ("-dirty" with
    /// uncommitted changes); nil when built outside a checkout. Not looked up at run time, so a
    /// copied binary still names its own build.
    public static var podgapCommit: String? { BuildInfo.gitCommit }
    /// `podgap --version`: the version and the commit.
    public static var podgapBuild: String { podgapVersion + (podgapCommit.map { " (\($0))" } ?? "") }

    /// Detects the environment of a running job. Collective: every rank of `communicator` calls it.
    /// `label` names the environment (`--label`); without one a name is inferred from what is seen.
    public static func detect(label: String?, communicator: Communicator, context: LaunchContext,
                              yieldSetBy: String?) throws -> Environment {
        let hostname = MPI.processorName
        let hostnames = Array(Set(try communicator.allgather(hostname))).sorted()
        let hardware = Topology.Probe()
        let bindings = try communicator.allgather(hardware.binding)
        let node = try communicator.splitByNode()
        let ranksPerNode = try communicator.allreduce(Int64(node.size), operation: .max)
        try node.free()
        return local(label: label, context: context, hostname: hostname, hostnames: hostnames,
                     bindings: bindings, ranksPerNode: Int(ranksPerNode), yieldSetBy: yieldSetBy, hardware: hardware)
    }

    /// What one process can see without talking to the others (`podgap env`, and the base of `detect`).
    public static func local(label: String?, context: LaunchContext = LaunchContext(),
                             hostname: String = ProcessInfo.processInfo.hostName, hostnames: [String]? = nil,
                             bindings: [String]? = nil, ranksPerNode: Int? = nil, yieldSetBy: String? = nil,
                             hardware: Topology.Probe = Topology.Probe()) -> Environment {
        let variables = ProcessInfo.processInfo.environment
        let cores = context.nodeCores
        let perNode = ranksPerNode ?? context.localSize
        let mca = MPI.controlVariables(named: ["pml", "btl", "mpi_yield_when_idle"])
        let pml = mca["pml"], btl = mca["btl"], yield = mca["mpi_yield_when_idle"]
        let yieldOn = yield == "1" || yield == "true"
        let names = hostnames ?? [hostname]
        // A launcher that overrode Open MPI's choice (pods exclude shared memory) says why.
        let note = [variables["PODGAP_TRANSPORT_NOTE"], transportNote(btl: btl, nodes: names.count)]
            .compactMap { $0 }.joined(separator: "; ")
        let transport = Transport(pml: describe(pml, default: "ob1 (auto)"), btl: describe(btl, default: "all available"),
                                  note: note.isEmpty ? nil : note)
        let container = detectContainer(variables)
        let network = variables["PODGAP_NETWORK"] ?? (names.count == 1 ? NetworkMode.loopback.rawValue : nil)
        var environment = Environment(
            name: label ?? inferName(context: context, container: container, network: network, btl: btl, nodes: names.count),
            launcher: detectLauncher(context: context, variables: variables),
            container: container,
            network: network,
            transport: transport,
            hostname: hostname,
            hostnames: names,
            cores: cores,
            cpuset: CPUSet.current().listDescription,
            cgroup: CgroupReader().limits(),
            kernel: kernelRelease(),
            mpiLibrary: MPI.libraryVersion.split(separator: ",").first.map(String.init) ?? "unknown",
            podgapVersion: podgapVersion,
            gitCommit: podgapCommit,
            topology: hardware.topology,
            bindings: bindings,
            ranksPerNode: perNode,
            oversubscribed: perNode >= cores,
            yieldWhenIdle: yieldOn,
            yieldSetBy: yieldOn ? (yieldSetBy ?? "launcher") : nil,
            rdma: rdmaDevices())
        // The launch plan tells its ranks which binding it chose and why (PODGAP_BINDING), as it
        // tells them their network (PODGAP_NETWORK).
        environment.bindingPolicy = BindingPolicy(variables: variables) ?? .unplanned(launcher: context.launcher)
        // Pods say the knobs they were brought up with (PODGAP_KNOBS) as they say their network.
        environment.knobs = variables["PODGAP_KNOBS"].flatMap(Knobs.init(variable:)).flatMap { $0.isEmpty ? nil : $0 }
        // hwloc's PCI listing only: asking NVML costs a driver round trip every launch would pay.
        // Probed and none found is [], as `rdma` says it; nil only where hwloc could not look.
        if hardware.topology != nil { environment.gpus = hardware.gpus }
        return environment
    }

    private static func describe(_ value: String?, default fallback: String) -> String {
        guard let value else { return "unknown" }
        return value.isEmpty ? fallback : value
    }

    /// What Open MPI's ob1 will pick between ranks under these settings; shared memory only on one node.
    static func transportNote(btl: String?, nodes: Int) -> String? {
        guard let btl else { return nil }
        if nodes == 1 && MPITransports.allows(btl, "vader") { return "vader (shared memory) between ranks on one node" }
        if MPITransports.allows(btl, "tcp") { return "tcp between ranks" }
        return nil
    }

    static func inferName(context: LaunchContext, container: Container?, network: String?, btl: String?, nodes: Int) -> String {
        let tcpOnly = btl.map { !$0.isEmpty && !$0.hasPrefix("^") && !$0.contains("vader") } ?? false
        return EnvironmentCatalog.inferredName(inPod: context.launcher == "pod", network: network, nodes: nodes,
                                               tcpOnly: tcpOnly, ranks: context.size)
    }

    static func detectLauncher(context: LaunchContext, variables: [String: String]) -> Launcher {
        var launcher = Launcher(kind: context.launcher)
        if context.launcher == "srun" || variables["SLURM_JOB_ID"] != nil {
            launcher.jobID = variables["SLURM_JOB_ID"]
            launcher.stepID = variables["SLURM_STEP_ID"]
            launcher.nodeList = variables["SLURM_STEP_NODELIST"] ?? variables["SLURM_JOB_NODELIST"]
            launcher.tasksPerNode = variables["SLURM_STEP_TASKS_PER_NODE"] ?? variables["SLURM_TASKS_PER_NODE"]
            // srun leaves SLURM_CPU_BIND unset where no task plugin binds (task/none): nothing was bound.
            launcher.cpuBinding = slurmCPUBinding(variables) ?? (context.launcher == "srun" ? "none" : nil)
        }
        if context.launcher == "pod" {
            launcher.jobID = variables["PODGAP_JOB"]
        }
        return launcher
    }

    /// The binding srun applied, from SLURM_CPU_BIND ("quiet,mask_cpu:0x1,0x2" -> "mask_cpu:0x1,0x2",
    /// "quiet,none" -> "none"); the verbosity word says nothing about binding.
    static func slurmCPUBinding(_ variables: [String: String]) -> String? {
        guard let text = variables["SLURM_CPU_BIND"] else {
            return variables["SLURM_CPU_BIND_TYPE"].map { $0 + (variables["SLURM_CPU_BIND_LIST"] ?? "") }
        }
        let words = text.split(separator: ",", maxSplits: 1).map(String.init)
        guard let first = words.first, first == "quiet" || first == "verbose" else { return text }
        return words.count == 2 ? words[1] : first
    }

    static func detectContainer(_ variables: [String: String]) -> Container? {
        if let runtime = variables["PODGAP_CONTAINER_RUNTIME"] {
            // The confinement the pod launcher applied, as it told its ranks (podgap pods up).
            return Container(runtime: runtime, version: variables["PODGAP_CONTAINER_RUNTIME_VERSION"],
                             id: variables["PODGAP_CONTAINER_ID"], seccomp: variables["PODGAP_CONTAINER_SECCOMP"],
                             userNamespace: variables["PODGAP_CONTAINER_USERNS"].map { $0 == "1" },
                             pidsLimit: variables["PODGAP_CONTAINER_PIDS_LIMIT"].flatMap { Int($0) })
        }
        if variables["KUBERNETES_SERVICE_HOST"] != nil {
            return Container(runtime: "kubernetes", id: variables["HOSTNAME"])
        }
        if FileManager.default.fileExists(atPath: "/run/.containerenv") { return Container(runtime: "podman") }
        if FileManager.default.fileExists(atPath: "/.dockerenv") { return Container(runtime: "docker") }
        if let runtime = variables["container"] { return Container(runtime: runtime) }
        return nil
    }

    static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "Linux \(release) \(machine)"
    }
}

/// Reads the CPU and memory limits of this process's cgroup, v1 or v2.
struct CgroupReader {
    var root = "/sys/fs/cgroup"

    func limits() -> Environment.CgroupLimits {
        let lines = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8))?.split(separator: "\n") ?? []
        var v1: [String: String] = [:]
        var v2Path: String?
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty { v2Path = String(parts[2]) }
            for controller in parts[1].split(separator: ",") { v1[String(controller)] = String(parts[2]) }
        }
        if FileManager.default.fileExists(atPath: "\(root)/cgroup.controllers"), let path = v2Path {
            let folder = candidates(root, path)
            var quota: Double?
            if let text = firstReadable(folder.map { "\($0)/cpu.max" }) {
                let fields = text.split(separator: " ")
                if fields.count == 2, let q = Double(fields[0]), let p = Double(fields[1]), p > 0 { quota = q / p }
            }
            let memory = firstReadable(folder.map { "\($0)/memory.max" }).flatMap { Int64($0) }
            return .init(cpuQuota: quota, memoryBytes: memory)
        }
        var quota: Double?
        let cpuFolders = candidates("\(root)/cpu", v1["cpu"] ?? "/")
        if let q = firstReadable(cpuFolders.map { "\($0)/cpu.cfs_quota_us" }).flatMap(Double.init), q > 0,
           let p = firstReadable(cpuFolders.map { "\($0)/cpu.cfs_period_us" }).flatMap(Double.init), p > 0 {
            quota = q / p
        }
        var memory: Int64?
        if let m = firstReadable(candidates("\(root)/memory", v1["memory"] ?? "/").map { "\($0)/memory.limit_in_bytes" })
            .flatMap({ Int64($0) }), m < (Int64(1) << 60) {
            memory = m
        }
        return .init(cpuQuota: quota, memoryBytes: memory)
    }

    /// Inside a cgroup namespace the path in /proc/self/cgroup is "/" while the mount is the
    /// cgroup itself, so try the full path first and then the mount's root.
    private func candidates(_ mount: String, _ path: String) -> [String] {
        path == "/" ? [mount] : [mount + path, mount]
    }

    private func firstReadable(_ paths: [String]) -> String? {
        for path in paths {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return nil
    }
}
