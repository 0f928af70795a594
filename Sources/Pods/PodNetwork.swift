import Records

/// How a job's pods are wired: one value per `NetworkMode` that emulated nodes can carry, each
/// saying what sets it apart. A new mode is one more value here (and its case in NetworkMode).
public struct PodNetwork: Sendable, Hashable {
    /// How traffic between pods on different nodes crosses the underlay.
    enum Crossing: Sendable, Hashable {
        /// Pods are the nodes' own network namespaces (host) or sit on one node (bridge).
        case none
        /// Each node routes the other nodes' pod subnets to them (flannel host-gw, Calico without IPIP).
        case routes
        /// A flannel-style VXLAN device per node (VNI 1, UDP 8472, no learning).
        case vxlan
    }

    public let mode: NetworkMode
    /// Pods get network namespaces of their own, attached by the CNI bridge plugin; otherwise
    /// they share their node's (hostNetwork), and the launcher sits on the underlay.
    public let usesCNI: Bool
    /// Pods (or nodes) on different emulated nodes reach each other; a mode that does not, has one node.
    public let spansNodes: Bool
    /// MTU of the underlay (the nodes' `eth0`, their bridge): 1500 unless the `mtu` knob sets it.
    public private(set) var underlayMTU = PodNetwork.defaultMTU
    /// MTU of the pods' interfaces: VXLAN's outer Ethernet, IP, UDP and VXLAN headers take 50 bytes of the underlay's.
    public var mtu: Int { crossing == .vxlan ? underlayMTU - PodNetwork.vxlanOverhead : underlayMTU }
    let crossing: Crossing

    /// Pods share their node's network namespace (hostNetwork: true); across nodes, the underlay.
    public static let defaultMTU = 1500
    public static let vxlanOverhead = 50

    public static let host = PodNetwork(mode: .host, usesCNI: false, spansNodes: true, crossing: .none)
    /// Pods on one node's Linux bridge, attached by the CNI `bridge` plugin with `host-local` IPAM.
    public static let bridge = PodNetwork(mode: .bridge, usesCNI: true, spansNodes: false, crossing: .none)
    /// Per-node pod subnets routed over the underlay, no encapsulation.
    public static let routed = PodNetwork(mode: .routed, usesCNI: true, spansNodes: true, crossing: .routes)
    /// Per-node pod subnets joined by a VXLAN overlay over the underlay.
    public static let overlay = PodNetwork(mode: .overlay, usesCNI: true, spansNodes: true, crossing: .vxlan)

    public static let all = [host, bridge, routed, overlay]

    /// The pods' wiring for `mode`; nil for a mode emulated nodes do not carry (loopback: no nodes at all).
    public init?(_ mode: NetworkMode) {
        guard let network = PodNetwork.all.first(where: { $0.mode == mode }) else { return nil }
        self = network
    }

    private init(mode: NetworkMode, usesCNI: Bool, spansNodes: Bool, crossing: Crossing) {
        self.mode = mode; self.usesCNI = usesCNI; self.spansNodes = spansNodes; self.crossing = crossing
    }

    /// The same wiring over an underlay of `mtu` bytes (the `mtu` knob); nil keeps 1500.
    public func withUnderlayMTU(_ mtu: Int?) -> PodNetwork {
        var network = self
        network.underlayMTU = mtu ?? PodNetwork.defaultMTU
        return network
    }

    /// ` mtu N` for an `ip link` line where the underlay's MTU is not the default, else nothing.
    var mtuWords: String { underlayMTU == PodNetwork.defaultMTU ? "" : " mtu \(underlayMTU)" }

    /// Node `index`'s commands for `ip -batch`: its underlay address; for routed, a route to every
    /// other node's pod subnet through that node; for overlay `flannel.1` with, per remote node, a
    /// route and a permanent ARP entry, as flanneld programs them from the node annotations.
    public func nodeCommands(_ index: Int, nodes: Int) -> [String] {
        var lines = ["link set lo up", "addr add \(LinkCommands.nodeAddress(index))/24 dev eth0", "link set eth0\(mtuWords) up"]
        let others = (0..<nodes).filter { $0 != index }
        switch crossing {
        case .none:
            break
        case .routes:
            lines += others.map { "route add \(LinkCommands.podSubnet($0)) via \(LinkCommands.nodeAddress($0)) dev eth0" }
        case .vxlan:
            lines += [
                "link add \(LinkCommands.vtep) address \(LinkCommands.vtepMAC(index)) type vxlan id 1 dstport 8472 local \(LinkCommands.nodeAddress(index)) dev eth0 nolearning",
                "link set \(LinkCommands.vtep) mtu \(mtu) up",
                "addr add \(LinkCommands.vtepAddress(index))/32 dev \(LinkCommands.vtep)",
            ]
            for other in others {
                lines.append("route add \(LinkCommands.podSubnet(other)) via \(LinkCommands.vtepAddress(other)) dev \(LinkCommands.vtep) onlink")
                lines.append("neigh add \(LinkCommands.vtepAddress(other)) lladdr \(LinkCommands.vtepMAC(other)) dev \(LinkCommands.vtep) nud permanent")
            }
        }
        return lines
    }

    /// Node `index`'s commands for `bridge -batch`: with VXLAN, each remote VTEP's MAC behind its
    /// node's underlay address; nothing otherwise.
    public func forwardingCommands(_ index: Int, nodes: Int) -> [String] {
        guard crossing == .vxlan else { return [] }
        return (0..<nodes).filter { $0 != index }.map { "fdb append \(LinkCommands.vtepMAC($0)) dev \(LinkCommands.vtep) dst \(LinkCommands.nodeAddress($0))" }
    }
}

/// Saved in job state as the mode's name.
extension PodNetwork: Codable {
    public init(from decoder: Decoder) throws {
        let mode = try NetworkMode(from: decoder)
        guard let network = PodNetwork(mode) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no pod network '\(mode.rawValue)'"))
        }
        self = network
    }

    public func encode(to encoder: Encoder) throws { try mode.encode(to: encoder) }
}
