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

    /// The machine's softirqs (and steal), on every CPU: the emulated nodes share them.
    private func machine() -> CounterSnapshot {
        var snapshot = CounterSnapshot()
        snapshot.addNode(cpus: Array(0..<ProcessInfo.processInfo.processorCount), scope: "node", read: readFile)
        return snapshot
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
