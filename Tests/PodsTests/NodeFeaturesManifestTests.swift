import Foundation
import Testing
import Yams

/// containers/k8s/nfd-daemonset.yaml: the DaemonSet that hands `podgap env --format nfd` to
/// Node Feature Discovery on every node.
@Suite struct NodeFeaturesManifestTests {
    @Test func daemonSetWritesTheFeatureFileWhereNFDReadsIt() throws {
        let path = ManifestTests.containers.appendingPathComponent("k8s/nfd-daemonset.yaml")
        let manifest = try #require(try Yams.load(yaml: String(contentsOf: path, encoding: .utf8)) as? [String: Any])
        #expect(manifest["kind"] as? String == "DaemonSet" && manifest["apiVersion"] as? String == "apps/v1")
        let pod = try #require(((manifest["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let volume = try #require((pod["volumes"] as? [[String: Any]])?.first)
        #expect((volume["hostPath"] as? [String: Any])?["path"] as? String == "/etc/kubernetes/node-feature-discovery/features.d")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let mount = try #require((container["volumeMounts"] as? [[String: Any]])?.first)
        #expect(mount["name"] as? String == volume["name"] as? String && mount["mountPath"] as? String == "/features.d")
        // Written under a dot name (NFD skips those), then renamed into place in one step.
        let script = try #require((container["args"] as? [String])?.first)
        #expect(script.contains("podgap env --format nfd > /features.d/.podgap"))
        #expect(script.contains("mv /features.d/.podgap /features.d/podgap"))
    }
}
