import Foundation
import Records
import Spawn

/// Brings a job's emulated nodes, networks and pods up, lists jobs, and takes them down.
public enum PodJob {
    /// The host's tools for a job, found (or refused) before anything is created.
    struct Tools {
        var runtime: Runtime
        var network: LinkCommands
        var cni: CNI?
        /// The runc bundle the pods run from, and the seccomp profile it carries; nil without containers.
        var bundle: String?
        var seccomp: SeccompProfile?
        /// The registry the nodes pull the image from (the `pull` knob), checked to be up.
        var registry: (registry: Registry, state: Registry.State)?

        init(for spec: JobSpec, store: Store, progress: (String) -> Void) throws {
            guard geteuid() == 0 else {
                throw PodsError.badInput("pods need root (namespaces, runc, cgroups): run podgap as root, e.g. with sudo")
            }
            runtime = try Runtime(spec.knobs.runtime)
            network = try LinkCommands()
            cni = spec.network.usesCNI ? try CNI() : nil
            if spec.userNamespace { try Tools.requireUserNamespaces() }
            if spec.containers, spec.knobs.pull != nil {
                // The nodes pull and unpack the image themselves, once their namespaces exist.
                _ = try Subprocess.require("skopeo", package: "skopeo")
                _ = try Subprocess.require("umoci", package: "umoci")
                let registry = Registry(store: store)
                self.registry = (registry, try registry.load())
            } else if spec.containers {
                let bundle = try Image.bundleOfRunningBinary(store: store, progress: progress)
                self.bundle = bundle
                seccomp = try SeccompProfile.load(bundle: bundle)
            }
        }

        /// `--userns` where the kernel refuses user namespaces (disabled, or none left) is
        /// something the machine lacks, found before anything is made.
        static func requireUserNamespaces() throws {
            let unshare = try Subprocess.require("unshare", package: "util-linux")
            let trial = try Subprocess.run(unshare, ["--user", "/bin/true"], check: false)
            guard trial.status == 0 else {
                let reason = trial.stderr.split(separator: "\n").last.map(String.init) ?? "exit \(trial.status)"
                throw PodsError.unavailable("--userns: this kernel does not let podgap make a user namespace (\(reason)); run without --userns")
            }
        }
    }

