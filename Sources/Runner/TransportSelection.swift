import RDMA

/// Which MPI transport a run asks Open MPI for: `--transport auto|ucx|tcp`.
public enum TransportRequest: String, CaseIterable, Sendable {
    /// UCX over RDMA between nodes when an active port exists, shared memory on one node, TCP otherwise.
    case auto
    /// UCX over the discovered RDMA ports; refused where there are none.
    case ucx
    /// TCP (ob1 + btl tcp) even where RDMA exists, over the RDMA port's own interface when it has
    /// one (IPoIB, or the RoCE Ethernet device): the comparison published studies make.
    case tcp
}

/// What a run will use and the `OMPI_MCA_*` / `UCX_*` variables that make Open MPI use it; they
/// must be set before MPI_Init reads them.
public struct TransportDecision: Equatable, Sendable {
    /// ucx, tcp, shared-memory, or environment (OMPI_MCA_* / UCX_* already set, by the user or a pod, stand).
    public var transport: String
    public var variables: [String: String]
    /// The reason, as records carry it in environment.transport.note.
    public var note: String

    public init(transport: String, variables: [String: String], note: String) {
        self.transport = transport; self.variables = variables; self.note = note
    }
}

public enum TransportSelection {
    /// Variables whose presence means the user chose the transport themselves.
    static let userChoiceVariables = ["OMPI_MCA_pml", "OMPI_MCA_btl", "UCX_NET_DEVICES"]

    /// Decides the transport from the discovered devices, whether every rank is on one node, and
    /// the variables already set (`auto` leaves an explicit choice alone). Throws
    /// `RDMAError.noDevice` when `ucx` is asked for and no port is active.
    public static func select(_ request: TransportRequest, devices: [Device], singleNode: Bool,
                              environment: [String: String] = [:]) throws -> TransportDecision {
        let ports = devices.flatMap { device in device.activePorts.map { (device: device.name, port: $0) } }
        let ucxDevices = ports.map { $0.port.ucxName(device: $0.device) }.joined(separator: ",")
        let adapters = ports.map(\.device).uniqued().joined(separator: ",")
        let netdevs = ports.flatMap(\.port.netdevs).uniqued()

        switch request {
        case .ucx:
            guard !ports.isEmpty else {
                throw RDMAError.noDevice(devices.isEmpty
                    ? "--transport ucx needs an active InfiniBand or RoCE port and this machine has no RDMA device"
                    : "--transport ucx needs an active port and none of \(devices.map(\.name).joined(separator: ", ")) is active")
            }
            return ucx(ports: ucxDevices, adapters: adapters, why: "asked for (--transport ucx)")
        case .tcp:
            var variables = ["OMPI_MCA_pml": "ob1", "OMPI_MCA_btl": "tcp,self"]
            var note = "tcp (ob1, btl tcp,self) forced by --transport tcp"
            if !netdevs.isEmpty && !singleNode {
                variables["OMPI_MCA_btl_tcp_if_include"] = netdevs.joined(separator: ",")
                note += ", over the RDMA ports' own interfaces \(netdevs.joined(separator: ","))"
            }
            return TransportDecision(transport: "tcp", variables: variables, note: note)
        case .auto:
            let chosen = userChoiceVariables.filter { environment[$0] != nil }
            if !chosen.isEmpty {
                return TransportDecision(transport: "environment", variables: [:],
                                         note: "left as set in the environment: " + chosen.map { "\($0)=\(environment[$0]!)" }.joined(separator: " "))
            }
            if singleNode {
                return TransportDecision(transport: "shared-memory", variables: [:],
                                         note: "one node: Open MPI's default (shared memory), RDMA not needed")
            }
            if !ports.isEmpty { return ucx(ports: ucxDevices, adapters: adapters, why: "RDMA ports active") }
            let why = devices.isEmpty ? "no RDMA device" : "no active RDMA port on \(devices.map(\.name).joined(separator: ", "))"
            return TransportDecision(transport: "tcp", variables: [:], note: "tcp between nodes: \(why)")
        }
    }

    /// Open MPI 4.1's pml ucx only offers itself for adapters named like `pml_ucx_devices`
    /// (default "mlx*"); naming the discovered ones lets RoCE adapters of other vendors in too.
    private static func ucx(ports: String, adapters: String, why: String) -> TransportDecision {
        TransportDecision(transport: "ucx",
                          variables: ["OMPI_MCA_pml": "ucx", "OMPI_MCA_pml_ucx_devices": adapters, "UCX_NET_DEVICES": ports],
                          note: "ucx over \(ports): \(why)")
    }
}
