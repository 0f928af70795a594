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
        /// Every installed runtime's containers (a crashed job's runtime may be another) and the
        /// job's runtime's version, asked while the image is checked.
        let containers: Pending<[String]>
        let version: Pending<String>
        /// The registry the nodes pull the image from (the `pull` knob), checked to be up.
        var registry: (registry: Registry, state: Registry.State)?

        init(for spec: JobSpec, store: Store, progress: (String) -> Void) throws {
            guard geteuid() == 0 else {
                throw PodsError.badInput("pods need root (namespaces, runc, cgroups): run podgap as root, e.g. with sudo")
            }
            let runtime = try Runtime(spec.knobs.runtime)
            self.runtime = runtime
            containers = Pending { Runtime.installed().flatMap { $0.list() } }
            version = Pending { runtime.version() }
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
        var phases = StartupPhaseClock(start: submitted)
        var trace = TimingTrace("up", variable: TimingTrace.podsVariable)
        let names = try JobNames(spec.name)
        let tools = try Tools(for: spec, store: store, progress: progress)
        trace.mark("tools and image")
        if FileManager.default.fileExists(atPath: store.jobFolder(spec.name)) || !leftovers(names, containers: tools.containers.value, store: store).isEmpty {
            throw PodsError.badInput("job '\(spec.name)' already exists: use another --name, or `podgap pods down --name \(spec.name)`")
        }
        trace.mark("leftovers check (state folders)")
        let results = URL(fileURLWithPath: spec.results,
                          relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
        let resultsExisted = FileManager.default.fileExists(atPath: results)
        do {
            let state = try create(spec, names: names, tools: tools, results: results, store: store, rdma: rdma, gpus: gpus,
                                   trace: &trace, phases: &phases, progress: progress)
            trace.total()
            return state
        } catch {
            _ = down(job: spec.name, store: store)
            // Results folders this call made and nothing wrote to go too (rmdir keeps a non-empty one).
            for pod in 0..<spec.podCount { rmdir("\(results)/\(names.pod(pod))") }
            if !resultsExisted { rmdir(results) }
            throw error
        }
    }

    /// Makes the job in steps: its namespaces and the underlay's links (one `ip -batch`); under
    /// the `pull` knob each node's image from the registry; the files the pods mount; then, side
    /// by side, the network inside the namespaces (each namespace's batch, then the CNI ADDs) and
    /// each pod's config and `create` (a pod needs only its network namespace to exist, as a
    /// Kubernetes pod sandbox does before its CNI ADD); then /etc/hosts gets the addresses in
    /// place and every pod is started. `phases` measures the startup phases the records keep;
    /// `trace` prints each step's time for a developer (`TimingTrace`).
    private static func create(_ spec: JobSpec, names: JobNames, tools: Tools, results: String, store: Store, rdma: PodRDMA?,
                               gpus: GPUInjection?, trace: inout TimingTrace, phases: inout StartupPhaseClock,
                               progress: (String) -> Void) throws -> JobState {
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
        // The `mtu` knob sets the underlay's; the pods' follows it (the overlay 50 bytes less).
        let podNetwork = spec.network.withUnderlayMTU(spec.knobs.mtu)
        try network.makeNamespaces(namespaces, underlay: names, nodes: spec.nodes, network: podNetwork)
        trace.mark("namespaces and links (ip)")
        if let userNamespace {
            // Each pod's network namespace is owned by its user namespace, made together.
            try fileManager.createDirectory(atPath: folder + "/userns", withIntermediateDirectories: true)
            for pod in placement {
                try userNamespace.create(pin: "\(folder)/userns/\(pod.pod)", netns: pod.netns, ip: network.ip)
            }
            trace.mark("user namespaces")
        }
        phases.end(.submit)

        // Each node's image: pulled from the registry into its store and unpacked there (or found there).
        var pulls: [PulledImage]?
        if let (registry, registryState) = tools.registry, let policy = spec.knobs.pull {
            progress("image pull (\(policy.rawValue)) from \(registry.endpoint) on \(spec.nodes) node(s)")
            let pull = ImagePull(registry: registry, state: registryState, policy: policy, tag: Image.tag, network: network,
                                 job: spec.name, group: spec.nodeStores)
            let pulled = try Concurrently.map(spec.nodes) { node in
                try pull.run(node: node, netns: nodeNetns[node], link: names.registryLink(node))
            }
            pulls = pulled
            // Nodes pull and unpack side by side: the slowest pull is the pull phase, the rest of the stage the unpack.
            phases.end(.pulled, after: pulled.map(\.pullSeconds).max() ?? 0)
            phases.end(.unpacked)
            bundle = pulled.first?.bundle
            seccomp = try pulled.first.map { try SeccompProfile.load(bundle: $0.bundle) }
            trace.mark("image pull and unpack")
        }
        // With CNI each pod has a namespace of its own; on the host network, its node's.
        let podNetns = placement.map { spec.network.usesCNI ? $0.netns : nodeNetns[$0.node] }

        // The hosts mpirun starts orted on: the pods, or without containers the nodes themselves.
        let hosts = spec.containers ? placement.map(\.pod) : (0..<spec.nodes).map(names.node)
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
        // Mounted by the pods as a file: made now, its addresses written in place once known.
        let hostsPath = folder + "/etc/hosts"
        guard fileManager.createFile(atPath: hostsPath, contents: nil) else {
            throw PodsError.failed("cannot write \(hostsPath)")
        }

        // Each pod its own results folder: none sees another's records or anything else of `results`.
        let owner = userNamespace?.hostID
        let podResults = placement.map { "\(results)/\($0.pod)" }
        for path in podResults { try makeResultsFolder(path, owner: owner) }
        let version = tools.version.value
        // Each piece of work of the side-by-side step gets the step's trace, to note its own time.
        // Each piece answers the addresses it assigned (only the network's) and when it ended.
        var starts: [(TimingTrace) throws -> (addresses: [String], ended: Date)] = []
        if let bundle, let seccomp {
            let base = try PodConfig.readBase(bundle: bundle)
            for (index, pod) in placement.enumerated() {
                let podFolder = "\(folder)/pods/\(pod.pod)"
                var config = PodConfig(pod: pod.pod, job: spec.name, network: spec.network, netnsPath: LinkCommands.path(podNetns[index]),
                                       rootfs: (pulls?[pod.node].bundle ?? bundle) + "/rootfs", results: podResults[index], hosts: hostsPath,
                                       mpiFolder: folder + "/etc/mpi", knobs: spec.knobs,
                                       cpuset: spec.podCPUs?[index] ?? spec.nodeCPUs?[pod.node] ?? spec.cpuset,
                                       memoryBytes: spec.memoryBytes, runtimeVersion: version,
                                       cgroupsPath: names.cgroup(pod.pod), seccomp: seccomp, pidsLimit: spec.pidsLimit,
                                       userNamespace: userNamespace,
                                       userNamespacePin: userNamespace.map { _ in "\(folder)/userns/\(pod.pod)" })
                config.rdma = rdma
                config.gpus = gpus?.edits
                config.hugePages = spec.hugePages
                starts.append { [config] trace in
                    try config.write(base: base, to: podFolder)
                    try runtime.create(id: pod.pod, bundle: podFolder, log: podFolder + "/log")
                    trace.note("pod \(index): config, \(runtime.kind.rawValue) create")
                    return ([], Date())
                }
            }
        }
        var cniConfigs: [[String: Any]] = []
        if tools.cni != nil {
            try fileManager.createDirectory(atPath: folder + "/cni", withIntermediateDirectories: true)
            for node in 0..<spec.nodes {
                let config = CNI.bridgeConfig(job: spec.name, network: podNetwork, node: node, dataDir: "\(folder)/cni/n\(node)")
                try CNI.save(config, to: "\(folder)/cni/n\(node).conf")
                cniConfigs.append(config)
            }
        }
        trace.mark("files")

        // The launcher is a pod-network endpoint on node 0, as the operator's launcher pod is.
        let attachments = placement + [(pod: names.launcher, netns: names.launcher, node: 0)]
        progress("network inside the namespaces; \(runtime.kind.rawValue) create: \(starts.count) pod(s)")
        // The first piece of work answers the CNI's addresses (none on the host network).
        let work: [(TimingTrace) throws -> (addresses: [String], ended: Date)] = [{ trace in
            guard let cni = tools.cni else {
                try network.configure(names, nodes: spec.nodes, network: podNetwork)
                trace.note("network: namespaces' batches")
                return ([], Date())
            }
            // The nodes' own wiring (eth0, flannel.1, routes, FDB) and the CNI ADDs (each a chain of
            // processes, bridge then host-local, that mostly waits on the kernel and the IPAM's lock)
            // touch different devices: all at once. Each namespace's `lo` is one netlink message.
            let outcomes = try Concurrently.map(attachments.count + 1) { index -> String in
                guard index < attachments.count else {
                    for attachment in attachments { try NetworkNamespace.setLoopbackUp(attachment.netns) }
                    try network.configure(names, nodes: spec.nodes, network: podNetwork)
                    trace.note("network: lo, namespaces' batches")
                    return ""
                }
                let attachment = attachments[index]
                return try cni.add(container: attachment.pod, netns: attachment.netns, node: nodeNetns[attachment.node],
                                   config: cniConfigs[attachment.node])
            }
            trace.note("network: CNI ADDs")
            return (Array(outcomes.prefix(attachments.count)), Date())
        }] + starts
        let stepTrace = trace
        let outcomes = try Concurrently.map(work.count) { try work[$0](stepTrace) }
        let assigned = outcomes[0].addresses
        trace.mark("network, CNI and \(runtime.kind.rawValue) create (parallel)")
        // The two overlap: the network phase is until the network was ready, the creates take the rest.
        phases.end(.network, at: outcomes[0].ended)
        if !starts.isEmpty { phases.end(.created) }

        // Pods on the host network answer on their nodes' underlay addresses.
        let addresses = tools.cni == nil ? placement.map { LinkCommands.nodeAddress($0.node) } : assigned
        let pods = placement.enumerated().map {
            JobState.Pod(name: $1.pod, node: $1.node, address: addresses[$0], netns: podNetns[$0], results: podResults[$0])
        }
        let launcherAddress = tools.cni == nil ? LinkCommands.launcherUnderlayAddress : addresses[placement.count]
        var entries = spec.containers ? pods.map { (name: $0.name, address: $0.address) }
            : (0..<spec.nodes).map { (name: names.node($0), address: LinkCommands.nodeAddress($0)) }
        entries.append((name: "\(spec.name)-launcher", address: launcherAddress))
        try writeInPlace(JobLauncher.hostsFile(entries), to: hostsPath)

        let links = [names.underlayBridge] + (0..<spec.nodes).map(names.underlayPort) + (spec.network.usesCNI ? [] : [names.launcherPort])
        let state = JobState(spec: spec, pods: pods, nodes: (0..<spec.nodes).map(names.node), nodeNetns: nodeNetns,
                             underlayNetns: names.underlay, underlayLinks: links, launcherNetns: names.launcher,
                             launcherAddress: launcherAddress, bundle: bundle, runtimeVersion: version, results: results,
                             created: ISO8601DateFormatter().string(from: Date()), launchPID: nil, gpus: gpus, pulls: pulls)
        try state.save(store)
        trace.mark("hosts and state")
        guard !starts.isEmpty else { return state }

        // Started once their /etc/hosts names every pod.
        _ = try Concurrently.map(pods.count) { index in
            try runtime.start(id: pods[index].name, log: "\(folder)/pods/\(pods[index].name)/log")
        }
        phases.end(.started)
        trace.mark("\(runtime.kind.rawValue) start (parallel)")
        var timed = state
        timed.phases = phases.phases
        try timed.save(store)
        return timed
    }

    /// Writes `text` over the file at `path` (the same inode), so that a pod that bind-mounted the
    /// file sees it: a write-and-rename would leave the pod with the old, empty one. The file is the
    /// job's own (in its folder, which no pod can write), made by `up` just before.
    static func writeInPlace(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw PodsError.failed("cannot write \(path)") }
        defer { try? handle.close() }
        do {
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw PodsError.failed("cannot write \(path): \(error.localizedDescription)")
        }
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

    /// Everything of `job` that still exists: containers (of every installed runtime), namespaces,
    /// cgroups, the job folder.
    public static func leftovers(_ names: JobNames, store: Store = Store()) -> [String] {
        leftovers(names, containers: Runtime.installed().flatMap { $0.list() }, store: store)
    }

    /// `leftovers`, with the runtime's containers listed already.
    static func leftovers(_ names: JobNames, containers: [String], store: Store) -> [String] {
        var found = containers.filter(names.ownsPod).map { "container \($0)" }
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
        var trace = TimingTrace("down", variable: TimingTrace.podsVariable)
        var removed: [String] = []
        let state = try? JobState.load(store, job: job)
        if let pid = state?.launchPID, pid > 1 {
            // A launch still running (or whose launcher crashed): end mpirun's whole session.
            if !Session.members(of: pid).isEmpty {
                Session.signal(session: pid, SIGKILL)
                removed.append("launch session \(pid)")
            }
        }
        // The namespaces go side by side with the pods: a pod keeps its own network namespace
        // alive until it ends, whatever happens to the name. Pods and the launcher first, then
        // nodes, then the underlay that joins them.
        let namespaces = LinkCommands.namespaces(where: names.ownsNamespace).sorted { rank($0, names) < rank($1, names) }
        let namespacesGone = Pending { (try? LinkCommands())?.deleteNamespaces(namespaces) != nil }
        // The job's runtime is in its state, which a crash may have lost: ask every runtime.
        let owned = Runtime.installed().flatMap { runtime in runtime.list().filter(names.ownsPod).map { (runtime, $0) } }
        trace.mark("state, runtimes' lists")
        if !owned.isEmpty {
            // `runc delete --force` of a running container signals it, then sleeps 100 ms before
            // it first looks again: end every pod's processes here, wait for exactly them, and
            // the deletes find stopped containers, which they remove at once, side by side.
            stop(owned.map { names.cgroup($0.1) })
            trace.mark("pods' processes killed")
            _ = try? Concurrently.map(owned.count) { owned[$0].0.delete(owned[$0].1) }
            removed += owned.map { "container \($0.1)" }
            trace.mark("delete (parallel)")
        }
        if namespacesGone.value { removed += namespaces.map { "netns \($0)" } }
        trace.mark("netns delete (ip -batch)")
        for folder in cgroupFolders(names) where rmdir(folder) == 0 { removed.append("cgroup \(folder)") }
        trace.mark("cgroups left (scan, rmdir)")
        // The nodes' links to the registry went with their namespaces; their addresses go too.
        Registry(store: store).releaseLeases { $0.hasPrefix(names.stem + "-r") }
        // No pod runs from the nodes' snapshots any more: the job's marks in them go.
        for pulled in state?.pulls ?? [] { if let folder = pulled.store { NodeStore(folder: folder, jobs: store).release(job: job) } }
        let folder = store.jobFolder(job)
        // Pinned user namespaces (--userns) are mounts: unpinned before their folder can go.
        for pin in (try? FileManager.default.contentsOfDirectory(atPath: folder + "/userns")) ?? [] {
            UserNamespace.release(pin: "\(folder)/userns/\(pin)")
            removed.append("user namespace \(pin)")
        }
        if FileManager.default.fileExists(atPath: folder) {
            FileTree.remove(folder)
            removed.append("folder \(folder)")
        }
        trace.mark("user namespaces, job folder")
        trace.total()
        return removed
    }

    /// SIGKILLs every process in the pods' `cgroups` (each pod's init first: the kernel then ends
    /// the rest of its PID namespace) and waits, at most 5 s, until each has ended. A pid read from
    /// a pod's own cgroup names a process of that pod (the pod cannot move itself out: it has no
    /// write to the cgroup tree); one that ended since is a zombie, or its pid waits for the
    /// pid space to wrap round (32768 forks here) before it names another process.
    static func stop(_ cgroups: [String]) {
        let pids = cgroups.flatMap { processes(inCgroup: $0) }
        for pid in pids where pid > 1 { kill(pid, SIGKILL) }
        let deadline = Date().addingTimeInterval(5)
        while !pids.allSatisfy(isZombie) && Date() < deadline { usleep(1_000) }
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
