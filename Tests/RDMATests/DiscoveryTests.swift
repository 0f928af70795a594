import Foundation
import Testing
import RDMATestSupport
@testable import RDMA

/// Discovery against this machine's libibverbs, and the decoding of what it reports.
@Suite struct DiscoveryTests {
    /// Where the machine has no RDMA (CI), the real call comes back empty and without error;
    /// where it has some, each device describes itself.
    @Test func listingDevicesNeverFailsForAbsence() throws {
        let devices = try Discovery().devices()
        if !FileManager.default.fileExists(atPath: "/sys/class/infiniband") {
            #expect(devices.isEmpty)
        }
        for device in devices {
            #expect(!device.name.isEmpty)
            #expect(device.error != nil || !device.ports.isEmpty)
        }
    }

    @Test func absenceIsExplainedAndActivePortsAreNotAbsence() throws {
        let missing = "/tmp/podgap-rdma-absent-\(UUID().uuidString)"
        let discovery = Discovery(sysfs: missing, deviceFolder: missing)
        let none = try #require(discovery.absenceReason([]))
        #expect(none.contains("\(missing) is absent"))

        let down = RDMAFixtures.device("mlx5_0", ports: [RDMAFixtures.port(1, state: "down")])
        let allDown = try #require(discovery.absenceReason([down]))
        #expect(allDown.contains("mlx5_0: port 1 down"))

        let up = RDMAFixtures.device("mlx5_1", ports: [RDMAFixtures.port(1)])
        #expect(discovery.absenceReason([down, up]) == nil)
    }

    /// A GPU host's /dev/infiniband can hold only rdma_cm: a folder, but no adapter. Absence is
    /// then what libibverbs lists, not the folder.
    @Test func aDeviceFolderWithoutAdapterIsAbsence() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-rdma-cm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        FileManager.default.createFile(atPath: folder.appendingPathComponent("rdma_cm").path, contents: nil)
        let discovery = Discovery(sysfs: folder.path + "/sys", deviceFolder: folder.path)
        #expect(discovery.absenceReason([]) == "libibverbs lists no device (is the rdma-core provider for the adapter installed?)")
    }

    /// stat's device numbers decoded by hand (glibc's major/minor are macros Swift cannot see):
    /// nodes made by coreutils' mknod, read back, including a minor above 255 that glibc splits.
    @Test(.enabled(if: geteuid() == 0, "creating device nodes needs root (CAP_MKNOD)"))
    func deviceNodesCarryTheirNumbers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-rdma-dev-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, major, minor) in [("rdma_cm", 10, 123), ("uverbs7", 231, 300), ("uverbs8", 4095, 1_048_575)] {
            let made = Process()
            made.executableURL = URL(fileURLWithPath: "/usr/bin/mknod")
            made.arguments = [folder.appendingPathComponent(name).path, "c", String(major), String(minor)]
            try made.run()
            made.waitUntilExit()
            try #require(made.terminationStatus == 0, "mknod \(name) failed")
        }
        #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent("uverbs9").path, contents: Data()))
        let discovery = Discovery(deviceFolder: folder.path)
        #expect(discovery.connectionManagerNode() == DeviceNode(path: folder.appendingPathComponent("rdma_cm").path, major: 10, minor: 123))
        #expect(discovery.node(named: "uverbs7").map { [$0.major, $0.minor] } == [231, 300])
        #expect(discovery.node(named: "uverbs8").map { [$0.major, $0.minor] } == [4095, 1_048_575])
        // A regular file is not a device node, and a missing one is nil.
        #expect(discovery.node(named: "uverbs9") == nil)
        #expect(discovery.node(named: "uverbs10") == nil)
    }

    @Test func portCodesDecodeToUnits() {
        #expect((1...5).map(PortAttributeCode.mtuBytes) == [256, 512, 1024, 2048, 4096])
        #expect(PortAttributeCode.mtuBytes(0) == 0)
        #expect(PortAttributeCode.state(4) == "active")
        #expect(PortAttributeCode.state(1) == "down")
        #expect(PortAttributeCode.lanes(2) == 4)
        #expect(PortAttributeCode.lanes(16) == 2)
        #expect(PortAttributeCode.laneGbps(32) == 25.78125)
        #expect(PortAttributeCode.laneGbps(128) == 100)
        #expect(PortAttributeCode.linkLayer(2) == .ethernet)
        #expect(PortAttributeCode.linkLayer(0) == .infiniband)
        let edr = RDMAFixtures.port(1, lane: PortAttributeCode.laneGbps(32), width: PortAttributeCode.lanes(2))
        #expect(edr.rateGbps == 103.125)
    }

    @Test func addressesAreWrittenAsSysfsAndIbvDevinfoDo() {
        let gid: [UInt8] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x02, 0xc9, 0x03, 0x00, 0x31, 0x7c, 0x01]
        #expect(Discovery.gidString(gid) == "fe80:0000:0000:0000:0002:c903:0031:7c01")
        // node_guid arrives in network byte order.
        #expect(Discovery.guidString(bigEndian: UInt64(0x0002_c903_0031_7c00).bigEndian) == "0002:c903:0031:7c00")
    }

    @Test func summaryLinesNameEveryPort() {
        let device = RDMAFixtures.device("mlx5_0", ports: [
            RDMAFixtures.port(1, lane: 25.78125, width: 4, netdevs: ["ib0"]),
            RDMAFixtures.port(2, state: "down"),
        ])
        #expect(device.summaryLines == [
            "port 1 active, InfiniBand, 4x 25.78 Gb/s = 103.12 Gb/s, MTU 4096, ib0, GID[0] fe80:0000:0000:0000:0002:c903:0031:7c01",
            "port 2 down, InfiniBand, 4x 25.78 Gb/s = 103.12 Gb/s, MTU 4096, GID[0] fe80:0000:0000:0000:0002:c903:0031:7c01",
        ])
        var broken = device
        broken.error = "ibv_open_device: Permission denied"
        #expect(broken.summaryLines == ["uverbs0: ibv_open_device: Permission denied"])
    }
}
