import Foundation
import Testing
@testable import Pods
import RDMADevices
import Records

@Suite struct PodConfigTests {
    /// The shape umoci writes into a bundle's config.json (trimmed).
    static let base: [String: Any] = [
        "ociVersion": "1.0.0",
        "process": ["terminal": true, "args": ["/bin/sh"], "env": ["PATH=/usr/bin", "TERM=xterm"], "cwd": "/"],
        "root": ["path": "rootfs"],
        "mounts": [["destination": "/proc", "type": "proc", "source": "proc"]],
        "linux": ["namespaces": [["type": "network"]], "resources": ["devices": [["allow": false, "access": "rwm"]]]],
    ]

    /// The profile the repository ships (containers/seccomp.json), as the image carries it.
    static let profile: SeccompProfile = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("containers/seccomp.json")
        return try! SeccompProfile(data: Data(contentsOf: path), origin: path.path)
    }()

    func config(cpus: Double? = 1.5, memory: Int64? = 2 << 30, userNamespace: UserNamespace? = nil, knobs: Knobs = Knobs()) -> PodConfig {
        var knobs = knobs
        knobs.cpuLimit = knobs.cpuLimit ?? cpus
        return PodConfig(pod: "j-p1", job: "j", network: .overlay, netnsPath: "/var/run/netns/j-p1", rootfs: "/b/rootfs",
                  results: "/r", hosts: "/run/podgap/j/etc/hosts", mpiFolder: "/run/podgap/j/etc/mpi", knobs: knobs,
                  cpuset: "0", memoryBytes: memory, runtimeVersion: "1.1.5", cgroupsPath: "/podgap-j-p1",
                  seccomp: Self.profile, pidsLimit: 4096, userNamespace: userNamespace)
    }


    @Test func joinsThePodNamespaceWithItsOwnIPCPIDUTSAndMount() throws {
        let rendered = try config().render(base: Self.base)
        let linux = try #require(rendered["linux"] as? [String: Any])
        let namespaces = try #require(linux["namespaces"] as? [[String: String]])
        #expect(Set(namespaces.map { $0["type"]! }) == ["pid", "ipc", "uts", "mount", "network"])
        #expect(namespaces.first { $0["type"] == "network" }?["path"] == "/var/run/netns/j-p1")
        #expect(rendered["hostname"] as? String == "j-p1")
        let root = try #require(rendered["root"] as? [String: Any])
        #expect(root["readonly"] as? Bool == true)
        #expect(root["path"] as? String == "/b/rootfs")
    }

    @Test func carriesRequestedLimitsInTheCgroup() throws {
        let linux = try #require(try config().render(base: Self.base)["linux"] as? [String: Any])
        #expect(linux["cgroupsPath"] as? String == "/podgap-j-p1")
        let resources = try #require(linux["resources"] as? [String: Any])
        let cpu = try #require(resources["cpu"] as? [String: Any])
        // 1.5 cores = 150 ms of CPU time per 100 ms period.
        #expect(cpu["quota"] as? Int == 150_000)
        #expect(cpu["period"] as? Int == 100_000)
        #expect(cpu["cpus"] as? String == "0")
        #expect((resources["memory"] as? [String: Any])?["limit"] as? Int64 == 2_147_483_648)
        #expect(resources["devices"] != nil, "the image's device rules are kept")
        let unlimited = try #require(try config(cpus: nil, memory: nil).render(base: Self.base)["linux"] as? [String: Any])
        let none = try #require(unlimited["resources"] as? [String: Any])
        #expect((none["cpu"] as? [String: Any])?["quota"] == nil)
        #expect(none["memory"] == nil)
    }

    @Test func isUnprivilegedWithSeccompAndDefaultCapabilities() throws {
        let rendered = try config().render(base: Self.base)
        let process = try #require(rendered["process"] as? [String: Any])
        #expect(process["terminal"] as? Bool == false)
        #expect(process["noNewPrivileges"] as? Bool == true)
        let bounding = try #require((process["capabilities"] as? [String: [String]])?["bounding"])
        #expect(!bounding.contains("CAP_SYS_ADMIN"))
        #expect(!bounding.contains("CAP_NET_ADMIN"))
        #expect(bounding.contains("CAP_NET_RAW"))
        let seccomp = try #require((rendered["linux"] as? [String: Any])?["seccomp"] as? [String: Any])
        // An allow-list: what no rule allows is refused with EPERM.
        #expect(seccomp["defaultAction"] as? String == "SCMP_ACT_ERRNO")
        #expect(seccomp["defaultErrnoRet"] as? Int == 1)
        let rules = try #require(seccomp["syscalls"] as? [[String: Any]])
        let allowed = Set(rules.filter { $0["action"] as? String == "SCMP_ACT_ALLOW" && $0["args"] == nil }
            .flatMap { $0["names"] as? [String] ?? [] })
        for call in ["read", "write", "openat", "futex", "sendmsg", "execve", "fork", "chroot", "process_vm_readv"] {
            #expect(allowed.contains(call), "\(call) is allowed, as Docker allows it")
        }
        for call in ["mount", "unshare", "setns", "ptrace", "kexec_load", "bpf", "keyctl", "add_key", "reboot", "init_module",
                     "clone", "clone3", "personality", "socket"] {
            #expect(!allowed.contains(call), "\(call) is not allowed outright")
        }
        // clone only without the namespace flags; clone3 answers ENOSYS so that libc falls back to clone.
        let clone = try #require(rules.first { ($0["names"] as? [String]) == ["clone"] })
        let argument = try #require((clone["args"] as? [[String: Any]])?.first)
        #expect(argument["op"] as? String == "SCMP_CMP_MASKED_EQ" && argument["value"] as? Int == 0x7e02_0000)
        #expect(rules.contains { ($0["names"] as? [String]) == ["clone3"] && $0["errnoRet"] as? Int == 38 })
        #expect(rules.allSatisfy { $0["comment"] == nil }, "comments stay in the file")
        #expect(seccomp["architectures"] as? [String] == (try Self.profile.linuxSeccomp())["architectures"] as? [String])
        #expect(try Self.profile.linuxSeccomp(machine: "x86_64")["architectures"] as? [String]
                == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        #expect(throws: PodsError.self) { try Self.profile.linuxSeccomp(machine: "mips") }
        #expect(Self.profile.name == "podgap-default")

        // What runc's default spec masks, and a pids limit.
        let linux = try #require(rendered["linux"] as? [String: Any])
        let masked = try #require(linux["maskedPaths"] as? [String])
        #expect(masked.contains("/proc/keys") && masked.contains("/proc/acpi") && masked.contains("/proc/kcore"))
        #expect((linux["readonlyPaths"] as? [String])?.contains("/proc/sys") == true)
        #expect(((linux["resources"] as? [String: Any])?["pids"] as? [String: Any])?["limit"] as? Int == 4096)
        #expect(!(linux["namespaces"] as? [[String: Any]] ?? []).contains { $0["type"] as? String == "user" })
        let env = try #require(process["env"] as? [String])
        for expected in ["PODGAP_CONTAINER_SECCOMP=podgap-default", "PODGAP_CONTAINER_USERNS=0", "PODGAP_CONTAINER_PIDS_LIMIT=4096"] {
            #expect(env.contains(expected), "\(expected)")
        }
    }

    @Test func aUserNamespaceMapsRootToAnUnprivilegedRangeJoinedByPath() throws {
        var pod = config(userNamespace: .standard)
        pod.userNamespacePin = "/run/podgap/j/userns/j-p1"
        let rendered = try pod.render(base: Self.base)
        let linux = try #require(rendered["linux"] as? [String: Any])
        let user = try #require((linux["namespaces"] as? [[String: Any]])?.first { $0["type"] as? String == "user" })
        #expect(user["path"] as? String == "/run/podgap/j/userns/j-p1")
        for key in ["uidMappings", "gidMappings"] {
            let mapping = try #require((linux[key] as? [[String: Any]])?.first)
            #expect(mapping["containerID"] as? Int == 0 && mapping["hostID"] as? Int == 100_000 && mapping["size"] as? Int == 65_536)
        }
        let env = (rendered["process"] as? [String: Any])?["env"] as? [String] ?? []
        #expect(env.contains("PODGAP_CONTAINER_USERNS=1"))
    }

    @Test func mountsResultsHostsAndMPIFilesAndSetsTheOperatorEnvironment() throws {
        let rendered = try config().render(base: Self.base)
        let mounts = try #require(rendered["mounts"] as? [[String: Any]])
        let results = try #require(mounts.first { $0["destination"] as? String == "/results" })
        #expect(results["source"] as? String == "/r")
        #expect((results["options"] as? [String])?.contains("rw") == true)
        #expect(mounts.contains { $0["destination"] as? String == "/etc/mpi" && $0["source"] as? String == "/run/podgap/j/etc/mpi" })
        #expect(mounts.contains { $0["destination"] as? String == "/etc/hosts" })
        #expect(mounts.contains { $0["destination"] as? String == "/proc" }, "the image's mounts are kept")
        let env = try #require((rendered["process"] as? [String: Any])?["env"] as? [String])
        for expected in ["PODGAP_POD=1", "PODGAP_NETWORK=overlay", "PODGAP_JOB=j", "PODGAP_CONTAINER_RUNTIME=runc",
                         "PODGAP_CONTAINER_RUNTIME_VERSION=1.1.5", "PODGAP_CONTAINER_ID=j-p1", "K_MPI_JOB_ROLE=worker",
                         "OMPI_MCA_orte_default_hostfile=/etc/mpi/hostfile", "OMPI_MCA_btl=tcp,self", "PATH=/usr/bin"] {
            #expect(env.contains(expected), "\(expected)")
        }
        #expect(!env.contains("TERM=xterm"))
        // Valid JSON for runc.
        _ = try JSONSerialization.data(withJSONObject: rendered)
    }

    @Test func rdmaPodsGetTheDevicesCapabilityAndUnlimitedMemlock() throws {
        let port = DevicePort(number: 1, state: "active", linkLayer: .infiniband, activeMTU: 4096, laneGbps: 25, width: 4)
        let device = Device(name: "mlx5_0", uverbs: "uverbs0", node: DeviceNode(path: "/dev/infiniband/uverbs0", major: 231, minor: 192),
                            ports: [port])
        var pod = config()
        pod.rdma = try PodRDMA(devices: [device], connectionManager: DeviceNode(path: "/dev/infiniband/rdma_cm", major: 10, minor: 58),
                               providerFolders: ["/etc/libibverbs.d"])
        // Through JSON and back, as runc reads it.
        let data = try JSONSerialization.data(withJSONObject: try pod.rendered(base: Self.base))
        let rendered = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let linux = try #require(rendered["linux"] as? [String: Any])
        let devices = try #require(linux["devices"] as? [[String: Any]])
        #expect(Set(devices.compactMap { $0["path"] as? String }) == ["/dev/infiniband/uverbs0", "/dev/infiniband/rdma_cm"])
        #expect(devices.first { $0["path"] as? String == "/dev/infiniband/uverbs0" }?["major"] as? Int == 231)
        let rules = try #require((linux["resources"] as? [String: Any])?["devices"] as? [[String: Any]])
        #expect(rules.contains { $0["allow"] as? Bool == true && $0["major"] as? Int == 10 && $0["minor"] as? Int == 58 })
        // The default deny rule stays first, so only these devices are opened up.
        #expect(rules.first?["allow"] as? Bool == false)
        let process = try #require(rendered["process"] as? [String: Any])
        let capabilities = try #require(process["capabilities"] as? [String: [String]])
        #expect(!capabilities.isEmpty && capabilities.values.allSatisfy { $0.contains("CAP_IPC_LOCK") })
        // Added to the defaults, not in place of them.
        #expect(capabilities["bounding"]?.contains("CAP_NET_RAW") == true)
        let limits = try #require(process["rlimits"] as? [[String: Any]])
        let memlock = try #require(limits.first { $0["type"] as? String == "RLIMIT_MEMLOCK" })
        #expect(memlock["hard"] as? UInt64 == UInt64.max && memlock["soft"] as? UInt64 == UInt64.max)
        let mounts = try #require(rendered["mounts"] as? [[String: Any]])
        #expect(mounts.contains { $0["destination"] as? String == "/etc/libibverbs.d" })
        // Without --rdma none of it is there.
        let plain = try config().render(base: Self.base)
        #expect(((plain["linux"] as? [String: Any])?["devices"] as? [[String: Any]] ?? []).isEmpty)
    }

    // MARK: knobs

    func environment(_ knobs: Knobs) throws -> [String: String] {
        let process = try #require(try config(cpus: nil, knobs: knobs).render(base: Self.base)["process"] as? [String: Any])
        let lines = try #require(process["env"] as? [String])
        return Dictionary(lines.map { line in
            let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
            return (pair[0], pair.count > 1 ? pair[1] : "")
        }, uniquingKeysWith: { $1 })
    }

    @Test func slotsLetRanksOfAPodUseSharedMemoryAndSaySo() throws {
        let plain = try environment(Knobs())
        #expect(plain["OMPI_MCA_btl"] == "tcp,self")
        #expect(plain["PODGAP_KNOBS"] == nil, "no knob turned, none said")
        let slots = try environment(Knobs(slots: 2))
        #expect(slots["OMPI_MCA_btl"] == "self,vader,tcp")
        #expect(slots["PODGAP_TRANSPORT_NOTE"]?.contains("vader (shared memory) between ranks of one pod") == true)
        #expect(slots["PODGAP_KNOBS"] == "slots=2")
        // What the ranks read back is what was set.
        #expect(Knobs(variable: try #require(slots["PODGAP_KNOBS"])) == Knobs(slots: 2))
    }

    @Test func cpuLimitIsTheQuotaAndTheRecordedKnob() throws {
        let rendered = try config(cpus: nil, knobs: Knobs(cpuLimit: 0.5)).render(base: Self.base)
        let cpu = try #require(((rendered["linux"] as? [String: Any])?["resources"] as? [String: Any])?["cpu"] as? [String: Any])
        #expect(cpu["quota"] as? Int == 50_000)
        #expect(cpu["period"] as? Int == 100_000)
        #expect(try environment(Knobs(cpuLimit: 0.5))["PODGAP_KNOBS"] == "cpu-limit=0.5")
    }

    @Test func unconfinedSeccompRendersNoFilterAndSaysUnconfined() throws {
        let confined = try #require(try config(knobs: Knobs(seccomp: .default)).render(base: Self.base)["linux"] as? [String: Any])
        #expect(confined["seccomp"] != nil)
        let open = try #require(try config(knobs: Knobs(seccomp: .unconfined)).render(base: Self.base)["linux"] as? [String: Any])
        #expect(open["seccomp"] == nil)
        #expect(try environment(Knobs(seccomp: .unconfined))["PODGAP_CONTAINER_SECCOMP"] == "unconfined")
        #expect(try environment(Knobs())["PODGAP_CONTAINER_SECCOMP"] == Self.profile.name)
    }
}
