import Foundation

/// How each environment of the comparison is launched, and what it needs from the machine.
public enum LaunchMethod: Equatable, Sendable {
    /// mpirun (or srun) on this host, with this byte-transfer layer.
    case native(btl: String, pml: String?)
    /// `podgap pods` with this network (`bare`: node namespaces only, no containers), on `nodes` nodes.
    case pods(network: String, nodes: Int)
}

public struct EnvironmentKind: Sendable {
    public var name: String
    public var method: LaunchMethod
    public var needsRDMA: Bool

    public static let all: [EnvironmentKind] = [
        .init(name: "native-shm", method: .native(btl: "self,vader", pml: nil), needsRDMA: false),
        .init(name: "native-tcp", method: .native(btl: "tcp,self", pml: nil), needsRDMA: false),
        .init(name: "native-2node", method: .pods(network: "bare", nodes: 2), needsRDMA: false),
        .init(name: "pod-host", method: .pods(network: "host", nodes: 1), needsRDMA: false),
        .init(name: "pod-bridge", method: .pods(network: "bridge", nodes: 1), needsRDMA: false),
        .init(name: "pod-routed", method: .pods(network: "routed", nodes: 2), needsRDMA: false),
        .init(name: "pod-overlay", method: .pods(network: "overlay", nodes: 2), needsRDMA: false),
        .init(name: "native-rdma", method: .native(btl: "self,vader", pml: "ucx"), needsRDMA: true),
        .init(name: "pod-rdma", method: .pods(network: "host", nodes: 1), needsRDMA: true),
    ]

    public static func named(_ name: String) -> EnvironmentKind? { all.first { $0.name == name } }
    public static var names: [String] { all.map(\.name) }

    /// Where RDMA devices appear on Linux; absent on machines without InfiniBand or RoCE.
    public static var rdmaPresent: Bool { FileManager.default.fileExists(atPath: "/dev/infiniband") }
}
