import Foundation

/// Edits to a container's OCI runtime config, in the Container Device Interface's terms (a CDI
/// spec's `containerEdits`): environment, device nodes, mounts and hooks. `pods up --gpus`
/// applies them from CDI specs; `pods up --rdma` expresses its device nodes and mounts as them.
public struct ContainerEdits: Codable, Equatable, Sendable {
    public var env: [String]
    public var deviceNodes: [DeviceNode]
    public var mounts: [Mount]
    public var hooks: [Hook]

    public struct DeviceNode: Codable, Equatable, Sendable {
        /// Path in the container; `hostPath` (default: the same) on the host.
        public var path: String
        public var hostPath: String?
        /// "c" or "b"; with `major` and `minor` read from the host node when the spec leaves them out.
        public var type: String?
        public var major: Int?
        public var minor: Int?
        public var fileMode: Int?
        /// cgroup access, "rwm" when absent.
        public var permissions: String?
        public var uid: Int?
        public var gid: Int?

        public init(path: String, hostPath: String? = nil, type: String? = nil, major: Int? = nil, minor: Int? = nil,
                    fileMode: Int? = nil, permissions: String? = nil, uid: Int? = nil, gid: Int? = nil) {
            self.path = path; self.hostPath = hostPath; self.type = type; self.major = major; self.minor = minor
            self.fileMode = fileMode; self.permissions = permissions; self.uid = uid; self.gid = gid
        }
    }

    public struct Mount: Codable, Equatable, Sendable {
        public var hostPath: String
        public var containerPath: String
        public var type: String?
        public var options: [String]?

        public init(hostPath: String, containerPath: String, type: String? = nil, options: [String]? = nil) {
            self.hostPath = hostPath; self.containerPath = containerPath; self.type = type; self.options = options
        }
    }

    public struct Hook: Codable, Equatable, Sendable {
        /// The OCI hook it becomes: prestart, createRuntime, createContainer, startContainer, poststart, poststop.
        public var hookName: String
        public var path: String
        public var args: [String]?
        public var env: [String]?
        public var timeout: Int?

        public init(hookName: String, path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
            self.hookName = hookName; self.path = path; self.args = args; self.env = env; self.timeout = timeout
        }
    }

