import Foundation
import Testing
import Records
@testable import Probes

@Suite struct CounterParsersTests {
    @Test func cgroupV1CPUStatIsInV2Units() throws {
        let v1 = "nr_periods 81\nnr_throttled 68\nthrottled_time 2500000\nnr_bursts 0\nburst_time 0\n"
        #expect(try CounterParsers.cpuStat(v1) == ["nr_periods": 81, "nr_throttled": 68, "throttled_usec": 2500])
    }

    @Test func cgroupV2CPUStat() throws {
        let v2 = "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\nnr_periods 10\nnr_throttled 3\nthrottled_usec 4500\n"
        #expect(try CounterParsers.cpuStat(v2) == ["nr_periods": 10, "nr_throttled": 3, "throttled_usec": 4500])
    }

    @Test func v2CPUStatWithoutCPUControllerIsUnavailable() {
        #expect(throws: CounterParseError.self) { try CounterParsers.cpuStat("usage_usec 1\nuser_usec 1\nsystem_usec 0\n") }
        #expect(throws: CounterParseError.self) { try CounterParsers.cpuStat("nr_periods ten\n") }
    }

    @Test func cgroupLocationFindsV1CPUAndV2() throws {
        let hybrid = "4:memory:/a\n2:cpu,cpuacct:/kubepods/pod1\n0::/user.slice\n"
        let location = try CounterParsers.cgroupLocation(hybrid)
        #expect(location.v1?.controllers == "cpu,cpuacct" && location.v1?.path == "/kubepods/pod1" && location.v2 == "/user.slice")
        #expect(location.cpuStatPaths(root: "/r") == ["/r/cpu,cpuacct/kubepods/pod1/cpu.stat", "/r/cpu/kubepods/pod1/cpu.stat",
                                                      "/r/user.slice/cpu.stat",
                                                      // A container's own cgroup, mounted at the root.
                                                      "/r/cpu,cpuacct/cpu.stat", "/r/cpu/cpu.stat", "/r/cpu.stat"])
        let v2 = try CounterParsers.cgroupLocation("0::/\n")
        #expect(v2.v1 == nil && v2.cpuStatPaths(root: "/r") == ["/r/cpu.stat"])
        #expect(location.identity == "cpu,cpuacct:/kubepods/pod1")
        #expect(throws: CounterParseError.self) { try CounterParsers.cgroupLocation("garbage\n") }
    }

    @Test func netDevPerInterface() throws {
        let text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:    3309      33    0    0    0     0          0         0     3309      33    0    0    0     0       0          0
              eth0: 86909763    1776    2    5    0     0          0         0    75428     923    1    4    0     0       0          0
            """
        let interfaces = try CounterParsers.netDev(text)
        #expect(interfaces["eth0"] == ["rx_bytes": 86909763, "rx_packets": 1776, "rx_errors": 2, "rx_drops": 5,
                                       "tx_bytes": 75428, "tx_packets": 923, "tx_errors": 1, "tx_drops": 4])
        #expect(interfaces["lo"]?["tx_packets"] == 33)
        #expect(throws: CounterParseError.self) { try CounterParsers.netDev("eth0: 1 2 3\n") }
        #expect(throws: CounterParseError.self) {
            try CounterParsers.netDev(text.components(separatedBy: "\n").prefix(2).joined(separator: "\n") + "\n  eth0: 1 2 x\n")
        }
    }

    @Test func snmpTCPSegments() throws {
        let text = """
            Ip: Forwarding DefaultTTL
            Ip: 1 64
            Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
            Tcp: 1 200 120000 -1 11 2 0 0 0 1780 921 7 0 0 0
            """
        #expect(try CounterParsers.snmpTCP(text) == ["in_segs": 1780, "out_segs": 921, "retrans_segs": 7])
        #expect(throws: CounterParseError.self) { try CounterParsers.snmpTCP("Tcp: InSegs OutSegs\nTcp: 1\n") }
        #expect(throws: CounterParseError.self) { try CounterParsers.snmpTCP("Ip: 1\n") }
    }

    @Test func procStatSoftirqAndStealOnTheAllowedCPUs() throws {
        let text = "cpu  25358 0 4746 41621 732 0 59 189 0 0\ncpu0 12059 0 2195 21933 37 0 17 99 0 0\ncpu1 13299 0 2551 19687 694 0 41 89 0 0\nintr 1 2\n"
        let one = try CounterParsers.procStat(text, cpus: [1])
        #expect(one.softirq == 41 && one.steal == 89)
        let both = try CounterParsers.procStat(text, cpus: [0, 1])
        #expect(both.softirq == 58 && both.steal == 188)
        #expect(throws: CounterParseError.self) { try CounterParsers.procStat(text, cpus: [2]) }
        #expect(throws: CounterParseError.self) { try CounterParsers.procStat("cpu0 1 2 3 4\n", cpus: [0]) }
    }

    @Test func softirqsNetColumnsOnTheAllowedCPUs() throws {
        let text = "                    CPU0       CPU1       \n          HI:          0          1\n      NET_TX:          3          1\n      NET_RX:        803       1505\n"
        let counts = try CounterParsers.softirqs(text, cpus: [1])
        #expect(counts.netRX == 1505 && counts.netTX == 1)
        #expect(try CounterParsers.softirqs(text, cpus: [0, 1]).netRX == 2308)
        #expect(throws: CounterParseError.self) { try CounterParsers.softirqs(text, cpus: [3]) }
        #expect(throws: CounterParseError.self) { try CounterParsers.softirqs("CPU0\n NET_TX: 1\n", cpus: [0]) }
    }
}

@Suite struct SystemCountersTests {
    /// A machine of fixtures: v1 cgroup, one interface, two CPUs.
    static func files(cpuStat: String?) -> [String: String] {
        var files = [
            "/proc/self/cgroup": "1:cpu:/pod\n0::/\n",
            "/proc/net/dev": "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n  eth0: 100 2 0 0 0 0 0 0 200 4 0 0 0 0 0 0\n",
            "/proc/net/snmp": "Tcp: InSegs OutSegs RetransSegs\nTcp: 5 6 0\n",
            "/proc/stat": "cpu0 1 0 1 1 0 0 3 4 0 0\ncpu1 1 0 1 1 0 0 5 6 0 0\n",
            "/proc/softirqs": "  CPU0 CPU1\n NET_TX: 1 2\n NET_RX: 3 4\n",
        ]
        files["/sys/fs/cgroup/cpu/pod/cpu.stat"] = cpuStat
        return files
    }

    @Test func aMalformedFileMakesOnlyItsCountersUnavailable() {
        let files = SystemCountersTests.files(cpuStat: "nr_periods x\n")
        let snapshot = SystemCounters(read: { files[$0] }, cpus: [0, 1]).snapshot()
        for name in SystemCounters.cgroupNames { #expect(snapshot.unavailable[name]?.contains("malformed") == true) }
        #expect(snapshot.samples["net.eth0.tx_bytes"]?.value == 200)
        #expect(snapshot.samples["tcp.out_segs"]?.value == 6)
        #expect(snapshot.samples["node.net_rx_softirqs"]?.value == 7)
        #expect(snapshot.samples["rusage.minor_faults"] != nil)
    }

    @Test func aContainerReadsItsCgroupAtTheMountRoot() {
        // runc without a cgroup namespace: /proc/self/cgroup names the host path, which the pod's
        // /sys/fs/cgroup does not hold; its own cgroup is the mount's root.
        var files = SystemCountersTests.files(cpuStat: nil)
        files["/sys/fs/cgroup/cpu/cpu.stat"] = "nr_periods 81\nnr_throttled 68\nthrottled_time 5000\n"
        let snapshot = SystemCounters(read: { files[$0] }, cpus: [0]).snapshot()
        #expect(snapshot.samples["cgroup.nr_throttled"]?.value == 68)
        #expect(snapshot.samples["cgroup.nr_throttled"]?.scope.contains("cpu:/pod@") == true)
    }

    @Test func missingFilesAreUnavailableWithTheirPath() {
        let files = SystemCountersTests.files(cpuStat: "nr_periods 3\nnr_throttled 1\nthrottled_time 2000\n")
        let snapshot = SystemCounters(read: { $0 == "/proc/net/snmp" ? nil : files[$0] }, cpus: [0]).snapshot()
        #expect(snapshot.samples["cgroup.throttled_usec"]?.value == 2)
        #expect(snapshot.samples["cgroup.throttled_usec"]?.source == "/sys/fs/cgroup/cpu/pod/cpu.stat")
        #expect(snapshot.unavailable["tcp.in_segs"] == "/proc/net/snmp is not readable")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        #expect(snapshot.samples["node.softirq_usec"]?.value == 3 * 1e6 / ticks)
    }

    @Test func thisMachineReadsItsRealCountersAndSaysWhyHardwareIsMissing() throws {
        let counters = SystemCounters()
        let before = counters.snapshot()
        var sink = 0
        for index in 0..<1_000_000 { sink &+= index }
        _ = try String(contentsOfFile: "/proc/net/dev", encoding: .utf8)
        let delta = counters.snapshot().since(before)
        #expect(sink > 0)
        #expect(delta.samples["region.wall_usec"].map { $0.value > 0 } == true)
        #expect(delta.samples["rusage.voluntary_switches"] != nil)
        #expect(delta.samples.keys.contains { $0.hasPrefix("net.lo.") })
        let pmu = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/event_source/devices"))?
            .contains { $0.hasPrefix("cpu") } ?? false
        if !pmu {
            // No PMU (this VM): every hardware counter says so, none reads zero.
            for name in HardwareCounters.names {
                #expect(delta.unavailable[name]?.hasPrefix("no PMU") == true)
                #expect(delta.samples[name] == nil)
            }
        } else {
            for name in HardwareCounters.names { #expect(delta.samples[name] != nil || delta.unavailable[name] != nil) }
        }
        // The same syscall path opens a software event even without a PMU.
        #expect(HardwareCounters.softwareTaskClock().map { $0 > 0 } == true)
    }
}
