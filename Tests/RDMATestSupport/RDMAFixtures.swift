import RDMADevices

/// RDMA devices and ports as data: what Discovery would report on a host with adapters.
public enum RDMAFixtures {
    public static func port(_ number: Int, state: String = "active", link: LinkLayer = .infiniband, lane: Double = 25.78125,
                     width: Int = 4, netdevs: [String] = []) -> DevicePort {
        DevicePort(number: number, state: state, linkLayer: link, activeMTU: 4096, laneGbps: lane, width: width, lid: number,
             gids: [GID(index: 0, address: "fe80:0000:0000:0000:0002:c903:0031:7c01")], netdevs: netdevs)
    }

    public static func device(_ name: String, uverbs: Int = 0, ports: [DevicePort], node: Bool = true) -> Device {
        Device(name: name, uverbs: "uverbs\(uverbs)",
               node: node ? DeviceNode(path: "/dev/infiniband/uverbs\(uverbs)", major: 231, minor: 192 + uverbs) : nil,
               nodeGUID: "0002:c903:0031:7c00", firmware: "16.35.2000", vendorID: 0x02c9, vendorPartID: 4123, ports: ports)
    }
}
