import Foundation
import Spawn

/// An image registry on the emulated cluster: Debian's `docker-registry` (the CNCF distribution
/// registry) in a network namespace of its own, serving plain HTTP on 198.18.128.1:5000 (the
/// private underlay, 198.18.0.0/15), its storage in a results folder. Clients (the pusher, each
/// node that pulls) get a veth onto the registry's bridge and an address leased from
/// 198.18.128.0/17 for as long as they talk to it. One registry per run root (`Store.runRoot`):
/// its namespace is named from a hash of the run root, so tests with a run root of their own
/// never meet the user's.
public struct Registry: Sendable {
    public static let address = "198.18.128.1"
    public static let port = 5000
    /// The registry's network: far from the nodes' underlay (198.18.0.0/24) and the pods' subnets (198.19.0.0/16).
    static let prefixLength = 17
    static let leaseRange = 10...32_000
    /// The bridge inside the registry's namespace, and each client's interface inside its own.
    static let bridge = "reg"
    /// Locally administered, from the registry's address (198.18.128.1).
    static let bridgeMAC = "02:00:c6:12:80:01"
    static let clientInterface = "reg0"
    /// The image's name in the registry.
    public static let repository = "podgap"
    /// Longest a registry may take to answer `/v2/` after its start.
    static let startTimeout = 15.0

    public var endpoint: String { "\(Registry.address):\(Registry.port)" }

    /// What `registry up` made, saved as `<run root>/registry.d/state.json` for push, pull and down.
    public struct State: Codable, Sendable, Equatable {
        public var pid: Int32
        public var netns: String
        /// The folder given to `registry up --dir`: `storage/` (the registry's blobs) and `nodes/` (the nodes' image stores).
        public var dir: String
        public var started: String
        /// Manifest digest pushed per tag, so that a pull can check it got what was pushed.
        public var pushed: [String: String] = [:]

        public var storage: String { dir + "/storage" }
        /// Node `index`'s image store (`NodeStore`): the OCI layout it pulled (a kubelet's image
        /// cache) and its snapshots of the image unpacked (a snapshotter's). `group`
        /// names nodes of their own (a suite environment's, `JobSpec.nodeStores`); nil, the nodes
        /// every job shares.
        public func nodeStore(_ index: Int, group: String? = nil) -> String {
            group.map { "\(dir)/nodes/\($0)/n\(index)" } ?? "\(dir)/nodes/n\(index)"
        }
    }

    public let store: Store
    /// The registry's namespace: `pgr` and a hash of the run root.
    public let netns: String

    public init(store: Store = Store()) {
        self.store = store
        netns = "pgr" + JobNames.hash(store.runRoot)
    }

    public var folder: String { store.runRoot + "/registry.d" }
    var statePath: String { folder + "/state.json" }
    var configPath: String { folder + "/config.yml" }
    var logPath: String { folder + "/registry.log" }
    var leases: String { folder + "/leases" }
    /// The pusher's namespace (and its link's name), made for one push.
    var pusherNetns: String { netns + "-c" }

    /// `http://host:port/v2/`'s registry image reference for `tag`.
    public func reference(_ tag: String) -> String { "docker://\(endpoint)/\(Registry.repository):\(tag)" }

    // MARK: up and down

