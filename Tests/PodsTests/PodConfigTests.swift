import Foundation
import Testing
@testable import Pods
import RDMA

@Suite struct PodConfigTests {
    /// The shape umoci writes into a bundle's config.json (trimmed).
    static let base: [String: Any] = [
        "ociVersion": "1.0.0",
        "process": ["terminal": true, "args": ["/bin/sh"], "env": ["PATH=/usr/bin", "TERM=xterm"], "cwd": "/"],
        "root": ["path": "rootfs"],
        "mounts": [["destination": "/proc", "type": "proc", "source": "proc"]],
        "linux": ["namespaces": [["type": "network"]], "resources": ["devices": [["allow": false, "access": "rwm"]]]],
    ]

    func config(cpus: Double? = 1.5, memory: Int64? = 2 << 30) -> PodConfig {
        PodConfig(pod: "j-p1", job: "j", network: .overlay, netnsPath: "/var/run/netns/j-p1", rootfs: "/b/rootfs",
                  results: "/r", hosts: "/run/podgap/j/etc/hosts", mpiFolder: "/run/podgap/j/etc/mpi", cpus: cpus,
                  cpuset: "0", memoryBytes: memory, runtimeVersion: "1.1.5", cgroupsPath: "/podgap-j-p1")
    }

    @Test func joinsThePodNamespaceWithItsOwnIPCPIDUTSAndMount() throws {
        let rendered = config().render(base: Self.base)
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
        let linux = try #require(config().render(base: Self.base)["linux"] as? [String: Any])
        #expect(linux["cgroupsPath"] as? String == "/podgap-j-p1")
        let resources = try #require(linux["resources"] as? [String: Any])
        let cpu = try #require(resources["cpu"] as? [String: Any])
        // 1.5 cores = 150 ms of CPU time per 100 ms period.
        #expect(cpu["quota"] as? Int == 150_000)
        #expect(cpu["period"] as? Int == 100_000)
        #expect(cpu["cpus"] as? String == "0")
        #expect((resources["memory"] as? [String: Any])?["limit"] as? Int64 == 2_147_483_648)
        #expect(resources["devices"] != nil, "the image's device rules are kept")
        let unlimited = try #require(config(cpus: nil, memory: nil).render(base: Self.base)["linux"] as? [String: Any])
        let none = try #require(unlimited["resources"] as? [String: Any])
        #expect((none["cpu"] as? [String: Any])?["quota"] == nil)
        #expect(none["memory"] == nil)
    }

    @Test func isUnprivilegedWithSeccompAndDefaultCapabilities() throws {
        let rendered = config().render(base: Self.base)
        let process = try #require(rendered["process"] as? [String: Any])
        #expect(process["terminal"] as? Bool == false)
        #expect(process["noNewPrivileges"] as? Bool == true)
        let bounding = try #require((process["capabilities"] as? [String: [String]])?["bounding"])
        #expect(!bounding.contains("CAP_SYS_ADMIN"))
        #expect(!bounding.contains("CAP_NET_ADMIN"))
        #expect(bounding.contains("CAP_NET_RAW"))
        let seccomp = try #require((rendered["linux"] as? [String: Any])?["seccomp"] as? [String: Any])
        let refused = try #require((seccomp["syscalls"] as? [[String: Any]])?.first?["names"] as? [String])
        #expect(refused.contains("mount") && refused.contains("kexec_load") && refused.contains("setns"))
    }

    @Test func mountsResultsHostsAndMPIFilesAndSetsTheOperatorEnvironment() throws {
        let rendered = config().render(base: Self.base)
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
        let plain = config().render(base: Self.base)
        #expect(((plain["linux"] as? [String: Any])?["devices"] as? [[String: Any]] ?? []).isEmpty)
    }
}
