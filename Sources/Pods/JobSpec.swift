import Records
import Foundation

/// What `pods up` was asked for, checked before anything is created.
public struct JobSpec: Codable, Sendable, Equatable {
    public var name: String
    public var nodes: Int
    public var podsPerNode: Int
    public var network: PodNetwork
    /// Pods in runc containers; false runs the ranks as host processes in the node namespaces
    /// (native-2node), on the host network.
    public var containers: Bool
    /// Kubernetes' knobs the pods run with (CPU limit, Guaranteed, slots, MTU, runtime, seccomp, hugepages).
    public var knobs: Knobs
    /// Each pod's own hugetlbfs under the `hugepages` knob (its share of the free pool); nil otherwise.
    public var hugePages: HugePages.Mount?
    /// Each pod's exclusive CPUs under `guaranteed` (the static CPU Manager), pod 0 first; nil otherwise.
    public var podCPUs: [String]?
    /// Linux cpu list the pods are pinned to (the CPU Manager's static policy), nil for none.
    public var cpuset: String?
    /// Each emulated node's own CPUs (`--split-cpus`), node 0 first; nil when the nodes share
    /// every CPU. Pods (or, without containers, the ranks) of node i run only on `nodeCPUs[i]`.
    public var nodeCPUs: [String]?
    /// Memory limit per pod in bytes, nil for none.
    public var memoryBytes: Int64?
    /// Host folder for the job's records: each pod mounts its own `<results>/<pod>/` read-write
    /// at /results; ranks without containers write `/results` paths here directly.
    public var results: String
    /// Each pod cgroup's `pids.max`.
    public var pidsLimit: Int
    /// Pods in user namespaces of their own (root inside, `UserNamespace.standard` outside).
    public var userNamespace: Bool
    /// Under the `pull` knob, whose image stores the nodes pull into: nil, the nodes every job
    /// shares (a node's cache outlives jobs); a name, nodes of this group's own, so that a suite's
    /// cold environment never empties its warm one's stores (`Registry.removeNodeStores`).
    public var nodeStores: String?

    /// Docker's and Kubernetes' distributions commonly cap a container at a few thousand
    /// processes; ranks need a few dozen (threads count too).
    public static let defaultPidsLimit = 4096
    /// Room for runc's init, the entrypoint, orted and a rank's threads.
    public static let minimumPidsLimit = 16

    public init(name: String, nodes: Int, podsPerNode: Int, network: PodNetwork, containers: Bool = true, knobs: Knobs = Knobs(),
                cpuset: String? = nil, memory: String? = nil, results: String? = nil,
                splitCPUs: Bool = false, hostCPUs: CPUSet? = nil, pids: Int? = nil, userNamespace: Bool = false,
                hugePagePool: @autoclosure () -> HugePages? = HugePages.current()) throws {
        let names = try JobNames(name)
        guard nodes >= 1, nodes <= JobNames.maximumIndex else {
            throw PodsError.badInput("--nodes \(nodes) must be between 1 and \(JobNames.maximumIndex)")
        }
        guard podsPerNode >= 1 else { throw PodsError.badInput("--pods-per-node \(podsPerNode) must be at least 1") }
        if containers && nodes * podsPerNode > JobNames.maximumIndex + 1 {
            throw PodsError.badInput("\(nodes) nodes x \(podsPerNode) pods = \(nodes * podsPerNode) pods; the names '\(names.hostStem)-pNN' allow at most \(JobNames.maximumIndex + 1)")
        }
        if containers && podsPerNode > 200 {
            throw PodsError.badInput("--pods-per-node \(podsPerNode): a node's /24 pod subnet holds at most 200 pods")
        }
        if !network.spansNodes && nodes != 1 {
            let spanning = PodNetwork.all.filter(\.spansNodes).map(\.mode.rawValue).joined(separator: ", ")
            throw PodsError.badInput("--network \(network.mode.rawValue) places pods on one node: use --nodes 1 (\(spanning) span nodes)")
        }
        if !containers && network != .host {
            throw PodsError.badInput("--no-containers runs the ranks in the node namespaces, on the host network: use --network \(PodNetwork.host.mode.rawValue)")
        }
        if !containers && (!knobs.isEmpty || cpuset != nil || memory != nil || pids != nil || userNamespace) {
            throw PodsError.badInput("--no-containers makes no containers, so knobs (--\(Knobs.names.joined(separator: ", --"))), --cpuset, --memory, --pids and --userns do not apply")
        }
        if let pids, !(JobSpec.minimumPidsLimit...4_194_304).contains(pids) {
            throw PodsError.badInput("--pids \(pids) must be between \(JobSpec.minimumPidsLimit) (runc's init, the entrypoint, orted and a rank's threads) and 4194304 (the kernel's pid_max)")
        }
        if userNamespace && containers && !network.usesCNI {
            let own = PodNetwork.all.filter(\.usesCNI).map(\.mode.rawValue).joined(separator: ", ")
            throw PodsError.badInput("--userns needs pods with network namespaces of their own (\(own)): as in Kubernetes, pods on the host network share the host's users")
        }
        pidsLimit = pids ?? JobSpec.defaultPidsLimit
        self.userNamespace = userNamespace
        self.name = name
        self.nodes = nodes
        self.podsPerNode = podsPerNode
        self.network = network
        self.containers = containers
        let available = hostCPUs ?? CPUSet.current()
        do {
            try knobs.validate(cores: available.count, pods: containers ? nodes * podsPerNode : nil,
                               pinned: containers && (cpuset != nil || splitCPUs))
        } catch { throw PodsError.badInput(error.description) }
        self.knobs = knobs
        if let cpuset {
            guard let asked = CPUSet(parsing: cpuset) else {
                throw PodsError.badInput("--cpuset '\(cpuset)' is not a cpu list: use e.g. 0, 0-1 or 0,2")
            }
            // runc would fail later with the kernel's "invalid argument": name the CPUs there are.
            let missing = asked.cpus.filter { !available.cpus.contains($0) }
            guard missing.isEmpty else {
                throw PodsError.badInput("--cpuset '\(cpuset)' names CPU \(CPUSet(missing).listDescription), which this machine does not have: its CPUs are \(available.listDescription)")
            }
            self.cpuset = cpuset
        }
        if splitCPUs {
            if cpuset != nil { throw PodsError.badInput("--split-cpus gives each node its own CPUs; drop --cpuset") }
            // This process's affinity, read only when asked to split it.
            nodeCPUs = try JobSpec.shares(of: hostCPUs ?? CPUSet.current(), nodes: nodes).map(\.listDescription)
        }
        if knobs.guaranteed == true, containers {
            podCPUs = try JobSpec.exclusiveCPUs(of: available, pods: nodes * podsPerNode)
        }
        if let memory { memoryBytes = try JobSpec.parseMemory(memory) }
        if knobs.hugepages == true, containers {
            // hugetlbfs is not a filesystem a user namespace may mount.
            if userNamespace { throw PodsError.badInput("hugepages: a pod in a user namespace (--userns) cannot mount hugetlbfs; drop one of them") }
            let pool = hugePagePool()
            if let reason = HugePages.unavailable(pool, pods: nodes * podsPerNode) { throw PodsError.badInput(reason) }
            hugePages = pool?.mount(pods: nodes * podsPerNode)
        }
        self.results = results ?? "results/\(name)"
    }

