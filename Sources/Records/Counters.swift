/// System counters over one record's region, reduced over the launch's ranks: what the kernel
/// cost the operating system (packets, context switches, throttled periods, softirqs), beside
/// how long it took. docs/counters.md describes every name.
///
/// The region of a record is the point: from the end of the previous point (or from just after
/// MPI started, for the first) to the end of this one, read outside the kernel's clock. It holds
/// the point's warm-up and timed iterations and its verification.
public struct Counters: Codable, Equatable, Sendable {
    /// One counter's change over the region.
    public struct Value: Codable, Equatable, Sendable {
        /// Over the distinct things counted (ranks for per-process counters; namespaces, cgroups and
        /// nodes once each however many ranks share them).
        public var sum: Double
        /// The largest of those.
        public var max: Double
        public var unit: String
        /// Where it was read, as rank 0 read it ("getrusage(RUSAGE_SELF)", "/proc/net/dev eth0").
        public var source: String
        /// How many distinct things were summed (ranks, namespaces, cgroups, nodes).
        public var count: Int

        public init(sum: Double, max: Double, unit: String, source: String, count: Int) {
            self.sum = sum; self.max = max; self.unit = unit; self.source = source; self.count = count
        }
    }

    /// What the region covers; "point" for now (see the type's comment).
    public var region: String
    public var values: [String: Value]
    /// Counters that could not be read on some rank, with why ("no PMU: ...", "cpu.stat: malformed").
    public var unavailable: [String: String]
    /// The nodes' counters over the whole launch, read by the suite on the host around it (a pod
    /// cannot read its node's namespace); nil outside suites and in records written before.
    public var launch: LaunchCounters?
    /// The same nodes' counters over this kernel's own part of a combined launch (from the gate
    /// before it, or the launch's start, to the gate after it, or the launch's end), read while
    /// every rank waited between two kernels; nil for a launch of one kernel (`launch` is its part).
    public var kernelPart: LaunchCounters?

    public init(region: String = "point", values: [String: Value] = [:], unavailable: [String: String] = [:],
                launch: LaunchCounters? = nil, kernelPart: LaunchCounters? = nil) {
        self.region = region; self.values = values; self.unavailable = unavailable; self.launch = launch
        self.kernelPart = kernelPart
    }

    /// The nodes' counters over the part of the launch this record's kernel ran in: its own part
    /// of a combined launch, else the whole launch.
    public var nodes: LaunchCounters? { kernelPart ?? launch }
}

/// What the nodes counted from just before a launch started to just after it ended: each emulated
/// node's network namespace (`net.<interface>.*`, summed over the nodes: `eth0` is a node's
/// underlay link, `flannel.1` its VXLAN device) and the machine's softirqs (`node.*`). The same
/// for every record of the launch: it covers every point, and the start and end of MPI.
public struct LaunchCounters: Codable, Equatable, Sendable {
    public var values: [String: Counters.Value]
    public var unavailable: [String: String]

    public init(values: [String: Counters.Value] = [:], unavailable: [String: String] = [:]) {
        self.values = values; self.unavailable = unavailable
    }

    /// The change from `before` to `after`, reading by reading (one per node namespace, one for
    /// the machine: their counters share names), each scope counted once.
    public init(from before: [CounterSnapshot], to after: [CounterSnapshot]) {
        let reduced = CounterSnapshot.reduce(zip(after, before).map { $0.since($1) })
        self.init(values: reduced.values, unavailable: reduced.unavailable)
    }
}

/// One rank's reading of one counter, before the reduction over ranks.
public struct CounterSample: Codable, Equatable, Sendable {
    public var value: Double
    public var unit: String
    public var source: String
    /// What the counter belongs to, so that ranks sharing it count it once: `process` (each rank
    /// its own), or "netns:BOOT_ID:4026531992", "cgroup:BOOT_ID:/kubepods/x@cgroup:[...]",
    /// "node:BOOT_ID:0-1" (the boot id tells two machines' equal namespace numbers apart).
    public var scope: String
    public static let process = "process"

    public init(value: Double, unit: String, source: String, scope: String) {
        self.value = value; self.unit = unit; self.source = source; self.scope = scope
    }
}

/// Every counter one rank read at one instant, and those it could not, with why.
public struct CounterSnapshot: Codable, Equatable, Sendable {
    public var samples: [String: CounterSample]
    public var unavailable: [String: String]

    public init(samples: [String: CounterSample] = [:], unavailable: [String: String] = [:]) {
        self.samples = samples; self.unavailable = unavailable
    }

    /// The change from `earlier` to this one. A counter missing from either reading is
    /// unavailable for the region; one that went backwards (a wrapped or reset counter) too.
    public func since(_ earlier: CounterSnapshot) -> CounterSnapshot {
        var delta = CounterSnapshot(unavailable: unavailable.merging(earlier.unavailable) { first, _ in first })
        for (name, after) in samples {
            guard let before = earlier.samples[name] else {
                delta.unavailable[name] = delta.unavailable[name] ?? "not readable at the start of the region"
                continue
            }
            guard after.value >= before.value else {
                delta.unavailable[name] = "went backwards over the region (\(before.value) to \(after.value))"
                continue
            }
            delta.samples[name] = CounterSample(value: after.value - before.value, unit: after.unit,
                                                source: after.source, scope: after.scope)
        }
        for name in earlier.samples.keys where samples[name] == nil {
            delta.unavailable[name] = delta.unavailable[name] ?? "not readable at the end of the region"
        }
        for name in delta.samples.keys { delta.unavailable[name] = nil }
        return delta
    }

    /// Every rank's region reduced: each counter summed (and its largest kept) over the distinct
    /// scopes it belongs to, so ranks sharing a namespace, cgroup or node count it once. A counter
    /// unavailable on any rank is unavailable, with the first reason given.
    public static func reduce(_ ranks: [CounterSnapshot]) -> Counters {
        var counters = Counters()
        for rank in ranks {
            for (name, reason) in rank.unavailable where counters.unavailable[name] == nil {
                counters.unavailable[name] = reason
            }
        }
        var seen: [String: Set<String>] = [:]
        for (index, rank) in ranks.enumerated() {
            for (name, sample) in rank.samples where counters.unavailable[name] == nil {
                let scope = sample.scope == CounterSample.process ? "process:\(index)" : sample.scope
                guard seen[name, default: []].insert(scope).inserted else { continue }
                if var value = counters.values[name] {
                    value.sum += sample.value
                    value.max = Swift.max(value.max, sample.value)
                    value.count += 1
                    counters.values[name] = value
                } else {
                    counters.values[name] = Counters.Value(sum: sample.value, max: sample.value, unit: sample.unit,
                                                           source: sample.source, count: 1)
                }
            }
        }
        return counters
    }
}