    /// Creates everything of `spec`; on any failure removes what it made and rethrows.
    /// `submitted`: when the job was asked for (a startup launch's clock), else now; the
    /// state's `phases` count from there.
    public static func up(_ spec: JobSpec, store: Store = Store(), rdma: PodRDMA? = nil, gpus: GPUInjection? = nil,
                          submitted: Date = Date(), progress: (String) -> Void = { _ in }) throws -> JobState {
        var clock = PhaseClock(start: submitted)
        let names = try JobNames(spec.name)
        let tools = try Tools(for: spec, store: store, progress: progress)
        if FileManager.default.fileExists(atPath: store.jobFolder(spec.name)) || !leftovers(names, store: store).isEmpty {
            throw PodsError.badInput("job '\(spec.name)' already exists: use another --name, or `podgap pods down --name \(spec.name)`")
        }
        let results = URL(fileURLWithPath: spec.results,
                          relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
        let resultsExisted = FileManager.default.fileExists(atPath: results)
        do {
            return try create(spec, names: names, tools: tools, results: results, store: store, rdma: rdma, gpus: gpus,
                              clock: &clock, progress: progress)
        } catch {
            _ = down(job: spec.name, store: store)
            // Results folders this call made and nothing wrote to go too (rmdir keeps a non-empty one).
            for pod in 0..<spec.podCount { rmdir("\(results)/\(names.pod(pod))") }
            if !resultsExisted { rmdir(results) }
            throw error
        }
    }

    private static func create(_ spec: JobSpec, names: JobNames, tools: Tools, results: String, store: Store, rdma: PodRDMA?,
                               gpus: GPUInjection?, clock: inout PhaseClock, progress: (String) -> Void) throws -> JobState {
        let runtime = tools.runtime, network = tools.network
        var bundle = tools.bundle, seccomp = tools.seccomp
        let fileManager = FileManager.default
        let folder = store.jobFolder(spec.name)
        try fileManager.createDirectory(atPath: folder + "/etc/mpi", withIntermediateDirectories: true)
        try fileManager.createDirectory(atPath: results, withIntermediateDirectories: true)

        // Pods fill the nodes in order: node 0 gets pods 0 ..< podsPerNode, and so on.
        let placement = (0..<spec.podCount).map { (pod: names.pod($0), netns: names.podNetns($0), node: $0 / spec.podsPerNode) }
        let nodeNetns = (0..<spec.nodes).map(names.nodeNetns)
        var namespaces = [names.underlay, names.launcher] + nodeNetns
        let userNamespace = spec.userNamespace ? UserNamespace.standard : nil
        if spec.network.usesCNI && userNamespace == nil { namespaces += placement.map(\.netns) }
        progress("namespaces: \(namespaces.count); underlay for \(spec.nodes) node(s)")
        try network.addNamespaces(namespaces)
        if let userNamespace {
            // Each pod's network namespace is owned by its user namespace, made together.
            try fileManager.createDirectory(atPath: folder + "/userns", withIntermediateDirectories: true)
            for pod in placement {
                try userNamespace.create(pin: "\(folder)/userns/\(pod.pod)", netns: pod.netns, ip: network.ip)
            }
        }
        // The `mtu` knob sets the underlay's; the pods' follows it (the overlay 50 bytes less).
        let podNetwork = spec.network.withUnderlayMTU(spec.knobs.mtu)
        try network.wire(names, nodes: spec.nodes, network: podNetwork)
        clock.end(.submit)

        // Each node's image: pulled from the registry into its store and unpacked into the job's state.
        var pulls: [PulledImage]?
        if let (registry, registryState) = tools.registry, let policy = spec.knobs.pull {
            progress("image pull (\(policy.rawValue)) from \(registry.endpoint) on \(spec.nodes) node(s)")
            let pull = ImagePull(registry: registry, state: registryState, policy: policy, tag: Image.tag, network: network)
            let pulled = try concurrently(spec.nodes) { node in
                try pull.run(node: node, netns: nodeNetns[node], link: names.registryLink(node), bundle: "\(folder)/nodes/n\(node)/bundle")
            }
            pulls = pulled
            // Nodes pull and unpack side by side: the slowest pull is the pull phase, the rest of the stage the unpack.
            clock.end(.pulled, after: pulled.map(\.pullSeconds).max() ?? 0)
            clock.end(.unpacked)
            bundle = pulled.first?.bundle
            seccomp = try pulled.first.map { try SeccompProfile.load(bundle: $0.bundle) }
        }

        var pods: [JobState.Pod] = []
        var launcherAddress = LinkCommands.launcherUnderlayAddress
        if let cni = tools.cni {
            try fileManager.createDirectory(atPath: folder + "/cni", withIntermediateDirectories: true)
            var configs: [[String: Any]] = []
            for node in 0..<spec.nodes {
                let config = CNI.bridgeConfig(job: spec.name, network: podNetwork, node: node, dataDir: "\(folder)/cni/n\(node)")
                try CNI.save(config, to: "\(folder)/cni/n\(node).conf")
                configs.append(config)
            }
            // The launcher is a pod-network endpoint on node 0, as the operator's launcher pod is.
            let attachments = placement + [(pod: names.launcher, netns: names.launcher, node: 0)]
            progress("CNI bridge ADD for \(attachments.count) namespace(s)")
            let addresses = try concurrently(attachments.count) { index in
                let attachment = attachments[index]
                return try cni.add(container: attachment.pod, netns: attachment.netns, node: nodeNetns[attachment.node],
                                   config: configs[attachment.node])
            }
            pods = placement.enumerated().map {
                .init(name: $1.pod, node: $1.node, address: addresses[$0], netns: $1.netns, results: "\(results)/\($1.pod)")
            }
            launcherAddress = addresses[placement.count]
            clock.end(.network)
        } else {
            // Pods in their nodes' namespaces answer on the nodes' underlay addresses.
            pods = placement.map {
                .init(name: $0.pod, node: $0.node, address: LinkCommands.nodeAddress($0.node), netns: nodeNetns[$0.node],
                      results: "\(results)/\($0.pod)")
            }
        }

        // The hosts mpirun starts orted on: the pods, or without containers the nodes themselves.
        var entries = spec.containers ? pods.map { (name: $0.name, address: $0.address) }
            : (0..<spec.nodes).map { (name: names.node($0), address: LinkCommands.nodeAddress($0)) }
        let hosts = entries.map(\.name)
        entries.append((name: "\(spec.name)-launcher", address: launcherAddress))
        try JobLauncher.hostsFile(entries).write(toFile: folder + "/etc/hosts", atomically: true, encoding: .utf8)
        try JobLauncher.hostfile(hosts: hosts, slots: spec.knobs.slots ?? 1).write(toFile: folder + "/etc/mpi/hostfile", atomically: true, encoding: .utf8)
        let agent = folder + "/etc/mpi/kubexec.sh"
        let script: String
        if spec.containers {
            script = JobLauncher.agentScript(runtime: runtime.shellCommand)
        } else {
            let nodes = (0..<spec.nodes).map { JobLauncher.Node(name: names.node($0), netns: nodeNetns[$0], cpus: spec.nodeCPUs?[$0]) }
            script = JobLauncher.agentScript(nodes: nodes, nsenter: network.nsenter,
                                             taskset: spec.nodeCPUs == nil ? nil : try Subprocess.require("taskset", package: "util-linux"))
        }
        try script.write(toFile: agent, atomically: true, encoding: .utf8)
        chmod(agent, 0o755)

        // Each pod its own results folder: none sees another's records or anything else of `results`.
        let owner = userNamespace?.hostID
        for pod in pods { try makeResultsFolder(pod.results, owner: owner) }

        if tools.cni == nil { clock.end(.network) }
        let version = runtime.version()
        let links = [names.underlayBridge] + (0..<spec.nodes).map(names.underlayPort) + (spec.network.usesCNI ? [] : [names.launcherPort])
        let state = JobState(spec: spec, pods: pods, nodes: (0..<spec.nodes).map(names.node), nodeNetns: nodeNetns,
                             underlayNetns: names.underlay, underlayLinks: links, launcherNetns: names.launcher,
                             launcherAddress: launcherAddress, bundle: bundle, runtimeVersion: version, results: results,
                             created: ISO8601DateFormatter().string(from: Date()), launchPID: nil, gpus: gpus, pulls: pulls)
        try state.save(store)

        if let bundle, let seccomp {
            let base = try PodConfig.readBase(bundle: bundle)
            progress("\(runtime.kind.rawValue) create and start: \(pods.count) pod(s)")
            _ = try concurrently(pods.count) { index in
                let pod = pods[index]
                let podFolder = "\(folder)/pods/\(pod.name)"
                var config = PodConfig(pod: pod.name, job: spec.name, network: spec.network, netnsPath: LinkCommands.path(pod.netns),
                                       rootfs: (pulls?[pod.node].bundle ?? bundle) + "/rootfs", results: pod.results, hosts: folder + "/etc/hosts",
                                       mpiFolder: folder + "/etc/mpi", knobs: spec.knobs,
                                       cpuset: spec.podCPUs?[index] ?? spec.nodeCPUs?[pod.node] ?? spec.cpuset,
                                       memoryBytes: spec.memoryBytes, runtimeVersion: version,
                                       cgroupsPath: names.cgroup(pod.name), seccomp: seccomp, pidsLimit: spec.pidsLimit,
                                       userNamespace: userNamespace,
                                       userNamespacePin: userNamespace.map { _ in "\(folder)/userns/\(pod.name)" })
                config.rdma = rdma
                config.gpus = gpus?.edits
                config.hugePages = spec.hugePages
                try config.write(base: base, to: podFolder)
                try runtime.create(id: pod.name, bundle: podFolder, log: podFolder + "/log")
                return pod.name
            }
            clock.end(.created)
            _ = try concurrently(pods.count) { index in
                try runtime.start(id: pods[index].name, log: "\(folder)/pods/\(pods[index].name)/log")
            }
            clock.end(.started)
        }
        var timed = state
        timed.phases = clock.phases
        try timed.save(store)
        return timed
    }

    /// Makes a pod's results folder (or keeps the one a former job left), which must be a folder
    /// of its own, not a link; owned by `owner` where the pods' root is that host user (--userns).
    static func makeResultsFolder(_ path: String, owner: Int?) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw PodsError.failed("cannot make the pod results folder \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw PodsError.badInput("\(path) exists and is not a folder: each pod gets its own results folder there; move it away or use another --results")
        }
        if let owner, lchown(path, uid_t(owner), gid_t(owner)) != 0 {
            throw PodsError.failed("cannot give \(path) to the pods' user \(owner): \(String(cString: strerror(errno)))")
        }
    }

