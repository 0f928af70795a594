import CVerbs
import Foundation

/// Finds the RDMA devices of this machine through libibverbs, with what sysfs adds (GID types,
/// bound network interfaces) and the /dev/infiniband nodes a container would need.
public struct Discovery: Sendable {
    /// Where the kernel's RDMA class lives; tests point it elsewhere.
    public var sysfs = "/sys/class/infiniband"
    public var deviceFolder = "/dev/infiniband"

    public init(sysfs: String = "/sys/class/infiniband", deviceFolder: String = "/dev/infiniband") {
        self.sysfs = sysfs
        self.deviceFolder = deviceFolder
    }

    /// Every device libibverbs lists, each with its ports. An empty list is the normal answer on
    /// a machine without RDMA (no kernel support, no adapter, no provider); only a failure that
    /// is not absence throws. A device that cannot be opened is listed with its `error`.
    public func devices() throws -> [Device] {
        var count: Int32 = 0
        errno = 0
        guard let list = ibv_get_device_list(&count) else {
            // ENOSYS: the kernel has no uverbs ABI (no InfiniBand at all); ENOENT/ENODEV: nothing registered.
            if [ENOSYS, ENOENT, ENODEV, 0].contains(errno) { return [] }
            throw RDMAError.verbs(call: "ibv_get_device_list", reason: String(cString: strerror(errno)))
        }
        defer { ibv_free_device_list(list) }
        return (0..<Int(count)).compactMap { list[$0] }.map { describe($0) }
    }

    /// The rdma_cm node (connection manager), which librdmacm and so verbs-pingpong and UCX's
    /// rdmacm transport need beside the uverbs nodes.
    public func connectionManagerNode() -> DeviceNode? { node(named: "rdma_cm") }

    /// Why there is nothing to use, in words for "no RDMA device: ..."; nil when an active port exists.
    public func absenceReason(_ devices: [Device]) -> String? {
        if devices.contains(where: { !$0.activePorts.isEmpty }) { return nil }
        if devices.isEmpty {
            if !FileManager.default.fileExists(atPath: deviceFolder) {
                return "\(deviceFolder) is absent and libibverbs lists no device (this kernel or machine has no InfiniBand/RoCE)"
            }
            return "libibverbs lists no device (is the rdma-core provider for the adapter installed?)"
        }
        let states = devices.map { device in
            device.error.map { "\(device.name): \($0)" }
                ?? "\(device.name): " + device.ports.map { "port \($0.number) \($0.state)" }.joined(separator: ", ")
        }
        return "no port is active (\(states.joined(separator: "; ")))"
    }

    // MARK: - One device

    private func describe(_ device: UnsafeMutablePointer<ibv_device>) -> Device {
        let name = String(cString: ibv_get_device_name(device))
        let uverbs = withUnsafeBytes(of: device.pointee.dev_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var result = Device(name: name, uverbs: uverbs, node: node(named: uverbs), ports: [])
        guard let context = ibv_open_device(device) else {
            result.error = "ibv_open_device: \(String(cString: strerror(errno)))"
            return result
        }
        defer { ibv_close_device(context) }
        var attributes = ibv_device_attr()
        let status = ibv_query_device(context, &attributes)
        guard status == 0 else {
            result.error = "ibv_query_device: \(String(cString: strerror(status)))"
            return result
        }
        result.firmware = withUnsafeBytes(of: attributes.fw_ver) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        result.nodeGUID = Discovery.guidString(bigEndian: attributes.node_guid)
        result.vendorID = attributes.vendor_id
        result.vendorPartID = attributes.vendor_part_id
        let portCount = Int(attributes.phys_port_cnt)
        if portCount > 0 {
            result.ports = (1...portCount).map { port(context: context, device: name, number: $0) }
        }
        return result
    }

    private func port(context: UnsafeMutablePointer<ibv_context>, device: String, number: Int) -> DevicePort {
        var attributes = ibv_port_attr()
        guard cverbs_query_port(context, UInt8(number), &attributes) == 0 else {
            return DevicePort(number: number, state: "unqueryable", linkLayer: .unknown, activeMTU: 0, laneGbps: 0, width: 0)
        }
        let folder = "\(sysfs)/\(device)/ports/\(number)/gid_attrs"
        var gids: [GID] = []
        for index in 0..<Int(max(attributes.gid_tbl_len, 0)) {
            var gid = ibv_gid()
            guard ibv_query_gid(context, UInt8(number), Int32(index), &gid) == 0 else { continue }
            let bytes = withUnsafeBytes(of: gid.raw) { Array($0) }
            guard bytes.contains(where: { $0 != 0 }) else { continue }
            gids.append(GID(index: index, address: Discovery.gidString(bytes),
                            type: read("\(folder)/types/\(index)"), netdev: read("\(folder)/ndevs/\(index)")))
        }
        // RoCE names its interface per GID; IPoIB interfaces hang off the adapter's PCI device.
        var netdevs = gids.compactMap(\.netdev)
        netdevs += (try? FileManager.default.contentsOfDirectory(atPath: "\(sysfs)/\(device)/device/net"))?.sorted() ?? []
        return DevicePort(number: number,
                    state: PortAttributeCode.state(Int(attributes.state.rawValue)),
                    linkLayer: PortAttributeCode.linkLayer(Int(attributes.link_layer)),
                    activeMTU: PortAttributeCode.mtuBytes(Int(attributes.active_mtu.rawValue)),
                    laneGbps: PortAttributeCode.laneGbps(Int(attributes.active_speed)),
                    width: PortAttributeCode.lanes(Int(attributes.active_width)),
                    lid: Int(attributes.lid),
                    gids: gids,
                    netdevs: netdevs.uniqued())
    }

    func node(named name: String) -> DeviceNode? {
        let path = "\(deviceFolder)/\(name)"
        var info = stat()
        guard !name.isEmpty, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFCHR else { return nil }
        // glibc's major()/minor() are macros Swift cannot see; this is their arithmetic.
        let device = UInt64(info.st_rdev)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        return DeviceNode(path: path, major: Int(major), minor: Int(minor))
    }

    private func read(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    // MARK: - Formatting

    /// Sixteen bytes as sysfs writes a GID: "fe80:0000:0000:0000:0002:c903:0031:7c01".
    public static func gidString(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count - 1, by: 2)
            .map { String(format: "%02x%02x", bytes[$0], bytes[$0 + 1]) }
            .joined(separator: ":")
    }

    /// A node GUID (network byte order in memory) as ibv_devinfo prints it: "0002:c903:0031:7c00".
    public static func guidString(bigEndian value: UInt64) -> String {
        let host = UInt64(bigEndian: value)
        return stride(from: 48, through: 0, by: -16).map { String(format: "%04x", (host >> UInt64($0)) & 0xffff) }
            .joined(separator: ":")
    }
}
