import Foundation

/// Network namespaces and links, made with iproute2 inside namespaces the job owns. Addresses
/// come from 198.18.0.0/15 only: node underlay 198.18.0.0/24, pod subnets 198.19.<node>.0/24.
/// Because every device lives inside a job's own namespaces, two jobs may use the same addresses.
/// Commands go to `ip -batch` (one process per namespace): spawning one `ip` per link was most
/// of `pods up`'s time.
struct LinkCommands {
    let ip: String
    let bridge: String
    let nsenter: String

    init() throws {
        ip = try Subprocess.require("ip", package: "iproute2")
        bridge = try Subprocess.require("bridge", package: "iproute2")
        nsenter = try Subprocess.require("nsenter", package: "util-linux")
    }

    static let netnsFolder = "/var/run/netns"
    static func path(_ netns: String) -> String { "\(netnsFolder)/\(netns)" }

    /// Underlay address of node `index` (the launcher of jobs on the host network takes .254).
    static func nodeAddress(_ index: Int) -> String { "198.18.0.\(index + 1)" }
    static let launcherUnderlayAddress = "198.18.0.254"
    /// Node `index`'s pod subnet and its gateway (on the node's cni0 bridge).
    static func podSubnet(_ index: Int) -> String { "198.19.\(index).0/24" }
    static func podGateway(_ index: Int) -> String { "198.19.\(index).1" }
    /// The VXLAN device of overlay nodes, named as flannel names it.
    static let vtep = "flannel.1"
    /// flannel.1's address and MAC on node `index`, as flannel gives them (x.x.N.0/32).
    static func vtepAddress(_ index: Int) -> String { "198.19.\(index).0" }
    static func vtepMAC(_ index: Int) -> String { String(format: "0e:70:67:00:00:%02x", index + 1) }

    /// Runs `lines` through `ip -batch` (in `netns` when given); a failing line fails the call.
    func batch(_ netns: String?, _ lines: [String], tool: String? = nil) throws {
        guard !lines.isEmpty else { return }
        let prefix = netns.map { ["-n", $0] } ?? []
        try Subprocess.run(tool ?? ip, prefix + ["-batch", "-"], input: lines.joined(separator: "\n") + "\n")
    }

    /// Namespaces whose names `owned` claims.
    static func namespaces(where owned: (String) -> Bool) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: netnsFolder)) ?? []).filter(owned).sorted()
    }

    /// Deletes `names` in one `ip -force -batch`, in the order given; quiet about any already gone.
    func deleteNamespaces(_ names: [String]) {
        guard !names.isEmpty else { return }
        _ = try? Subprocess.run(ip, ["-force", "-batch", "-"], input: names.map { "netns delete \($0)\n" }.joined(), check: false)
    }

    /// Makes the job's namespaces (`namespaces`) and the underlay's links in one `ip -batch` on the
    /// host: a bridge in the underlay's namespace, and a veth from it to `eth0` of every node (and
    /// of the launcher where pods share their nodes' namespaces), each link made straight in the
    /// namespace it belongs to.
    func makeNamespaces(_ namespaces: [String], underlay names: JobNames, nodes: Int, network: PodNetwork) throws {
        try batch(nil, namespaces.map { "netns add \($0)" }
            + LinkCommands.underlayLinks(names, nodes: nodes, launcher: !network.usesCNI, network: network))
    }

    /// Sets the wiring up inside the namespaces `makeNamespaces` made: the underlay's bridge and
    /// ports, then per node its address and the network's own crossing between nodes. Each
    /// namespace's batch runs side by side with the others (a node's `bridge -batch` after its
    /// `ip -batch`, whose flannel.1 it needs).
    func configure(_ names: JobNames, nodes: Int, network: PodNetwork) throws {
        let launcher = !network.usesCNI
        var batches: [() throws -> Void] = [{ try batch(names.underlay, LinkCommands.underlayCommands(names, nodes: nodes, launcher: launcher)) }]
        for index in 0..<nodes {
            batches.append {
                try batch(names.nodeNetns(index), network.nodeCommands(index, nodes: nodes))
                try batch(names.nodeNetns(index), network.forwardingCommands(index, nodes: nodes), tool: bridge)
            }
        }
        if launcher {
            batches.append {
                try batch(names.launcher, ["link set lo up", "addr add \(LinkCommands.launcherUnderlayAddress)/24 dev eth0",
                                           "link set eth0\(network.mtuWords) up"])
            }
        }
        _ = try Concurrently.map(batches.count) { try batches[$0]() }
    }

    /// The underlay's links for the host's batch, each made in its namespace: the bridge in the
    /// underlay's, and per node (and launcher) a veth whose one end is a bridge port there and
    /// whose other is `eth0` of the node. None of them ever exists on the host.
    static func underlayLinks(_ names: JobNames, nodes: Int, launcher: Bool, network: PodNetwork = .host) -> [String] {
        let mtu = network.mtuWords, underlay = names.underlay
        return ["link add \(names.underlayBridge) netns \(underlay)\(mtu) type bridge"]
            + underlayPorts(names, nodes: nodes, launcher: launcher).map {
                "link add \($0.port) netns \(underlay)\(mtu) type veth peer name eth0\(mtu) netns \($0.netns)"
            }
    }

    /// The underlay namespace's own batch: its loopback, the bridge up, and every port on it.
    static func underlayCommands(_ names: JobNames, nodes: Int, launcher: Bool) -> [String] {
        ["link set lo up", "link set \(names.underlayBridge) up"]
            + underlayPorts(names, nodes: nodes, launcher: launcher).map { "link set \($0.port) master \(names.underlayBridge) up" }
    }

    private static func underlayPorts(_ names: JobNames, nodes: Int, launcher: Bool) -> [(port: String, netns: String)] {
        var ports = (0..<nodes).map { (port: names.underlayPort($0), netns: names.nodeNetns($0)) }
        if launcher { ports.append((port: names.launcherPort, netns: names.launcher)) }
        return ports
    }
}
