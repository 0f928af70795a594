import Foundation
import RDMADevices

/// What an OCI runtime config (runc's config.json) needs so that a container can use the host's
/// RDMA devices, as the Kubernetes RDMA shared device plugin arranges it: the uverbs and rdma_cm
/// character devices created and allowed in the device cgroup, the host's verbs providers
/// visible, CAP_IPC_LOCK (registering memory pins it), and no memlock limit.
public struct PodRDMA: Codable, Equatable, Sendable {
    /// The device nodes (allowed in the device cgroup) and the provider folders' mounts.
    public var edits: ContainerEdits
    /// Added to every set in `process.capabilities`.
    public var capabilities: [String]
    /// Entries for `process.rlimits` (replacing any of the same type).
    public var rlimits: [OCIRlimit]

    public struct OCIRlimit: Codable, Equatable, Sendable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64
    }

    /// The message behind `pods up --rdma`'s refusal on a machine without devices.
    public static let podsNeed = "pods up --rdma needs the host's RDMA devices (/dev/infiniband/uverbsN and rdma_cm) to pass into the pods; run without --rdma here"

    /// Refuses, before anything is created, when there is nothing to pass through.
    public static func requireDevices(_ devices: [Device], connectionManager: DeviceNode?,
                                      deviceFolder: String = "/dev/infiniband") throws {
        if !FileManager.default.fileExists(atPath: deviceFolder) {
            throw RDMAError.noDevice("\(deviceFolder) is absent; \(podsNeed)")
        }
        if !devices.contains(where: { $0.node != nil }) {
            throw RDMAError.noDevice("no uverbs device node under \(deviceFolder) belongs to a device libibverbs lists; \(podsNeed)")
        }
        if connectionManager == nil {
            throw RDMAError.noDevice("\(deviceFolder)/rdma_cm is absent (load rdma_ucm); \(podsNeed)")
        }
    }

    /// What this host's devices need, for `pods up --rdma`, from what RDMA's discovery found (the
    /// caller discovers, so Pods links no verbs): refuses (RDMAError.noDevice, "no RDMA device:
    /// /dev/infiniband is absent; pods up --rdma needs ...") before anything is created, and builds
    /// the additions with the host's provider folders mounted.
    public static func host(devices: [Device], connectionManager: DeviceNode?,
                            deviceFolder: String = "/dev/infiniband") throws -> PodRDMA {
        try requireDevices(devices, connectionManager: connectionManager, deviceFolder: deviceFolder)
        return try PodRDMA(devices: devices, connectionManager: connectionManager!, providerFolders: hostProviderFolders())
    }

    /// The additions for these devices. Pure: the caller passes what discovery found and which host
    /// folders hold the verbs providers (`providerFolders`, mounted read-only so the container's
    /// libibverbs loads the same drivers as the host's kernel expects).
    public init(devices: [Device], connectionManager: DeviceNode, providerFolders: [String] = []) throws {
        let nodes = devices.compactMap(\.node) + [connectionManager]
        guard nodes.count > 1 else {
            throw RDMAError.noDevice("none of the devices has a uverbs node; \(PodRDMA.podsNeed)")
        }
        edits = ContainerEdits(
            deviceNodes: nodes.map {
                .init(path: $0.path, type: "c", major: $0.major, minor: $0.minor, fileMode: 0o666, permissions: "rwm", uid: 0, gid: 0)
            },
            mounts: providerFolders.map {
                .init(hostPath: $0, containerPath: $0, type: "bind", options: ["rbind", "ro", "nosuid", "nodev"])
            })
        self.capabilities = ["CAP_IPC_LOCK"]
        self.rlimits = [OCIRlimit(type: "RLIMIT_MEMLOCK", hard: UInt64.max, soft: UInt64.max)]
    }

    /// Host folders that hold libibverbs' provider configuration and drivers, where they exist.
    public static func hostProviderFolders(candidates: [String] = ["/etc/libibverbs.d", "/usr/lib/x86_64-linux-gnu/libibverbs",
                                                                   "/usr/lib/aarch64-linux-gnu/libibverbs", "/usr/lib64/libibverbs"]) -> [String] {
        candidates.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Adds these to a runc config.json (as JSON bytes) and returns the new bytes; see `apply(to:)`.
    public func merged(into config: Data) throws -> Data {
        guard var root = try JSONSerialization.jsonObject(with: config) as? [String: Any] else {
            throw PodsError.failed("an OCI config must be a JSON object")
        }
        try apply(to: &root)
        return try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// Adds these to a runc config held as JSONSerialization objects (as `PodConfig.render` makes
    /// it; call this after rendering, which sets the capabilities): the edits applied (see
    /// `ContainerEdits.apply`), the capability added to every capability set, rlimits of the
    /// same type replaced.
    public func apply(to root: inout [String: Any]) throws {
        try edits.apply(to: &root)
        var process = root["process"] as? [String: Any] ?? [:]
        var sets = process["capabilities"] as? [String: Any] ?? [:]
        for name in ["bounding", "effective", "inheritable", "permitted", "ambient"] {
            var set = sets[name] as? [String] ?? []
            for capability in capabilities where !set.contains(capability) { set.append(capability) }
            sets[name] = set
        }
        process["capabilities"] = sets
        let types = Set(rlimits.map(\.type))
        let limits = try rlimits.map { try JSONSerialization.jsonObject(with: JSONEncoder().encode($0)) as! [String: Any] }
        process["rlimits"] = (process["rlimits"] as? [[String: Any]] ?? []).filter { !types.contains($0["type"] as? String ?? "") } + limits
        root["process"] = process
    }
}