    /// Runs `body` for 0 ..< count on several threads (CNI plugins and runc spend most of their
    /// time waiting on the kernel); the first error wins.
    static func concurrently<T>(_ count: Int, _ body: @escaping (Int) throws -> T) throws -> [T] {
        let results = ResultBox<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let result = Result { try body(index) }
            results.set(index, result)
        }
        return try results.values()
    }

    /// Everything of `job` that still exists: containers (of either runtime), namespaces, cgroups, the job folder.
    public static func leftovers(_ names: JobNames, store: Store = Store()) -> [String] {
        var found = Runtime.installed().flatMap { $0.list() }.filter(names.ownsPod).map { "container \($0)" }
        found += LinkCommands.namespaces(where: names.ownsNamespace).map { "netns \($0)" }
        found += cgroupFolders(names).map { "cgroup \($0)" }
        if FileManager.default.fileExists(atPath: store.jobFolder(names.job)) { found.append("folder \(store.jobFolder(names.job))") }
        return found
    }

    /// Removes everything `job` made; safe to repeat, and works without the state file (after a
    /// crash). Returns what it removed. The results folder stays: it holds the records.
    @discardableResult
    public static func down(job: String, store: Store = Store()) -> [String] {
        guard let names = try? JobNames(job) else { return [] }
        var removed: [String] = []
        if let state = try? JobState.load(store, job: job), let pid = state.launchPID, pid > 1 {
            // A launch still running (or whose launcher crashed): end mpirun's whole session.
            if !Session.members(of: pid).isEmpty {
                Session.signal(session: pid, SIGKILL)
                removed.append("launch session \(pid)")
            }
        }
        // The job's runtime is in its state, which a crash may have lost: ask every runtime.
        for runtime in Runtime.installed() {
            for id in runtime.list().filter(names.ownsPod) {
                runtime.delete(id)
                removed.append("container \(id)")
            }
        }
        if let network = try? LinkCommands() {
            // Pods and the launcher first, then nodes, then the underlay that joins them.
            let namespaces = LinkCommands.namespaces(where: names.ownsNamespace).sorted { rank($0, names) < rank($1, names) }
            for netns in namespaces {
                network.deleteNamespace(netns)
                removed.append("netns \(netns)")
            }
        }
        for folder in cgroupFolders(names) where rmdir(folder) == 0 { removed.append("cgroup \(folder)") }
        // The nodes' links to the registry went with their namespaces; their addresses go too.
        Registry(store: store).releaseLeases { $0.hasPrefix(names.stem + "-r") }
        let folder = store.jobFolder(job)
        // Pinned user namespaces (--userns) are mounts: unpinned before their folder can go.
        for pin in (try? FileManager.default.contentsOfDirectory(atPath: folder + "/userns")) ?? [] {
            UserNamespace.release(pin: "\(folder)/userns/\(pin)")
            removed.append("user namespace \(pin)")
        }
        if FileManager.default.fileExists(atPath: folder) {
            try? FileManager.default.removeItem(atPath: folder)
            removed.append("folder \(folder)")
        }
        return removed
    }

    private static func rank(_ netns: String, _ names: JobNames) -> Int {
        if netns == names.underlay { return 2 }
        if netns.dropFirst(names.stem.count + 1).hasPrefix("n") { return 1 }
        return 0
    }

    /// Per-pod cgroup folders runc left behind (it removes them itself on delete).
    static func cgroupFolders(_ names: JobNames) -> [String] {
        let root = "/sys/fs/cgroup"
        let controllers = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map { "\(root)/\($0)" } + [root]
        var folders: [String] = []
        for controller in controllers {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: controller)) ?? []
            where entry.hasPrefix("podgap-") && names.ownsPod(String(entry.dropFirst("podgap-".count))) {
                folders.append("\(controller)/\(entry)")
            }
        }
        return folders
    }

    /// Host pids of every process in a pod's cgroup (`JobNames.cgroup`; its init included),
    /// from whichever hierarchy holds it (a v1 controller or the v2 root).
    static func processes(inCgroup cgroup: String) -> [pid_t] {
        let root = "/sys/fs/cgroup"
        let hierarchies = ["pids", "cpu", "memory", "unified"].map { "\(root)/\($0)" } + [root]
        for hierarchy in hierarchies {
            if let text = try? String(contentsOfFile: "\(hierarchy)\(cgroup)/cgroup.procs", encoding: .utf8) {
                return text.split(separator: "\n").compactMap { pid_t($0) }
            }
        }
        return []
    }

    /// True when `pid` has ended but is not yet reaped (or is gone altogether).
    static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    /// Jobs with a state folder.
    public static func jobs(store: Store = Store()) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.runRoot)) ?? []).filter {
            (try? JobNames($0)) != nil
        }.sorted()
    }
}

/// Marks the end of each phase of `pods up` against one start, so that the phases add up to
/// the time since the start.
struct PhaseClock {
    private var last: Date
    private(set) var phases: [JobState.PhaseTime] = []

    init(start: Date) { last = start }

    /// Ends `phase` now; with `after`, it ends that many seconds after the last phase did instead
    /// (a phase measured inside a stage, the rest of which the next phase takes).
    mutating func end(_ phase: StartupPhase, after seconds: Double? = nil) {
        let now = seconds.map { last.addingTimeInterval($0) } ?? Date()
        phases.append(.init(phase: phase, seconds: now.timeIntervalSince(last)))
        last = now
    }
}

/// Results of concurrent work, one slot per index, guarded by a lock.
private final class ResultBox<T>: @unchecked Sendable {
    private var slots: [Result<T, Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<T, Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func values() throws -> [T] {
        try slots.map { try $0!.get() }
    }
}
