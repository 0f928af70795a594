import Foundation
import Launch
import Records

/// One pod's runc config.json, generated from the image bundle's own config.json (which umoci
/// made from the image's configuration): what Kubernetes' kubelet and containerd would ask for.
public struct PodConfig {
    public var pod: String
    public var job: String
    public var network: PodNetwork
    /// Network namespace to join (the pod's own, or the node's for host network).
    public var netnsPath: String
    public var rootfs: String
    public var results: String
    /// The job's /etc/hosts and /etc/mpi (hostfile, rsh agent), mounted read-only.
    public var hosts: String
    public var mpiFolder: String
    /// The pod's knobs: its CPU quota (`cpu-limit`), ranks per pod (`slots`), runtime, seccomp.
    public var knobs: Knobs
    public var cpuset: String?
    public var memoryBytes: Int64?
    public var runtimeVersion: String
    public var cgroupsPath: String
    /// The syscalls the pod may make (containers/seccomp.json), unless `knobs.seccomp` is unconfined.
    public var seccomp: SeccompProfile
    /// The pod cgroup's `pids.max`: a fork bomb stops there.
    public var pidsLimit: Int
    /// The pod's root mapped to unprivileged host ids (`pods up --userns`), nil for none, and
    /// where that user namespace is pinned (it owns the pod's network namespace: see UserNamespace).
    public var userNamespace: UserNamespace?
    public var userNamespacePin: String?
    /// The host's RDMA devices passed through (`pods up --rdma`), as the RDMA shared device plugin does.
    public var rdma: PodRDMA? = nil
    /// The GPUs' device nodes, mounts, environment and hooks (`pods up --gpus`, from CDI specs).
    public var gpus: ContainerEdits? = nil
    /// The pod's own hugetlbfs (the `hugepages` knob), where its ranks map their message buffers.
    public var hugePages: HugePages.Mount? = nil

    /// Capabilities containerd and Docker grant by default; pods are never privileged.
    static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    /// What runc's default spec masks (an empty file or folder over each): kernel keyrings, ACPI,
    /// kernel memory and timers that tell about other tenants.
    static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    ]
    /// What runc's default spec mounts read-only.
    static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// The environment every pod process (entrypoint, orted, ranks) starts with.
    var environment: [String] {
        let transports = LaunchPlan.podTransports(sharedMemory: (knobs.slots ?? 1) > 1)
        return [
            "PODGAP_POD=1",
            "PODGAP_NETWORK=\(network.mode.rawValue)",
            "PODGAP_JOB=\(job)",
            "PODGAP_CONTAINER_RUNTIME=\((knobs.runtime ?? .runc).rawValue)",
            "PODGAP_CONTAINER_RUNTIME_VERSION=\(runtimeVersion)",
            "PODGAP_CONTAINER_ID=\(pod)",
            "PODGAP_CONTAINER_SECCOMP=\(knobs.seccomp == .unconfined ? Knobs.Seccomp.unconfined.rawValue : seccomp.name)",
            "PODGAP_CONTAINER_USERNS=\(userNamespace == nil ? 0 : 1)",
            "PODGAP_CONTAINER_PIDS_LIMIT=\(pidsLimit)",
            "K_MPI_JOB_ROLE=worker",
            "OMPI_MCA_orte_default_hostfile=/etc/mpi/hostfile",
            "OMPI_MCA_btl=\(transports.btl)",
            "PODGAP_TRANSPORT_NOTE=\(transports.note)",
        ] + (knobs.isEmpty ? [] : ["PODGAP_KNOBS=\(knobs.variable)"])
            + (hugePages == nil ? [] : ["\(HugePageBuffers.variable)=\(HugePages.Mount.destination)"])
    }

    /// `base` is the bundle's config.json; the result is written to the pod's bundle folder.
    public func render(base: [String: Any]) throws -> [String: Any] {
        var config = base
        var process = (config["process"] as? [String: Any]) ?? [:]
        process["terminal"] = false
        process["args"] = [Image.entrypointPath]
        process["cwd"] = "/"
        let inherited = ((process["env"] as? [String]) ?? []).filter { !$0.hasPrefix("TERM=") }
        process["env"] = inherited + environment
        let capabilities = PodConfig.defaultCapabilities
        process["capabilities"] = ["bounding": capabilities, "effective": capabilities, "permitted": capabilities]
        process["noNewPrivileges"] = true
        config["process"] = process
        config["root"] = ["path": rootfs, "readonly": true]
        config["hostname"] = pod

        var mounts = (config["mounts"] as? [[String: Any]]) ?? []
        mounts.append(["destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev", "mode=1777", "size=256m"]])
        mounts.append(["destination": "/results", "type": "bind", "source": results, "options": ["rbind", "rw"]])
        mounts.append(["destination": "/etc/hosts", "type": "bind", "source": hosts, "options": ["bind", "ro"]])
        mounts.append(["destination": "/etc/mpi", "type": "bind", "source": mpiFolder, "options": ["rbind", "ro"]])
        if let hugePages { mounts.append(hugePages.oci) }
        config["mounts"] = mounts

        var linux = (config["linux"] as? [String: Any]) ?? [:]
        var namespaces: [[String: Any]] = [
            ["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"],
            ["type": "network", "path": netnsPath],
        ]
        if let userNamespace {
            var user: [String: Any] = ["type": "user"]
            if let userNamespacePin { user["path"] = userNamespacePin }
            namespaces.append(user)
            let mapping: [[String: Any]] = [["containerID": 0, "hostID": userNamespace.hostID, "size": userNamespace.size]]
            linux["uidMappings"] = mapping
            linux["gidMappings"] = mapping
        }
        linux["namespaces"] = namespaces
        linux["maskedPaths"] = PodConfig.maskedPaths
        linux["readonlyPaths"] = PodConfig.readonlyPaths
        linux["cgroupsPath"] = cgroupsPath
        var resources = (linux["resources"] as? [String: Any]) ?? [:]
        var cpu: [String: Any] = [:]
        if let cpus = knobs.cpuLimit {
            cpu["period"] = 100_000
            cpu["quota"] = Int((cpus * 100_000).rounded())
        }
        if let cpuset { cpu["cpus"] = cpuset }
        if !cpu.isEmpty { resources["cpu"] = cpu }
        if let memoryBytes { resources["memory"] = ["limit": memoryBytes] }
        resources["pids"] = ["limit": pidsLimit]
        linux["resources"] = resources
        // Unconfined is Kubernetes' `seccompProfile: {type: Unconfined}`: no filter at all.
        if knobs.seccomp != .unconfined { linux["seccomp"] = try seccomp.linuxSeccomp() }
        config["linux"] = linux
        return config
    }

    /// The config with the RDMA and GPU edits applied last, since rendering sets the capabilities
    /// and environment they extend.
    public func rendered(base: [String: Any]) throws -> [String: Any] {
        var config = try render(base: base)
        try rdma?.apply(to: &config)
        try gpus?.apply(to: &config)
        return config
    }

    /// Writes the rendered config as `<folder>/config.json`.
    public func write(base: [String: Any], to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: try rendered(base: base), options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: folder + "/config.json"))
    }

    public static func readBase(bundle: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: bundle + "/config.json"),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PodsError.badInput("\(bundle)/config.json is missing or unreadable: run `podgap image bundle`")
        }
        return object
    }
}
