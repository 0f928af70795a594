import Foundation
import Records
import Spawn

/// Reads the node-level counters of a launch on the host, before and after it: what a pod cannot
/// read from inside (its node's namespace, where VXLAN's outer headers are added). Every emulated
/// node's network namespace (`/proc/net/dev` through `ip netns exec`: a host tool in a namespace
/// the suite made, reading no file a pod can write) and the machine's softirqs on every CPU.
struct NodeCounters {
    /// The emulated nodes' named network namespaces (none for native launches: their node is the
    /// host, whose interfaces carry the machine's other traffic too).
    let namespaces: [String]
    /// Reads a host file (`/proc/stat`, `/proc/softirqs`); injected by tests.
    var readFile: (String) -> String? = { path in FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }
    /// `/proc/net/dev` as seen inside a namespace; injected by tests.
    var readNetDev: (String) throws -> String = NodeCounters.netDev(inNamespace:)

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Every counter now, one reading per node namespace (their interfaces share names) and one
    /// for the machine, in that order; each unreadable counter `unavailable` with why (the launch
    /// goes on).
    func snapshot() -> [CounterSnapshot] {
        namespaces.map { namespace in
            do {
                return CounterSnapshot(samples: try CounterParsers.netDevSamples(try readNetDev(namespace),
                                                                                source: "/proc/net/dev in netns \(namespace)",
                                                                                scope: "netns:\(namespace)"))
            } catch {
                return CounterSnapshot(unavailable: ["net (netns \(namespace))": "\(error)"])
            }
        } + [machine()]
    }

    /// The machine's softirqs, on every CPU: the emulated nodes share them.
    private func machine() -> CounterSnapshot {
        var snapshot = CounterSnapshot()
        let cpus = Array(0..<ProcessInfo.processInfo.processorCount)
        guarded(["node.softirq_usec"], into: &snapshot) {
            guard let text = readFile("/proc/stat") else { throw CounterParseError("/proc/stat is not readable") }
            let ticks = try CounterParsers.procStat(text, cpus: cpus).softirq
            return ["node.softirq_usec": CounterSample(value: ticks * 1e6 / NodeCounters.ticksPerSecond, unit: "microseconds",
                                                       source: "/proc/stat, every CPU", scope: "node")]
        }
        guarded(["node.net_rx_softirqs", "node.net_tx_softirqs"], into: &snapshot) {
            guard let text = readFile("/proc/softirqs") else { throw CounterParseError("/proc/softirqs is not readable") }
            let counts = try CounterParsers.softirqs(text, cpus: cpus)
            return ["node.net_rx_softirqs": CounterSample(value: counts.netRX, unit: "softirqs", source: "/proc/softirqs, every CPU", scope: "node"),
                    "node.net_tx_softirqs": CounterSample(value: counts.netTX, unit: "softirqs", source: "/proc/softirqs, every CPU", scope: "node")]
        }
        return snapshot
    }

    private func guarded(_ names: [String], into snapshot: inout CounterSnapshot, _ body: () throws -> [String: CounterSample]) {
        do { snapshot.samples.merge(try body()) { $1 } } catch {
            for name in names { snapshot.unavailable[name] = "\(error)" }
        }
    }

    /// `ip netns exec NAMESPACE cat /proc/net/dev`: /proc/net is the reading process's namespace's.
    static func netDev(inNamespace namespace: String) throws -> String {
        guard let ip = Executable.find("ip") else { throw CounterParseError("no `ip` (iproute2) to read netns \(namespace)") }
        let output = try Child.capture([ip, "netns", "exec", namespace, "cat", "/proc/net/dev"], timeout: 10)
        guard output.status == 0 else {
            throw CounterParseError("ip netns exec \(namespace) cat /proc/net/dev: exit \(output.status) \(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output.stdout
    }
}
