import Foundation
import Records
import Testing

/// The nodes' counters of a real suite: native-2node and pod-overlay on two emulated nodes, each
/// launch's records carrying what the nodes' namespaces counted (`counters.launch`), and the WHY
/// section reading VXLAN's 50 bytes per packet from them.
@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct LaunchCountersTests {
    static func namespaces() throws -> Set<String> {
        let listed = try Shell.run("/usr/bin/env", ["ip", "netns", "list"], environment: ProcessInfo.processInfo.environment)
        return Set(listed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    @Test func aSuitesRecordsCarryTheNodesCountersAndVXLANsFiftyBytes() throws {
        try PodsHarness.requireImage()
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = try Self.namespaces()
        let file = folder.appendingPathComponent("nodes.yaml")
        try """
        name: nodes
        rounds: 1
        startup: false
        baseline: native-2node
        environments: [native-2node, pod-overlay]
        kernels:
          - allreduce: {sizes: "4", iterations: 300, warmup: 10}
        """.write(to: file, atomically: true, encoding: .utf8)
        let results = folder.appendingPathComponent("results")
        let suite = try Shell.run(Shell.podgap, ["suite", file.path, "--results", results.path], timeout: 240)
        #expect(suite.status == 0, "\(suite.stderr.suffix(800))")
        let run = URL(fileURLWithPath: suite.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        func launch(_ environment: String) throws -> LaunchCounters {
            let records = try RecordReader.read(run.appendingPathComponent("\(environment).jsonl").path)
            #expect(records.count == 1)
            return try #require(records.first?.counters?.launch)
        }
        let native = try launch("native-2node"), overlay = try launch("pod-overlay")
        for counters in [native, overlay] {
            #expect(counters.unavailable.isEmpty, "\(counters.unavailable)")
            #expect(counters.values["net.eth0.tx_packets"].map { $0.count == 2 && $0.sum > 600 } == true, "both nodes, every message")
            #expect((counters.values["node.net_rx_softirqs"]?.sum ?? 0) > 0)
        }
        #expect(native.values["net.flannel.1.tx_packets"] == nil)
        // Every packet flannel.1 sent left on the underlay 64 bytes larger (the inner Ethernet
        // header flannel.1 does not count, and VXLAN's 50); the underlay's few packets that are
        // not VXLAN (at most a 1514-byte frame each) add their bytes on top.
        let underlay = try #require(overlay.values["net.eth0.tx_bytes"]?.sum), device = try #require(overlay.values["net.flannel.1.tx_bytes"]?.sum)
        let packets = try #require(overlay.values["net.flannel.1.tx_packets"]?.sum)
        let others = try #require(overlay.values["net.eth0.tx_packets"]?.sum) - packets
        let vxlan = (underlay - device) / packets - 14
        #expect(others >= 0 && others < packets / 100)
        #expect(vxlan >= 50 && vxlan <= 50 + others * 1514 / packets, "\(vxlan), \(others) packets not VXLAN")

        let explain = try Shell.run(Shell.podgap, ["explain", run.path])
        #expect(explain.status == 0, "\(explain.stderr)")
        #expect(explain.stdout.range(of: #"\+50(\.\d)? VXLAN bytes/packet \(1 round, no interval\)"#, options: .regularExpression) != nil,
                "\(explain.stdout)")
        #expect(try Self.namespaces().subtracting(before).isEmpty, "the suite's node namespaces are gone")
    }
}