    /// Starts the registry with its storage under `dir`; on any failure removes what it made.
    @discardableResult
    public func up(dir: String) throws -> State {
        guard geteuid() == 0 else { throw PodsError.badInput("registry up makes a network namespace: run podgap as root") }
        let binary = try Subprocess.require("docker-registry", package: "docker-registry")
        let network = try LinkCommands()
        let absolute = URL(fileURLWithPath: dir, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
        if let running = try? load() {
            throw PodsError.badInput("a registry is already up (pid \(running.pid), storage \(running.storage)): `podgap registry down` first")
        }
        if !leftovers().isEmpty { down() }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: absolute + "/storage", withIntermediateDirectories: true)
            try Registry.config(storage: absolute + "/storage").write(toFile: configPath, atomically: true, encoding: .utf8)
            try network.batch(nil, ["netns add \(netns)"])
            // The bridge's MAC is set, not left to follow its ports': a bridge takes the lowest of
            // its ports' addresses, so a client attaching changed it under the clients already
            // talking to it, whose next connection then went to the old MAC and was dropped
            // (a pull's "dial tcp ... i/o timeout" after its manifest had been read).
            try network.batch(netns, ["link set lo up", "link add \(Registry.bridge) address \(Registry.bridgeMAC) type bridge",
                                      "addr add \(Registry.address)/\(Registry.prefixLength) dev \(Registry.bridge)",
                                      "link set \(Registry.bridge) up"])
            Registry.closeOnExec()
            let session = try Session([network.nsenter, "--net=\(LinkCommands.path(netns))", binary, "serve", configPath],
                                      environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], output: .log(logPath))
            let state = State(pid: session.pid, netns: netns, dir: absolute, started: ISO8601DateFormatter().string(from: Date()))
            try save(state)
            try waitUntilAnswering(pid: session.pid, nsenter: network.nsenter)
            return state
        } catch {
            down()
            throw error
        }
    }

    /// Marks every descriptor above stderr close-on-exec, so that the registry, which outlives
    /// this process, holds none of its pipes: a caller waiting for this process's output (a
    /// shell's `$(...)`, Foundation's Process) would otherwise wait for the registry too.
    static func closeOnExec() {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            guard let descriptor = Int32(entry), descriptor > 2 else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// The registry's configuration: filesystem storage, plain HTTP on the registry's address,
    /// deletes allowed (so a test can remove an image), warnings only in its log.
    static func config(storage: String) -> String {
        """
        version: 0.1
        log:
          level: warn
        storage:
          filesystem:
            rootdirectory: \(storage)
          delete:
            enabled: true
        http:
          addr: \(address):\(port)

        """
    }

    /// Polls `GET /v2/` from inside the registry's namespace until it answers 200.
    func waitUntilAnswering(pid: Int32, nsenter: String) throws {
        let deadline = Date().addingTimeInterval(Registry.startTimeout)
        // bash's /dev/tcp: no HTTP client to install for one request on a private address.
        let request = "exec 3<>/dev/tcp/\(Registry.address)/\(Registry.port) && printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3"
        while Date() < deadline {
            // Alive, not "is docker-registry": until the child has exec'd, its cmdline is podgap's.
            guard kill(pid, 0) == 0, !PodJob.isZombie(pid) else {
                throw PodsError.failed("registry \(endpoint): docker-registry ended at start: \(Child.lastLine(of: logPath))")
            }
            let answer = try? Subprocess.run(nsenter, ["--net=\(LinkCommands.path(netns))", "/bin/bash", "-c", request], check: false, timeout: 5)
            if answer?.stdout.contains(" 200") == true { return }
            usleep(100_000)
        }
        throw PodsError.failed("registry \(endpoint): /v2/ did not answer within \(Int(Registry.startTimeout)) s: \(Child.lastLine(of: logPath))")
    }

    /// The running registry's state; refuses a registry that is not up (no state, or its process gone).
    public func load() throws -> State {
        guard let data = FileManager.default.contents(atPath: statePath),
              let state = try? JSONDecoder().decode(State.self, from: data) else {
            throw PodsError.badInput("registry \(endpoint): no registry is up: start one with `podgap registry up`")
        }
        guard Registry.isRegistry(state.pid) else {
            throw PodsError.failed("registry \(endpoint): its process \(state.pid) is gone: `podgap registry down`, then `podgap registry up`")
        }
        return state
    }

    func save(_ state: State) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = statePath + ".new"
        try encoder.encode(state).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, statePath) == 0 else { throw PodsError.failed("cannot save \(statePath): \(String(cString: strerror(errno)))") }
    }

    /// True when `pid` is a live docker-registry (not a pid the kernel gave to another program since).
    static func isRegistry(_ pid: Int32) -> Bool {
        guard pid > 1, !PodJob.isZombie(pid),
              let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: command, as: UTF8.self).contains("docker-registry")
    }

    /// Stops the registry by its pid, removes its namespace (and with it every client's link),
    /// the leases, the nodes' image stores and the state; keeps the storage (it holds the pushed
    /// image). Safe to repeat. Returns what it removed.
    @discardableResult
    public func down() -> [String] {
        var removed: [String] = []
        let state = (try? Data(contentsOf: URL(fileURLWithPath: statePath))).flatMap { try? JSONDecoder().decode(State.self, from: $0) }
        if let pid = state?.pid, Registry.isRegistry(pid) {
            kill(pid, SIGTERM)
            if !Registry.waitForEnd(pid, seconds: 5) {
                kill(pid, SIGKILL)
                _ = Registry.waitForEnd(pid, seconds: 5)
            }
            removed.append("registry process \(pid)")
        }
        if let network = try? LinkCommands() {
            let namespaces = LinkCommands.namespaces(where: ownsNamespace)
            network.deleteNamespaces(namespaces)
            removed += namespaces.map { "netns \($0)" }
        }
        if let dir = state?.dir, FileManager.default.fileExists(atPath: dir + "/nodes") {
            // Snapshots that running pods use stay until those jobs' `pods down`.
            let kept = NodeStore.all(under: dir + "/nodes").flatMap { NodeStore(folder: $0, jobs: store).remove() }
            if kept.isEmpty { try? FileManager.default.removeItem(atPath: dir + "/nodes") }
            removed.append("node image stores \(dir)/nodes" + (kept.isEmpty ? "" : " but for \(kept.joined(separator: "; "))"))
        }
        if FileManager.default.fileExists(atPath: folder) {
            try? FileManager.default.removeItem(atPath: folder)
            removed.append("folder \(folder)")
        }
        return removed
    }

    /// Removes the image stores of the nodes `group` names (`JobSpec.nodeStores`), once no job of
    /// theirs runs; nothing where no registry was up (its `down` removed every store). Returns what it removed.
    @discardableResult
    public func removeNodeStores(group: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: statePath),
              let state = try? JSONDecoder().decode(State.self, from: data) else { return [] }
        let folder = "\(state.dir)/nodes/\(group)"
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        let kept = NodeStore.all(under: state.dir + "/nodes").filter { $0.hasPrefix(folder + "/") }.flatMap { NodeStore(folder: $0, jobs: store).remove() }
        if kept.isEmpty { try? FileManager.default.removeItem(atPath: folder) }
        return ["node image stores \(folder)" + (kept.isEmpty ? "" : " but for \(kept.joined(separator: "; "))")]
    }

    /// Waits for `pid` to end (reaping it where this process started it), at most `seconds`.
    static func waitForEnd(_ pid: Int32, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
            if !isRegistry(pid) { return true }
            usleep(50_000)
        } while Date() < deadline
        return !isRegistry(pid)
    }

    func ownsNamespace(_ name: String) -> Bool { name == netns || name == pusherNetns }

    /// What of the registry is still there: its process, namespaces, state folder.
    public func leftovers() -> [String] {
        var found = LinkCommands.namespaces(where: ownsNamespace).map { "netns \($0)" }
        if FileManager.default.fileExists(atPath: folder) { found.append("folder \(folder)") }
        return found
    }

    // MARK: clients

    /// Joins namespace `client` to the registry's bridge: `link` (its end inside the registry's
    /// namespace, a name unique there) and `reg0` inside `client`, with an address leased for
    /// the link. Returns the address.
    @discardableResult
    func attach(_ client: String, link: String, network: LinkCommands) throws -> String {
        let address = try lease(for: link)
        do {
            // The address may be a released client's: forget the registry's neighbour entry for it,
            // or replies go to the old veth's MAC until the entry ages out (~30 s: a pull's dial timeout).
            try network.batch(netns, ["neigh flush to \(address)",
                                      "link add \(link) type veth peer name \(Registry.clientInterface) netns \(client)",
                                      "link set \(link) master \(Registry.bridge) up"])
            try network.batch(client, ["link set lo up", "addr add \(address)/\(Registry.prefixLength) dev \(Registry.clientInterface)",
                                       "link set \(Registry.clientInterface) up"])
        } catch {
            detach(link: link, network: network)
            throw PodsError.failed("registry \(endpoint), phase connect: \(error)")
        }
        return address
    }

    /// Removes `link` (both ends of the veth) and frees its lease.
    func detach(link: String, network: LinkCommands) {
        _ = try? Subprocess.run(network.ip, ["-n", netns, "link", "delete", link], check: false)
        releaseLeases { $0 == link }
    }

    /// An address from 198.18.128.0/17 not leased to another link: a file per address, made with O_EXCL.
    func lease(for link: String) throws -> String {
        try FileManager.default.createDirectory(atPath: leases, withIntermediateDirectories: true)
        for number in Registry.leaseRange {
            let descriptor = open("\(leases)/\(number)", O_CREAT | O_EXCL | O_WRONLY, 0o644)
            guard descriptor >= 0 else { continue }
            _ = link.withCString { write(descriptor, $0, strlen($0)) }
            close(descriptor)
            return "198.18.\(128 + number / 256).\(number % 256)"
        }
        throw PodsError.failed("registry \(endpoint): every client address of 198.18.128.0/17 is leased; `podgap registry down` frees them")
    }

    /// Frees the leases of links `owned` claims (a job's nodes, once the job is down).
    public func releaseLeases(where owned: (String) -> Bool) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: leases)) ?? [] {
            let path = "\(leases)/\(name)"
            if let holder = try? String(contentsOfFile: path, encoding: .utf8), owned(holder) { unlink(path) }
        }
    }

    // MARK: push

    public struct Pushed: Sendable {
        public var reference: String
        public var digest: String
        public var seconds: Double
    }

    /// Copies the OCI layout at `layout` (image `source`) into the registry as `podgap:tag` with skopeo,
    /// from a namespace of its own on the registry's bridge, and records the manifest's digest.
    public func push(layout: String, tag source: String, as tag: String) throws -> Pushed {
        var state = try load()
        let skopeo = try Subprocess.require("skopeo", package: "skopeo")
        let network = try LinkCommands()
        let started = Date()
        try? FileManager.default.removeItem(atPath: LinkCommands.path(pusherNetns))
        try network.batch(nil, ["netns add \(pusherNetns)"])
        defer {
            detach(link: pusherNetns, network: network)
            network.deleteNamespaces([pusherNetns])
        }
        try attach(pusherNetns, link: pusherNetns, network: network)
        let digestFile = folder + "/push-digest"
        defer { unlink(digestFile) }
        do {
            try Subprocess.run(network.nsenter, ["--net=\(LinkCommands.path(pusherNetns))", skopeo,
                   "--command-timeout", "\(Int(ImagePull.defaultTimeout))s", "copy", "--quiet", "--dest-tls-verify=false",
                   "--digestfile", digestFile, "oci:\(layout):\(source)", reference(tag)], timeout: ImagePull.defaultTimeout + 5)
        } catch {
            throw PodsError.failed("registry \(endpoint), phase push: \(error)")
        }
        let digest = ((try? String(contentsOfFile: digestFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        state.pushed[tag] = digest
        try save(state)
        return Pushed(reference: reference(tag), digest: digest, seconds: Date().timeIntervalSince(started))
    }
}
