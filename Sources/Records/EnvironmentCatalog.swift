/// One environment of the comparison: how it is launched, what its ranks talk over, where it sits
/// on the attribution ladder, and how charts draw it. `EnvironmentCatalog` lists every one; no
/// other file spells their names.
public struct EnvironmentKind: Sendable, Hashable {
    /// How the ranks are started.
    public enum Launch: Sendable, Hashable {
        /// mpirun (or srun) on this host, restricted to these Open MPI transports.
        case native(btl: String, pml: String?)
        /// `podgap pods` emulated nodes on an underlay. Without containers the ranks run as host
        /// processes inside the node namespaces (the two-node native baseline).
        case nodes(count: Int, network: NetworkMode, containers: Bool)
    }

    /// The name users type and records carry.
    public let name: String
    public let launch: Launch
    /// What the ranks talk over, in a phrase.
    public let talksOver: String
    /// The rung below on the attribution ladder, and what this one adds over it: the gap between
    /// neighbours is what that one thing costs.
    public let parent: String?
    public let adds: String?
    /// Colour in every chart (hex).
    public let colour: String
    /// Preference as the default baseline, lowest first; nil for never by default.
    public let baselineRank: Int?
    /// Runs only where RDMA devices exist.
    public let needsRDMA: Bool

    /// Runs in containers (pods), as against host processes.
    public var usesContainers: Bool {
        if case .nodes(_, _, let containers) = launch { return containers }
        return false
    }

    /// The network mode ranks use: loopback for native single-host runs.
    public var network: NetworkMode {
        if case .nodes(_, let network, _) = launch { return network }
        return .loopback
    }
}

public enum EnvironmentCatalog {
    public static let nativeShm = EnvironmentKind(
        name: "native-shm", launch: .native(btl: "self,vader", pml: nil), talksOver: "shared memory (vader)",
        parent: nil, adds: nil, colour: "#1b9e77", baselineRank: 2, needsRDMA: false)
    public static let nativeTCP = EnvironmentKind(
        name: "native-tcp", launch: .native(btl: "tcp,self", pml: nil), talksOver: "TCP loopback",
        parent: nativeShm.name, adds: "TCP instead of shared memory", colour: "#66a61e", baselineRank: 1, needsRDMA: false)
    public static let nativeTwoNode = EnvironmentKind(
        name: "native-2node", launch: .nodes(count: 2, network: .host, containers: false), talksOver: "veth underlay between two node namespaces",
        parent: nativeTCP.name, adds: "the wire between nodes", colour: "#377eb8", baselineRank: 0, needsRDMA: false)
    public static let podHost = EnvironmentKind(
        name: "pod-host", launch: .nodes(count: 1, network: .host, containers: true), talksOver: "TCP in the node's network (no shared IPC)",
        parent: nativeTCP.name, adds: "container isolation and cgroup limits", colour: "#ff7f00", baselineRank: nil, needsRDMA: false)
    public static let podBridge = EnvironmentKind(
        name: "pod-bridge", launch: .nodes(count: 1, network: .bridge, containers: true), talksOver: "veth + Linux bridge (CNI bridge)",
        parent: podHost.name, adds: "veth and a Linux bridge", colour: "#a65628", baselineRank: nil, needsRDMA: false)
    public static let podRouted = EnvironmentKind(
        name: "pod-routed", launch: .nodes(count: 2, network: .routed, containers: true), talksOver: "pod subnets routed over the underlay",
        parent: nativeTwoNode.name, adds: "pod network namespaces and routing", colour: "#984ea3", baselineRank: nil, needsRDMA: false)
    public static let podOverlay = EnvironmentKind(
        name: "pod-overlay", launch: .nodes(count: 2, network: .overlay, containers: true), talksOver: "VXLAN overlay over the underlay",
        parent: podRouted.name, adds: "VXLAN encapsulation", colour: "#e41a1c", baselineRank: nil, needsRDMA: false)
    public static let nativeRDMA = EnvironmentKind(
        name: "native-rdma", launch: .native(btl: "self,vader", pml: "ucx"), talksOver: "verbs through UCX",
        parent: nil, adds: nil, colour: "#f781bf", baselineRank: 3, needsRDMA: true)
    public static let podRDMA = EnvironmentKind(
        name: "pod-rdma", launch: .nodes(count: 1, network: .host, containers: true), talksOver: "verbs through UCX, devices passed into pods",
        parent: nativeRDMA.name, adds: "containers over RDMA", colour: "#999999", baselineRank: nil, needsRDMA: true)

    /// Every environment, in reading order: the ladder first, then the side branches.
    public static let all: [EnvironmentKind] = [
        nativeShm, nativeTCP, nativeTwoNode, podRouted, podOverlay, podHost, podBridge, nativeRDMA, podRDMA,
    ]

    /// Colours for names the catalog does not know (custom labels), handed out in order.
    public static let spareColours = ["#17becf", "#bcbd22", "#7f7f7f", "#8c564b", "#e377c2"]

    public static var names: [String] { all.map(\.name) }

    public static func kind(named name: String) -> EnvironmentKind? { all.first { $0.name == name } }

    /// Catalog names in catalog order, then any others (custom labels) by name.
    public static func sorted(_ names: some Sequence<String>) -> [String] {
        names.sorted { a, b in
            let x = all.firstIndex { $0.name == a } ?? all.count, y = all.firstIndex { $0.name == b } ?? all.count
            return x != y ? x < y : a < b
        }
    }

    /// The baseline a comparison of `names` uses when none is asked for: the most preferred
    /// native environment present, else the first in reading order. Report and Model both ask here.
    public static func baseline(among names: some Sequence<String>) -> String? {
        let present = Array(Set(names))
        let ranked = present.compactMap { name in kind(named: name)?.baselineRank.map { (name, $0) } }
        if let best = ranked.min(by: { $0.1 < $1.1 }) { return best.0 }
        return sorted(present).first
    }

    /// The name a run takes when no `--label` gives one, from how it was started: pods by their
    /// network (`pod-bridge`), ranks on several nodes (`native-2node`), TCP only or shared memory
    /// on one host, and a lone rank.
    public static func inferredName(inPod: Bool, network: String?, nodes: Int, tcpOnly: Bool, ranks: Int) -> String {
        if inPod { return "pod-\(network ?? "unknown")" }
        if nodes > 1 { return nodes == 2 ? nativeTwoNode.name : "native-\(nodes)node" }
        if tcpOnly { return nativeTCP.name }
        return ranks > 1 ? nativeShm.name : "native-singleton"
    }

    /// The colour of `name` in charts of `names`: its own, or a spare one for a custom label
    /// (stable for the same set of names).
    public static func colour(of name: String, among names: [String]) -> String {
        if let kind = kind(named: name) { return kind.colour }
        let custom = sorted(Set(names)).filter { kind(named: $0) == nil }
        return spareColours[(custom.firstIndex(of: name) ?? 0) % spareColours.count]
    }
}
