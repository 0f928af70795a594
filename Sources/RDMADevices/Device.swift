import Foundation

/// One RDMA adapter as libibverbs reports it: what records carry and what transport selection and
/// `pods up --rdma` decide from.
public struct Device: Codable, Equatable, Sendable {
    /// The verbs name (mlx5_0, rxe0).
    public var name: String
    /// The user-space verbs character device (uverbs0), the node a container needs.
    public var uverbs: String
    /// /dev/infiniband/uverbsN with its device numbers; nil when the node is missing.
    public var node: DeviceNode?
    public var nodeGUID: String
    public var firmware: String
    public var vendorID: UInt32
    public var vendorPartID: UInt32
    public var ports: [DevicePort]
    /// Why the device could not be opened or queried; nil when it answered.
    public var error: String?

    public init(name: String, uverbs: String, node: DeviceNode? = nil, nodeGUID: String = "", firmware: String = "",
                vendorID: UInt32 = 0, vendorPartID: UInt32 = 0, ports: [DevicePort], error: String? = nil) {
        self.name = name; self.uverbs = uverbs; self.node = node; self.nodeGUID = nodeGUID; self.firmware = firmware
        self.vendorID = vendorID; self.vendorPartID = vendorPartID; self.ports = ports; self.error = error
    }

    /// Ports that can carry traffic now.
    public var activePorts: [DevicePort] { ports.filter(\.isActive) }
}

/// One port of a device.
public struct DevicePort: Codable, Equatable, Sendable {
    public var number: Int
    /// down, init, armed, active, active-defer, or "state N" for codes this version does not know.
    public var state: String
    public var linkLayer: LinkLayer
    /// Active MTU in bytes (256 ... 4096).
    public var activeMTU: Int
    /// Per-lane signalling rate in Gb/s (25.78125 for EDR); 0 when unknown.
    public var laneGbps: Double
    /// Lanes (1, 2, 4, 8, 12); 0 when unknown.
    public var width: Int
    public var lid: Int
    /// Non-zero GIDs: the addresses RoCE connects through and InfiniBand routes by.
    public var gids: [GID]
    /// Network interfaces bound to the port (ib0 for IPoIB, the Ethernet interface for RoCE).
    public var netdevs: [String]

    public init(number: Int, state: String, linkLayer: LinkLayer, activeMTU: Int, laneGbps: Double, width: Int,
                lid: Int = 0, gids: [GID] = [], netdevs: [String] = []) {
        self.number = number; self.state = state; self.linkLayer = linkLayer; self.activeMTU = activeMTU
        self.laneGbps = laneGbps; self.width = width; self.lid = lid; self.gids = gids; self.netdevs = netdevs
    }

    public var isActive: Bool { state == "active" }

    /// Signalling rate of the whole link (lanes times lane rate), Gb/s.
    public var rateGbps: Double { laneGbps * Double(width) }

    /// "mlx5_0:1" as UCX_NET_DEVICES names a port.
    public func ucxName(device: String) -> String { "\(device):\(number)" }
}

public enum LinkLayer: String, Codable, Sendable {
    case infiniband = "InfiniBand"
    /// RoCE: verbs over Ethernet.
    case ethernet = "Ethernet"
    case unknown
}

public struct GID: Codable, Equatable, Sendable {
    public var index: Int
    /// Colon-separated, eight groups of four hex digits, as sysfs writes it.
    public var address: String
    /// "IB/RoCE v1" or "RoCE v2" as the kernel reports it; nil where the kernel does not say.
    public var type: String?
    public var netdev: String?

    public init(index: Int, address: String, type: String? = nil, netdev: String? = nil) {
        self.index = index; self.address = address; self.type = type; self.netdev = netdev
    }
}

/// A device node under /dev with its numbers, as a container's device list needs them.
public struct DeviceNode: Codable, Equatable, Sendable {
    public var path: String
    public var major: Int
    public var minor: Int
    public init(path: String, major: Int, minor: Int) { self.path = path; self.major = major; self.minor = minor }
}

/// How libibverbs encodes port attributes, decoded into units people read.
public enum PortAttributeCode {
    /// IBV_MTU_256 ... IBV_MTU_4096 are 1 ... 5.
    public static func mtuBytes(_ code: Int) -> Int {
        (1...5).contains(code) ? 128 << code : 0
    }

    /// IBV_PORT_* states.
    public static func state(_ code: Int) -> String {
        switch code {
        case 0: return "nop"
        case 1: return "down"
        case 2: return "init"
        case 3: return "armed"
        case 4: return "active"
        case 5: return "active-defer"
        default: return "state \(code)"
        }
    }

    /// `active_width` bits: 1 -> 1x, 2 -> 4x, 4 -> 8x, 8 -> 12x, 16 -> 2x.
    public static func lanes(_ code: Int) -> Int {
        [1: 1, 2: 4, 4: 8, 8: 12, 16: 2][code] ?? 0
    }

    /// `active_speed` bits, per lane Gb/s: SDR 1, DDR 2, QDR 4, FDR10 8, FDR 16, EDR 32, HDR 64, NDR 128.
    public static func laneGbps(_ code: Int) -> Double {
        let rates: [Int: Double] = [1: 2.5, 2: 5.0, 4: 10.0, 8: 10.3125, 16: 14.0625, 32: 25.78125, 64: 50.0, 128: 100.0]
        return rates[code] ?? 0
    }

    /// IBV_LINK_LAYER_*: unspecified (0) is InfiniBand on old kernels.
    public static func linkLayer(_ code: Int) -> LinkLayer {
        switch code {
        case 0, 1: return .infiniband
        case 2: return .ethernet
        default: return .unknown
        }
    }
}

extension Device {
    /// One line per port for `podgap env`: "port 1 active, InfiniBand, 4x 25.78 Gb/s = 103.12 Gb/s, MTU 4096, ib0".
    public var summaryLines: [String] {
        if let error { return ["\(uverbs): \(error)"] }
        guard !ports.isEmpty else { return ["no ports"] }
        return ports.map { port in
            var parts = ["port \(port.number) \(port.state)", port.linkLayer.rawValue]
            if port.width > 0 && port.laneGbps > 0 {
                parts.append("\(port.width)x \(DevicePort.format(port.laneGbps)) Gb/s = \(DevicePort.format(port.rateGbps)) Gb/s")
            }
            if port.activeMTU > 0 { parts.append("MTU \(port.activeMTU)") }
            if !port.netdevs.isEmpty { parts.append(port.netdevs.joined(separator: ",")) }
            if let gid = port.gids.first { parts.append("GID[\(gid.index)] \(gid.address)\(gid.type.map { " (\($0))" } ?? "")") }
            return parts.joined(separator: ", ")
        }
    }
}

extension DevicePort {
    /// 25.78125 -> "25.78", 100 -> "100".
    static func format(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%.2f", value)
    }
}

extension Array where Element: Equatable {
    /// The elements in their first order, each once (device and interface lists are short).
    public func uniqued() -> [Element] {
        reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }
}
