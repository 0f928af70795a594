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

    func addNamespaces(_ names: [String]) throws {
        try batch(nil, names.map { "netns add \($0)" })
    }

    /// Namespaces whose names `owned` claims.
    static func namespaces(where owned: (String) -> Bool) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: netnsFolder)) ?? []).filter(owned).sorted()
    }

    func deleteNamespace(_ name: String) {
        _ = try? Subprocess.run(ip, ["netns", "delete", name], check: false)
    }

    /// Builds the job's wiring: the underlay (a bridge in its own namespace, a veth to `eth0` of
    /// every node, and to the launcher where pods share their nodes' namespaces), then per node
    /// its address and the network's own crossing between nodes. Namespaces must exist.
    func wire(_ names: JobNames, nodes: Int, network: PodNetwork) throws {
        try batch(names.underlay, LinkCommands.underlayCommands(names, nodes: nodes, launcher: !network.usesCNI, network: network))
        for index in 0..<nodes {
            try batch(names.nodeNetns(index), network.nodeCommands(index, nodes: nodes))
            try batch(names.nodeNetns(index), network.forwardingCommands(index, nodes: nodes), tool: bridge)
        }
        if !network.usesCNI {
            try batch(names.launcher, ["link set lo up", "addr add \(LinkCommands.launcherUnderlayAddress)/24 dev eth0",
                                       "link set eth0\(network.mtuWords) up"])
        }
    }

    static func underlayCommands(_ names: JobNames, nodes: Int, launcher: Bool, network: PodNetwork = .host) -> [String] {
        let mtu = network.mtuWords
        var lines = ["link set lo up", "link add \(names.underlayBridge)\(mtu) type bridge", "link set \(names.underlayBridge) up"]
        var ports = (0..<nodes).map { (port: names.underlayPort($0), netns: names.nodeNetns($0)) }
        if launcher { ports.append((port: names.launcherPort, netns: names.launcher)) }
        for (port, netns) in ports {
            lines.append("link add \(port)\(mtu) type veth peer name eth0\(mtu) netns \(netns)")
            lines.append("link set \(port) master \(names.underlayBridge) up")
        }
        return lines
    }
}