    public var podCount: Int { containers ? nodes * podsPerNode : 0 }

    /// `cpus` cut into `nodes` equal consecutive shares (the remainder left unused, so that no
    /// node is bigger than another): separate machines do not share cores, and emulated nodes
    /// that do steal each other's compute and report the machine's cores as their own.
    public static func shares(of cpus: CPUSet, nodes: Int) throws -> [CPUSet] {
        let each = cpus.count / max(nodes, 1)
        guard each >= 1 else {
            throw PodsError.badInput("--split-cpus: \(nodes) nodes need at least \(nodes) CPUs; this process may use \(cpus.count) (\(cpus.listDescription))")
        }
        return (0..<nodes).map { CPUSet(Array(cpus.cpus[($0 * each)..<(($0 + 1) * each)])) }
    }

    /// The static CPU Manager's share for `pods` Guaranteed pods: each the same whole number of
    /// CPUs, none shared (the remainder stays with the host, as its reserved CPUs would).
    public static func exclusiveCPUs(of cpus: CPUSet, pods: Int) throws -> [String] {
        guard cpus.count >= pods else {
            throw PodsError.badInput("guaranteed gives each pod a whole CPU of its own: \(pods) pods need \(pods) CPUs and this process may use \(cpus.count) (\(cpus.listDescription)); use fewer pods (slots) or drop guaranteed")
        }
        return try shares(of: cpus, nodes: pods).map(\.listDescription)
    }

    /// "512M", "2G", "2Gi", "1048576" -> bytes (K, M, G, T are powers of 1024, as Kubernetes' Ki/Mi/Gi).
    public static func parseMemory(_ text: String) throws -> Int64 {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        if digits.hasSuffix("i") || digits.hasSuffix("B") || digits.hasSuffix("b") { digits = digits.dropLast() }
        var multiplier: Int64 = 1
        if let unit = digits.last, !unit.isNumber {
            switch unit.uppercased() {
            case "K": multiplier = 1 << 10
            case "M": multiplier = 1 << 20
            case "G": multiplier = 1 << 30
            case "T": multiplier = 1 << 40
            default: throw PodsError.badInput("--memory '\(text)' is not a size: use e.g. 512M or 2G")
            }
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int64(digits), value > 0 else {
            throw PodsError.badInput("--memory '\(text)' is not a size: use e.g. 512M or 2G")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        // Below 4 MiB no pod starts (runc's own init needs more), so refuse it up front.
        guard !overflow, bytes >= 4 << 20 else {
            throw PodsError.badInput("--memory '\(text)' must be at least 4M and not absurdly large")
        }
        return bytes
    }
}
