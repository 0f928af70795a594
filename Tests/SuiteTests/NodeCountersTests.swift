import Foundation
import Records
import Testing
@testable import Suite

/// The nodes' counters a launch's host side reads, from fixture files: each node namespace's
/// /proc/net/dev summed over the nodes, the softirqs, and an unreadable namespace named.
@Suite struct NodeCountersTests {
    static func netDev(eth0: (bytes: Int, packets: Int), flannel: (bytes: Int, packets: Int)) -> String {
        """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
          eth0:    1000      10    0    0    0     0          0         0 \(eth0.bytes) \(eth0.packets)    0    0    0     0       0          0
        flannel.1:  500      5    0    0    0     0          0         0 \(flannel.bytes) \(flannel.packets)    0    0    0     0       0          0
        """
    }

    @Test func aLaunchsNodeCountersAreTheChangeOverItSummedOverTheNodes() throws {
        var packets = 100
        var reader = NodeCounters(namespaces: ["n0", "n1", "gone"])
        reader.readNetDev = { namespace in
            guard namespace != "gone" else { throw CounterParseError("ip netns exec gone cat /proc/net/dev: exit 1") }
            return NodeCountersTests.netDev(eth0: (packets * 138, packets), flannel: (packets * 74, packets))
        }
        var netRX = 1000
        let cpus = ProcessInfo.processInfo.processorCount
        reader.readFile = { path in
            switch path {
            case "/proc/softirqs":
                let columns = (0..<cpus).map { "CPU\($0)" }.joined(separator: " ")
                return "\(columns)\nNET_TX: " + Array(repeating: "2", count: cpus).joined(separator: " ")
                    + "\nNET_RX: \(netRX) " + Array(repeating: "100", count: cpus - 1).joined(separator: " ") + "\n"
            default: return nil
            }
        }
        let before = reader.snapshot()
        packets = 1100
        netRX = 1500
        let counters = LaunchCounters(from: before, to: reader.snapshot())
        let bytes = try #require(counters.values["net.eth0.tx_bytes"]), sent = try #require(counters.values["net.eth0.tx_packets"])
        // Two namespaces, each counted once: 1000 packets of 138 bytes on each node's underlay.
        #expect(sent.sum == 2000 && sent.count == 2 && bytes.sum == 2000 * 138)
        let flannel = try #require(counters.values["net.flannel.1.tx_bytes"])
        #expect(flannel.sum == 148_000, "\(flannel)")
        #expect(bytes.source == "/proc/net/dev in netns n0 eth0" || bytes.source == "/proc/net/dev in netns n1 eth0")
        #expect(counters.values["node.net_rx_softirqs"]?.sum == 500)
        #expect(counters.values["node.net_tx_softirqs"]?.sum == 0)
        #expect(counters.unavailable["net (netns gone)"] == "ip netns exec gone cat /proc/net/dev: exit 1")
        #expect(counters.unavailable["node.softirq_usec"] == "/proc/stat is not readable")
        #expect(counters.values["node.softirq_usec"] == nil)
    }

    /// On this machine: the host's own softirqs read, and a namespace that does not exist is
    /// unavailable with what `ip` said, never a crash.
    @Test func theHostsSoftirqsReadAndAMissingNamespaceIsUnavailable() {
        let snapshot = NodeCounters(namespaces: ["podgap-no-such-netns"]).snapshot()
        #expect(snapshot.count == 2)
        #expect(snapshot[1].samples["node.net_rx_softirqs"] != nil)
        #expect(snapshot[1].samples["node.softirq_usec"] != nil)
        #expect(snapshot[0].unavailable["net (netns podgap-no-such-netns)"]?.contains("podgap-no-such-netns") == true)
    }
}
