import Foundation
import Testing
import Yams

/// containers/k8s/rdma-mpijob.yaml: what a real cluster needs for pod-rdma, parsed and checked.
@Suite struct RDMAManifestTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("containers/k8s/rdma-mpijob.yaml")

    @Test func workersAskForAnRDMADeviceASecondaryNetworkAndIPCLock() throws {
        let documents = try Yams.load_all(yaml: try String(contentsOf: Self.file, encoding: .utf8)).compactMap { $0 as? [String: Any] }
        #expect(documents.map { $0["kind"] as? String } == ["NetworkAttachmentDefinition", "MPIJob"])
        let attachment = try #require((documents[0]["metadata"] as? [String: Any])?["name"] as? String)
        let config = try #require((documents[0]["spec"] as? [String: Any])?["config"] as? String)
        let cni = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])
        #expect(cni["type"] as? String == "macvlan")

        let replicas = try #require((documents[1]["spec"] as? [String: Any])?["mpiReplicaSpecs"] as? [String: Any])
        let worker = try #require((replicas["Worker"] as? [String: Any])?["template"] as? [String: Any])
        let annotations = (worker["metadata"] as? [String: Any])?["annotations"] as? [String: Any]
        #expect(annotations?["k8s.v1.cni.cncf.io/networks"] as? String == attachment)
        let container = try #require(((worker["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first)
        let resources = try #require(container["resources"] as? [String: [String: Any]])
        #expect(resources["requests"]?["rdma/hca_shared_devices_a"] as? Int == 1)
        #expect(resources["limits"]?["rdma/hca_shared_devices_a"] as? Int == 1)
        let added = ((container["securityContext"] as? [String: Any])?["capabilities"] as? [String: Any])?["add"] as? [String]
        #expect(added == ["IPC_LOCK"])

        let launcher = try #require((replicas["Launcher"] as? [String: Any])?["template"] as? [String: Any])
        let launcherContainer = try #require(((launcher["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first)
        let arguments = try #require(launcherContainer["args"] as? [String])
        let transport = try #require(arguments.firstIndex(of: "--transport"))
        #expect(arguments[transport + 1] == "ucx")
    }
}