    /// The hook names the OCI runtime spec knows.
    public static let hookNames: Set<String> = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]

    public init(env: [String] = [], deviceNodes: [DeviceNode] = [], mounts: [Mount] = [], hooks: [Hook] = []) {
        self.env = env; self.deviceNodes = deviceNodes; self.mounts = mounts; self.hooks = hooks
    }

    /// Every field may be absent in a CDI spec.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        env = try container.decodeIfPresent([String].self, forKey: .env) ?? []
        deviceNodes = try container.decodeIfPresent([DeviceNode].self, forKey: .deviceNodes) ?? []
        mounts = try container.decodeIfPresent([Mount].self, forKey: .mounts) ?? []
        hooks = try container.decodeIfPresent([Hook].self, forKey: .hooks) ?? []
    }

    public var isEmpty: Bool { env.isEmpty && deviceNodes.isEmpty && mounts.isEmpty && hooks.isEmpty }

    /// These edits followed by `other`'s.
    public func adding(_ other: ContainerEdits) -> ContainerEdits {
        ContainerEdits(env: env + other.env, deviceNodes: deviceNodes + other.deviceNodes, mounts: mounts + other.mounts,
                       hooks: hooks + other.hooks)
    }

    /// The device nodes with their type and numbers filled in from the host's nodes where the
    /// spec leaves them out, as CDI runtimes do; refuses a node that is not a device on the host.
    public func resolvingDevices(stat lookup: (String) -> (type: String, major: Int, minor: Int)? = ContainerEdits.hostDevice) throws -> ContainerEdits {
        var resolved = self
        resolved.deviceNodes = try deviceNodes.map { node in
            guard node.type == nil || node.major == nil || node.minor == nil else { return node }
            let host = node.hostPath ?? node.path
            guard let found = lookup(host) else {
                throw PodsError.badInput("\(host) is not a device node on this host, though a CDI spec names it: regenerate the spec (nvidia-ctk cdi generate)")
            }
            var filled = node
            filled.type = node.type ?? found.type
            filled.major = node.major ?? found.major
            filled.minor = node.minor ?? found.minor
            return filled
        }
        return resolved
    }

    /// The type and numbers of the device node at `path`, nil when it is none.
    public static func hostDevice(_ path: String) -> (type: String, major: Int, minor: Int)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFCHR || kind == S_IFBLK else { return nil }
        // glibc's gnu_dev_major/minor encoding of dev_t.
        let device = UInt64(info.st_rdev)
        let major = Int(((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff))
        let minor = Int((device & 0xff) | ((device >> 12) & ~0xff))
        return (kind == S_IFCHR ? "c" : "b", major, minor)
    }

    /// Applies the edits to a runc config held as JSONSerialization objects: env entries of the
    /// same name replaced; device nodes in `linux.devices` and allowed in the device cgroup (an
    /// entry for the same path or numbers replaced, the deny-all rule kept first); mounts
    /// appended (same destination replaced); hooks appended to their OCI lists. Device nodes
    /// must be resolved (`resolvingDevices`).
    public func apply(to root: inout [String: Any]) throws {
        var process = root["process"] as? [String: Any] ?? [:]
        let names = Set(env.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0 })
        process["env"] = (process["env"] as? [String] ?? []).filter { !names.contains($0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0) } + env
        root["process"] = process

        var linux = root["linux"] as? [String: Any] ?? [:]
        var devices: [[String: Any]] = []
        var rules: [[String: Any]] = []
        for node in deviceNodes {
            guard let type = node.type, let major = node.major, let minor = node.minor else {
                throw PodsError.failed("device node \(node.path) has no type and numbers: resolve it first")
            }
            var device: [String: Any] = ["path": node.path, "type": type, "major": major, "minor": minor]
            device["fileMode"] = node.fileMode ?? 0o666
            device["uid"] = node.uid ?? 0
            device["gid"] = node.gid ?? 0
            devices.append(device)
            rules.append(["allow": true, "type": type, "major": major, "minor": minor, "access": node.permissions ?? "rwm"])
        }
        let paths = Set(deviceNodes.map(\.path))
        linux["devices"] = (linux["devices"] as? [[String: Any]] ?? []).filter { !paths.contains($0["path"] as? String ?? "") } + devices
        var resources = linux["resources"] as? [String: Any] ?? [:]
        let numbers = Set(rules.map { "\($0["major"]!):\($0["minor"]!)" })
        resources["devices"] = (resources["devices"] as? [[String: Any]] ?? []).filter { rule in
            !numbers.contains("\(rule["major"] as? Int ?? -1):\(rule["minor"] as? Int ?? -1)")
        } + rules
        linux["resources"] = resources
        root["linux"] = linux

        let destinations = Set(mounts.map(\.containerPath))
        root["mounts"] = (root["mounts"] as? [[String: Any]] ?? []).filter { !destinations.contains($0["destination"] as? String ?? "") }
            + mounts.map { mount in
                ["destination": mount.containerPath, "source": mount.hostPath, "type": mount.type ?? "bind",
                 "options": mount.options ?? ["ro", "nosuid", "nodev", "bind"]] as [String: Any]
            }

        var hooks = root["hooks"] as? [String: Any] ?? [:]
        for hook in self.hooks {
            guard ContainerEdits.hookNames.contains(hook.hookName) else {
                throw PodsError.badInput("a CDI hook named '\(hook.hookName)' is none of \(ContainerEdits.hookNames.sorted().joined(separator: ", "))")
            }
            var entry: [String: Any] = ["path": hook.path]
            if let args = hook.args { entry["args"] = args }
            if let env = hook.env { entry["env"] = env }
            if let timeout = hook.timeout { entry["timeout"] = timeout }
            hooks[hook.hookName] = (hooks[hook.hookName] as? [[String: Any]] ?? []) + [entry]
        }
        if !hooks.isEmpty { root["hooks"] = hooks }
    }
}
