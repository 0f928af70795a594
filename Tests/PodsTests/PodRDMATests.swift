import Foundation
import Testing
@testable import Pods
import RDMADevices
import RDMATestSupport

/// What `pods up --rdma` adds to a runc config, inspected as the JSON runc would read.
@Suite struct PodRDMATests {
    let devices = [RDMAFixtures.device("mlx5_0", uverbs: 0, ports: [RDMAFixtures.port(1)]),
                   RDMAFixtures.device("mlx5_1", uverbs: 1, ports: [RDMAFixtures.port(1, link: .ethernet)])]
    let connectionManager = DeviceNode(path: "/dev/infiniband/rdma_cm", major: 10, minor: 58)

    @Test func additionsNameEveryNodeWithItsNumbers() throws {
        let additions = try PodRDMA(devices: devices, connectionManager: connectionManager,
                                    providerFolders: ["/etc/libibverbs.d"])
        let nodes = additions.edits.deviceNodes
        #expect(nodes.map(\.path) == ["/dev/infiniband/uverbs0", "/dev/infiniband/uverbs1", "/dev/infiniband/rdma_cm"])
        #expect(nodes.map { [$0.major, $0.minor] } == [[231, 192], [231, 193], [10, 58]])
        #expect(nodes.allSatisfy { $0.type == "c" && $0.fileMode == 0o666 && $0.permissions == "rwm" })
        #expect(additions.capabilities == ["CAP_IPC_LOCK"])
        #expect(additions.rlimits == [PodRDMA.OCIRlimit(type: "RLIMIT_MEMLOCK", hard: .max, soft: .max)])
        #expect(additions.edits.mounts.map(\.containerPath) == ["/etc/libibverbs.d"])
        #expect(additions.edits.mounts.first?.options?.contains("ro") == true)
    }

    /// Merged into the config `runc spec` generates (or a copy of its shape where runc is absent).
    @Test func mergedConfigCarriesDevicesCapabilitiesAndRlimits() throws {
        let base = try runcSpec()
        let additions = try PodRDMA(devices: devices, connectionManager: connectionManager, providerFolders: ["/etc/libibverbs.d"])
        let merged = try additions.merged(into: base)
        let config = try #require(try JSONSerialization.jsonObject(with: merged) as? [String: Any])

        let linux = try #require(config["linux"] as? [String: Any])
        let nodes = try #require(linux["devices"] as? [[String: Any]])
        #expect(nodes.compactMap { $0["path"] as? String }.sorted()
                == ["/dev/infiniband/rdma_cm", "/dev/infiniband/uverbs0", "/dev/infiniband/uverbs1"])
        let uverbs1 = try #require(nodes.first { $0["path"] as? String == "/dev/infiniband/uverbs1" })
        #expect(uverbs1["type"] as? String == "c")
        #expect(uverbs1["major"] as? Int == 231)
        #expect(uverbs1["minor"] as? Int == 193)

        // The deny-all rule runc spec starts with stays first; the allows follow it.
        let rules = try #require((linux["resources"] as? [String: Any])?["devices"] as? [[String: Any]])
        #expect(rules.first?["allow"] as? Bool == false)
        #expect(rules.dropFirst().map { "\($0["major"] as? Int ?? -1):\($0["minor"] as? Int ?? -1) \($0["access"] as? String ?? "")" }
                == ["231:192 rwm", "231:193 rwm", "10:58 rwm"])

        let process = try #require(config["process"] as? [String: Any])
        let sets = try #require(process["capabilities"] as? [String: [String]])
        for name in ["bounding", "effective", "inheritable", "permitted", "ambient"] {
            #expect(sets[name]?.contains("CAP_IPC_LOCK") == true, "CAP_IPC_LOCK missing from \(name)")
        }
        #expect(sets["bounding"]?.contains("CAP_KILL") == true, "runc spec's own capabilities were lost")

        let rlimits = try #require(process["rlimits"] as? [[String: Any]])
        #expect(rlimits.compactMap { $0["type"] as? String } == ["RLIMIT_NOFILE", "RLIMIT_MEMLOCK"])
        // Unlimited is the largest uint64, which must survive the JSON round trip exactly.
        let text = String(decoding: merged, as: UTF8.self)
        #expect(text.contains("\"hard\" : 18446744073709551615"))
        #expect(text.contains("\"soft\" : 18446744073709551615"))

        let mounts = try #require(config["mounts"] as? [[String: Any]])
        #expect(mounts.last?["destination"] as? String == "/etc/libibverbs.d")
        #expect(mounts.count > 1, "runc spec's own mounts were lost")
    }

    @Test func mergingTwiceAddsNothingTwice() throws {
        let additions = try PodRDMA(devices: devices, connectionManager: connectionManager)
        let once = try additions.merged(into: try runcSpec())
        let twice = try additions.merged(into: once)
        #expect(once == twice)
    }

    @Test func refusesWithoutDevices() throws {
        let absent = "/tmp/podgap-rdma-absent-\(UUID().uuidString)"
        do {
            try PodRDMA.requireDevices([], connectionManager: nil, deviceFolder: absent)
            Issue.record("no refusal without \(absent)")
        } catch let error as RDMAError {
            #expect(error.description == "no RDMA device: \(absent) is absent; \(PodRDMA.podsNeed)")
        }
        // The folder exists but holds no node of a listed device (here: /tmp itself).
        #expect(throws: RDMAError.self) {
            try PodRDMA.requireDevices([RDMAFixtures.device("mlx5_0", ports: [], node: false)], connectionManager: nil, deviceFolder: "/tmp")
        }
        #expect(throws: RDMAError.self) {
            try PodRDMA(devices: [RDMAFixtures.device("mlx5_0", ports: [], node: false)], connectionManager: connectionManager)
        }
        // On this machine the real check refuses exactly when /dev/infiniband is missing.
        if !FileManager.default.fileExists(atPath: "/dev/infiniband") {
            do {
                _ = try PodRDMA.host(devices: [], connectionManager: nil)
                Issue.record("PodRDMA.host found devices without /dev/infiniband")
            } catch let error as RDMAError {
                #expect(error.description == "no RDMA device: /dev/infiniband is absent; \(PodRDMA.podsNeed)")
            }
        }
    }

    /// `runc spec`'s default config.json, as the pods' bundles start from.
    private func runcSpec() throws -> Data {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-rdma-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let runc = ["/usr/sbin/runc", "/usr/bin/runc"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try #require(runc != nil, "runc is not installed (scripts/setup installs it)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: runc!)
        process.arguments = ["spec"]
        process.currentDirectoryURL = folder
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return try Data(contentsOf: folder.appendingPathComponent("config.json"))
    }
}
