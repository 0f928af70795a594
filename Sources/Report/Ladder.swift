/// The attribution ladder: each environment differs from its parent by one thing, so the gap
/// between neighbours names what that one thing costs.
public enum Ladder {
    /// child -> (parent, what the child adds).
    static let parents: [String: (parent: String, adds: String)] = [
        "native-tcp": ("native-shm", "TCP instead of shared memory"),
        "native-2node": ("native-tcp", "the wire between nodes"),
        "pod-routed": ("native-2node", "pod network namespaces and routing"),
        "pod-overlay": ("pod-routed", "VXLAN encapsulation"),
        "pod-host": ("native-tcp", "container isolation and cgroup limits"),
        "pod-bridge": ("pod-host", "veth and a Linux bridge"),
        "pod-rdma": ("native-rdma", "containers over RDMA"),
    ]

    /// Environments in reading order: the ladder first, then any others by name.
    public static let order = ["native-shm", "native-tcp", "native-2node", "pod-routed", "pod-overlay",
                               "pod-host", "pod-bridge", "native-rdma", "pod-rdma"]

    public static func sorted(_ environments: some Sequence<String>) -> [String] {
        environments.sorted { a, b in
            let x = order.firstIndex(of: a) ?? order.count, y = order.firstIndex(of: b) ?? order.count
            return x != y ? x < y : a < b
        }
    }

    public struct Step: Equatable, Sendable {
        public var from: String
        public var to: String
        /// What `to` adds over `from`, joined with "+" where absent rungs were skipped.
        public var adds: String
    }

    /// The steps between the present environments: an absent rung is bridged by its parent, and
    /// what it would have isolated is named with the step that spans it.
    public static func steps(present: Set<String>) -> [Step] {
        var steps: [Step] = []
        for child in sorted(present) {
            guard var link = parents[child] else { continue }
            var adds = [link.adds]
            while !present.contains(link.parent), let next = parents[link.parent] {
                adds.insert(next.adds, at: 0)
                link = (next.parent, link.adds)
            }
            guard present.contains(link.parent) else { continue }
            steps.append(Step(from: link.parent, to: child, adds: adds.joined(separator: " + ")))
        }
        return steps
    }
}
