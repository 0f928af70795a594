import Foundation
import Launch
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

    /// A node whose underlay counts what the test sends.
    final class Wire: @unchecked Sendable {
        private let lock = NSLock()
        private var packets = 0
        func send(_ count: Int) { lock.withLock { packets += count } }
        var reader: NodeCounters {
            var reader = NodeCounters(namespaces: ["n0"])
            reader.readNetDev = { [self] _ in
                let sent = lock.withLock { packets }
                return NodeCountersTests.netDev(eth0: (sent * 138, sent), flannel: (sent * 74, sent))
            }
            return reader
        }
    }

    static func gateFolder() -> (folder: URL, log: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-gates-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let log = folder.appendingPathComponent("launch.log").path
        FileManager.default.createFile(atPath: log, contents: nil)
        return (folder, log)
    }

    static func say(_ line: String, in log: String) throws {
        try AppendingFile(log, followingLinks: false).write(Data((line + "\n").utf8))
    }

    /// A combined launch of three kernels: rank 0 waits at each gate as `podgap run sequence
    /// --gate` does, the suite reads the nodes there and opens it; each kernel's part holds its
    /// own packets only, and the parts come to no more than the launch.
    @Test func eachKernelOfACombinedLaunchGetsTheNodesCountersOverItsOwnPart() throws {
        let (folder, log) = NodeCountersTests.gateFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let wire = Wire(), gates = folder.appendingPathComponent("gates").path
        let counting = NodeCounting(wire.reader, kernels: 3, hostFolder: gates, log: log)
        #expect(counting.hostFolder == gates)
        for (kernel, packets) in [100, 1000, 10].enumerated() {
            wire.send(packets)
            guard kernel < 2 else { break }
            try NodeCountersTests.say(KernelSequence.gateLine(kernel + 1), in: log)
            let file = gates + "/" + KernelSequence.gateFile(kernel + 1)
            let deadline = Date().addingTimeInterval(KernelSequence.gateWait)
            while !FileManager.default.fileExists(atPath: file) && Date() < deadline { usleep(1_000) }
            #expect(FileManager.default.fileExists(atPath: file), "gate \(kernel + 1) opened")
        }
        wire.send(7) // MPI's end, after the last kernel
        let (launch, parts) = counting.finish()
        let sent = try #require(parts).map { $0.values["net.eth0.tx_packets"]?.sum }
        #expect(sent == [100, 1000, 17])
        #expect(launch.values["net.eth0.tx_packets"]?.sum == 1117)
        let walls = try #require(parts).compactMap { $0.values["region.wall_usec"]?.sum }
        let launchWall = try #require(launch.values["region.wall_usec"]?.sum)
        #expect(walls.count == 3 && walls.allSatisfy { $0 > 0 } && walls.reduce(0, +) <= launchWall)
        #expect(!FileManager.default.fileExists(atPath: gates), "the gate folder is removed")
    }

    /// A gate rank 0 gave up on (or never reached) leaves the kernels on either side of it without
    /// a part, never with one that holds a neighbour's traffic; one kernel has no gates at all.
    @Test func aGateNotReadWhileTheRanksWaitedLeavesItsKernelsWithoutAPart() throws {
        let (folder, log) = NodeCountersTests.gateFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let wire = Wire(), gates = folder.appendingPathComponent("gates").path
        let counting = NodeCounting(wire.reader, kernels: 3, hostFolder: gates, log: log)
        wire.send(5)
        try NodeCountersTests.say(KernelSequence.missedGateLine(1), in: log)
        try NodeCountersTests.say("podgap run sequence: gate 2" + " waiting", in: log)
        let file = gates + "/" + KernelSequence.gateFile(2)
        let deadline = Date().addingTimeInterval(KernelSequence.gateWait)
        while !FileManager.default.fileExists(atPath: file) && Date() < deadline { usleep(1_000) }
        wire.send(3)
        let parts = try #require(counting.finish().parts)
        #expect(parts[0].values.isEmpty && parts[1].values.isEmpty)
        #expect(parts[0].unavailable["kernel part"]?.contains("gate 1") == true)
        #expect(parts[2].values["net.eth0.tx_packets"]?.sum == 3)

        let alone = NodeCounting(wire.reader, kernels: 1, hostFolder: folder.appendingPathComponent("none").path, log: log)
        #expect(alone.hostFolder == nil && alone.finish().parts == nil)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("none").path))
    }
}
