import Foundation
import RDMA

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
    public var cpus: Double?
    public var cpuset: String?
    public var memoryBytes: Int64?
    public var runtimeVersion: String
    public var cgroupsPath: String
    /// The host's RDMA devices passed through (`pods up --rdma`), as the RDMA shared device plugin does.
    public var rdma: PodRDMA? = nil

    /// Capabilities containerd and Docker grant by default; pods are never privileged.
    static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    /// The syscalls Docker's default seccomp profile refuses to an unprivileged container,
    /// refused here with EPERM (an allow-by-default list, the same effect for these calls).
    static let refusedSyscalls = [
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "finit_module", "get_kernel_syms", "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load",
        "kexec_load", "keyctl", "lookup_dcookie", "mount", "move_mount", "nfsservctl", "open_by_handle_at",
        "open_tree", "perf_event_open", "pivot_root", "process_vm_readv", "process_vm_writev", "query_module",
        "quotactl", "reboot", "request_key", "setns", "settimeofday", "swapoff", "swapon", "sysfs", "umount2",
        "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old", "fsopen", "fsconfig", "fsmount", "fspick",
    ]

    /// The environment every pod process (entrypoint, orted, ranks) starts with.
    var environment: [String] {
        [
            "PODGAP_POD=1",
            "PODGAP_NETWORK=\(network.mode.rawValue)",
            "PODGAP_JOB=\(job)",
            "PODGAP_CONTAINER_RUNTIME=runc",
            "PODGAP_CONTAINER_RUNTIME_VERSION=\(runtimeVersion)",
            "PODGAP_CONTAINER_ID=\(pod)",
            "K_MPI_JOB_ROLE=worker",
            "OMPI_MCA_orte_default_hostfile=/etc/mpi/hostfile",
            // Pods have separate IPC namespaces and /dev/shm: shared memory (vader) cannot work between them.
            "OMPI_MCA_btl=tcp,self",
            "PODGAP_TRANSPORT_NOTE=shared memory (vader) excluded by the launcher: pods have separate IPC namespaces",
        ]
    }

    /// `base` is the bundle's config.json; the result is written to the pod's bundle folder.
    public func render(base: [String: Any]) -> [String: Any] {
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
        config["mounts"] = mounts

        var linux = (config["linux"] as? [String: Any]) ?? [:]
        linux["namespaces"] = [
            ["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"],
            ["type": "network", "path": netnsPath],
        ]
        linux["cgroupsPath"] = cgroupsPath
        var resources = (linux["resources"] as? [String: Any]) ?? [:]
        var cpu: [String: Any] = [:]
        if let cpus {
            cpu["period"] = 100_000
            cpu["quota"] = Int((cpus * 100_000).rounded())
        }
        if let cpuset { cpu["cpus"] = cpuset }
        if !cpu.isEmpty { resources["cpu"] = cpu }
        if let memoryBytes { resources["memory"] = ["limit": memoryBytes] }
        linux["resources"] = resources
        linux["seccomp"] = [
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [["names": PodConfig.refusedSyscalls, "action": "SCMP_ACT_ERRNO", "errnoRet": 1]],
        ]
        config["linux"] = linux
        return config
    }

    /// The config with the RDMA additions applied last, since rendering sets the capabilities they extend.
    public func rendered(base: [String: Any]) throws -> [String: Any] {
        var config = render(base: base)
        try rdma?.apply(to: &config)
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
