import Foundation
import Records
import Statistics

/// One figure per unit of work made from a record's counters: what a person can reason about
/// ("1 packet per message", "50 more bytes per packet"), where raw deltas are not.
public struct CounterFigure: Sendable, Equatable {
    public var name: String
    /// What one unit is: `message` for kernels that sweep message sizes, else `iteration`.
    public var unit: String
    let value: @Sendable (Counters, _ iterations: Double) -> Double?

    public static func == (lhs: CounterFigure, rhs: CounterFigure) -> Bool { lhs.name == rhs.name }

    /// The catalog, in the order the WHY section lists them. Network sums run over every interface
    /// of the ranks' namespaces, transmit side (each packet is sent once, received once).
    public static let all: [CounterFigure] = [
        .init(name: "packets/message", unit: "packets") { c, n in net(c, "tx_packets").map { $0 / n } },
        .init(name: "wire bytes/message", unit: "bytes") { c, n in net(c, "tx_bytes").map { $0 / n } },
        .init(name: "wire bytes/packet", unit: "bytes") { c, _ in
            guard let bytes = net(c, "tx_bytes"), let packets = net(c, "tx_packets"), packets > 0 else { return nil }
            return bytes / packets
        },
        // The nodes' side, over the kernel's part of the launch (`Counters.nodes`, read by the suite on the host):
        // the underlay frames as sent (their mix of sizes moves with the launch's other traffic),
        // and what encapsulation added to each packet the VXLAN device sent.
        .init(name: "node underlay bytes/packet", unit: "bytes") { c, _ in
            guard let bytes = launchSum(c, "net.eth0.tx_bytes"), let packets = launchSum(c, "net.eth0.tx_packets"), packets > 0 else { return nil }
            return bytes / packets
        },
        .init(name: "VXLAN bytes/packet", unit: "bytes") { c, _ in vxlanBytesPerPacket(c) },
        .init(name: "TCP segments/message", unit: "segments") { c, n in c.values["tcp.out_segs"].map { $0.sum / n } },
        .init(name: "retransmits", unit: "segments") { c, _ in c.values["tcp.retrans_segs"]?.sum },
        .init(name: "drops and errors", unit: "packets") { c, _ in
            let fields = ["rx_drops", "tx_drops", "rx_errors", "tx_errors"].compactMap { net(c, $0) }
            return fields.isEmpty ? nil : fields.reduce(0, +)
        },
        .init(name: "throttled ms/s", unit: "milliseconds per second") { c, _ in
            perSecond(c, c.values["cgroup.throttled_usec"]).map { $0 / 1000 }
        },
        .init(name: "throttled periods", unit: "periods") { c, _ in c.values["cgroup.nr_throttled"]?.sum },
        .init(name: "involuntary switches/iteration", unit: "switches") { c, n in
            c.values["rusage.involuntary_switches"].map { $0.sum / n }
        },
        .init(name: "voluntary switches/iteration", unit: "switches") { c, n in
            c.values["rusage.voluntary_switches"].map { $0.sum / n }
        },
        .init(name: "softirq us/message", unit: "microseconds") { c, n in c.values["node.softirq_usec"].map { $0.sum / n } },
        .init(name: "NET_RX softirqs/message", unit: "softirqs") { c, n in c.values["node.net_rx_softirqs"].map { $0.sum / n } },
        .init(name: "steal ms/s", unit: "milliseconds per second") { c, _ in
            perSecond(c, c.values["node.steal_usec"]).map { $0 / 1000 }
        },
        .init(name: "major faults", unit: "faults") { c, _ in c.values["rusage.major_faults"]?.sum },
        .init(name: "cycles/iteration", unit: "cycles") { c, n in c.values["hw.cycles"].map { $0.sum / n } },
        .init(name: "cache misses/iteration", unit: "misses") { c, n in c.values["hw.cache_misses"].map { $0.sum / n } },
    ]

    init(name: String, unit: String, value: @escaping @Sendable (Counters, Double) -> Double?) {
        self.name = name; self.unit = unit; self.value = value
    }

    /// The figure for one record; nil where a counter it needs is unavailable there.
    public func value(_ counters: Counters, iterations: Int) -> Double? {
        value(counters, Double(max(iterations, 1)))
    }

    /// A network field summed over every interface.
    static func net(_ c: Counters, _ field: String) -> Double? {
        let matching = c.values.filter { $0.key.hasPrefix("net.") && $0.key.hasSuffix("." + field) }
        return matching.isEmpty ? nil : matching.values.map(\.sum).reduce(0, +)
    }

    /// A node counter summed over the nodes, over the record's kernel's part of its launch (a
    /// combined launch's other kernels' traffic left out).
    static func launchSum(_ c: Counters, _ name: String) -> Double? { c.nodes?.values[name]?.sum }

    /// The underlay's transmitted bytes beyond the VXLAN device's, per packet the device sent,
    /// less the inner Ethernet header (14 bytes) that Linux leaves out of a tunnel device's count:
    /// outer Ethernet, IP, UDP and VXLAN headers, 50 bytes. Exact when every underlay packet
    /// carries VXLAN; the launch's few others add their bytes. 0 on nodes with no VXLAN
    /// device (their underlay was read: nothing encapsulated there).
    static func vxlanBytesPerPacket(_ c: Counters) -> Double? {
        guard let underlay = launchSum(c, "net.eth0.tx_bytes") else { return nil }
        guard let device = launchSum(c, "net.flannel.1.tx_bytes") else { return 0 }
        guard let packets = launchSum(c, "net.flannel.1.tx_packets"), packets > 0 else { return nil }
        return (underlay - device) / packets - innerEthernetHeader
    }

    /// The bytes of an Ethernet header without VLAN tag, counted on the underlay but not on a tunnel device.
    static let innerEthernetHeader = 14.0

    /// A time counter per second of the region (its longest rank's wall time).
    static func perSecond(_ c: Counters, _ value: Counters.Value?) -> Double? {
        guard let value, let wall = c.values["region.wall_usec"]?.max, wall > 0 else { return nil }
        return value.sum / (wall / 1e6)
    }
}

/// Why one environment is slower than another: for each ladder rung and each environment against
/// the baseline, at the headline points, the counter figures that moved (paired by round like the
/// gaps, the median difference with its interval), those that did not (ruled out), and the runs
/// that carried no counters.
public struct Why: Sendable {
    public struct Movement: Sendable {
        public var figure: String
        public var unit: String
        /// Each side's median over its launches.
        public var from: Double
        public var to: Double
        /// Median over rounds of `to - from`, and its interval (nil with fewer than two rounds or unpaired).
        public var difference: Double
        public var interval: ClosedRange<Double>?
        public var rounds: Int
        public var paired: Bool
    }

    public struct Entry: Sendable {
        public var from: String
        public var to: String
        /// What the rung adds ("VXLAN overlay"); nil for an environment against the baseline.
        public var adds: String?
        public var point: PointKey
        public var label: String
        public var moved: [Movement]
        public var ruledOut: [Movement]
        /// Figures a side could not read (hardware counters without a PMU ...).
        public var unavailable: [String]
    }

    public var entries: [Entry]
    /// "pod-overlay: 10 of 10 launches" per environment whose records lack counters (older runs).
    public var lacking: [String]
    /// Counters unavailable in some record, with the first reason seen.
    public var unavailable: [String: String]

    public var isEmpty: Bool { entries.isEmpty && lacking.isEmpty }

    /// Relative change below which a figure without an interval reads as not moved.
    static let unpairedThreshold = 0.05

    public static func build(_ analysis: Analysis, counters facts: [CounterFacts]) -> Why {
        // Points: every environment's headline points; a report's WHY is about what it headlines.
        var points: [PointKey] = []
        for environment in analysis.environments {
            for headline in analysis.headlines[environment] ?? [] where !points.contains(headline.comparison.point) {
                points.append(headline.comparison.point)
            }
        }
        points.sort(by: analysis.kernels.precedes)
        var pairs = Ladder.steps(present: Set(analysis.environments)).map { (from: $0.from, to: $0.to, adds: Optional($0.adds)) }
        for environment in analysis.environments where environment != analysis.baseline
            && !pairs.contains(where: { $0.from == analysis.baseline && $0.to == environment }) {
            pairs.append((analysis.baseline, environment, nil))
        }
        let byPoint = Dictionary(grouping: facts) { PointSide(point: $0.point, environment: $0.environment) }
        var entries: [Entry] = []
        for pair in pairs {
            for point in points {
                guard let from = byPoint[PointSide(point: point, environment: pair.from)],
                      let to = byPoint[PointSide(point: point, environment: pair.to)] else { continue }
                entries.append(entry(pair, point: point, label: analysis.label(point), from: from, to: to,
                                     bootstrap: analysis.options.bootstrap))
            }
        }
        var unavailable: [String: String] = [:]
        for fact in facts {
            unavailable.merge(fact.counters.unavailable) { first, _ in first }
            for (name, reason) in fact.counters.nodes?.unavailable ?? [:] where unavailable["launch " + name] == nil {
                unavailable["launch " + name] = reason
            }
        }
        return Why(entries: entries, lacking: lacking(analysis, facts), unavailable: unavailable)
    }

    struct PointSide: Hashable { var point: PointKey; var environment: String }

    static func entry(_ pair: (from: String, to: String, adds: String?), point: PointKey, label: String,
                              from: [CounterFacts], to: [CounterFacts], bootstrap: Bootstrap) -> Entry {
        var result = Entry(from: pair.from, to: pair.to, adds: pair.adds, point: point, label: label,
                           moved: [], ruledOut: [], unavailable: [])
        let perMessage = point.bytes != nil
        for figure in CounterFigure.all {
            let name = perMessage ? figure.name : figure.name.replacingOccurrences(of: "/message", with: "/iteration")
            func values(_ side: [CounterFacts]) -> [(launch: Int?, value: Double)] {
                side.compactMap { fact in
                    figure.value(fact.counters, iterations: fact.iterations).map { (fact.round, $0) }
                }
            }
            let a = values(from), b = values(to)
            guard !a.isEmpty, !b.isEmpty else { result.unavailable.append(name); continue }
            let roundsA = Dictionary(a.compactMap { x in x.launch.map { ($0, x.value) } }, uniquingKeysWith: { first, _ in first })
            let roundsB = Dictionary(b.compactMap { x in x.launch.map { ($0, x.value) } }, uniquingKeysWith: { first, _ in first })
            let common = Set(roundsA.keys).intersection(roundsB.keys).sorted()
            let fromMedian = Median.of(a.map(\.value)) ?? 0, toMedian = Median.of(b.map(\.value)) ?? 0
            var movement = Movement(figure: name, unit: figure.unit, from: fromMedian, to: toMedian,
                                    difference: toMedian - fromMedian, interval: nil, rounds: common.count, paired: !common.isEmpty)
            if !common.isEmpty {
                let differences = common.map { roundsB[$0]! - roundsA[$0]! }
                movement.difference = Median.of(differences) ?? 0
                movement.interval = bootstrap.pairedMedianInterval(differences)
            }
            var moved = movement.interval.map { $0.lowerBound > 0 || $0.upperBound < 0 }
                ?? (relativeChange(fromMedian, toMedian) > unpairedThreshold)
            // A difference of nothing never moved, whatever its interval says.
            if movement.difference == 0 { moved = false }
            if moved { result.moved.append(movement) } else { result.ruledOut.append(movement) }
        }
        return result
    }

    private static func relativeChange(_ a: Double, _ b: Double) -> Double {
        let scale = max(abs(a), abs(b))
        return scale == 0 ? 0 : abs(b - a) / scale
    }

    /// Launches (environment, round or trial) the analysis used that no counters came with.
    private static func lacking(_ analysis: Analysis, _ facts: [CounterFacts]) -> [String] {
        var with: [String: Set<Int>] = [:]
        for fact in facts { with[fact.environment, default: []].insert(fact.round ?? fact.trial) }
        var all: [String: Set<Int>] = [:]
        for sides in analysis.points.values {
            for (environment, point) in sides {
                // One look-up per list, not per launch: a large report has a million launches.
                all[environment, default: []].formUnion(point.launches.lazy.map { $0.round ?? $0.trial })
            }
        }
        return analysis.environments.compactMap { environment in
            let launches = all[environment] ?? []
            let missing = launches.subtracting(with[environment] ?? [])
            guard !missing.isEmpty else { return nil }
            return "\(environment): \(missing.count) of \(launches.count) launches"
        }
    }
}

extension Why {
    /// A figure as the WHY lines write it: "+1.0 packets/message [+1.0, +1.0]".
    public static func text(_ m: Movement) -> String {
        var text = "\(signed(m.difference)) \(m.figure)"
        if let interval = m.interval {
            text += " [\(signed(interval.lowerBound, like: m.difference)), \(signed(interval.upperBound, like: m.difference))]"
        }
        else { text += m.paired ? " (\(m.rounds) round, no interval)" : " (unpaired, no interval)" }
        return text
    }

    /// A figure ruled out: its name and the value both sides share ("retransmits 0").
    public static func ruledOutText(_ m: Movement) -> String {
        m.from == m.to ? "\(m.figure) \(number(m.from))" : "\(m.figure) \(number(m.from)) -> \(number(m.to))"
    }

    /// "native-2node -> pod-overlay (VXLAN overlay), allreduce 4 B".
    public static func heading(_ e: Entry) -> String {
        "\(e.from) -> \(e.to)\(e.adds.map { " (\($0))" } ?? " (against the baseline)"), \(e.point.kernel) \(e.label)"
            + (e.point.bytes != nil && e.label.last?.isNumber == true || e.label.hasSuffix("K") || e.label.hasSuffix("M") ? " B" : "")
    }

    /// One line per entry, as the table and `podgap explain` print it.
    public static func line(_ e: Entry) -> String {
        var line = heading(e) + ": "
        line += e.moved.isEmpty ? "no counter moved" : e.moved.map(text).joined(separator: ", ")
        if !e.ruledOut.isEmpty { line += "; ruled out: " + e.ruledOut.map(ruledOutText).joined(separator: ", ") }
        if !e.unavailable.isEmpty { line += "; no value on a side: " + e.unavailable.joined(separator: ", ") }
        return line
    }

    static func signed(_ value: Double) -> String { (value >= 0 ? "+" : "") + number(value) }

    /// An interval's end with the same decimals as the estimate it surrounds ("+4.0 [+4.0, +4.0]").
    static func signed(_ value: Double, like estimate: Double) -> String {
        let text = signed(estimate)
        guard let dot = text.firstIndex(of: "."), !text.contains("e") else { return signed(value) }
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        return (value >= 0 ? "+" : "") + String(format: "%.\(decimals)f", value)
    }

    static func number(_ value: Double) -> String {
        if value == 0 || (value.rounded() == value && abs(value) < 1e15) { return String(format: "%.0f", value) }
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude >= 1 { return String(format: "%.1f", value) }
        return String(format: "%.3g", value)
    }

    /// The plain-text section: `podgap explain` prints this alone, the table report ends with it.
    public func section() -> String {
        var out = "WHY (counters per unit of work; each rung and each environment against the baseline, paired by round)\n"
        if entries.isEmpty { out += "  no pair of environments has counters at a headline point\n" }
        for entry in entries { out += "  " + Why.line(entry) + "\n" }
        if !lacking.isEmpty { out += "  runs lacking counters: " + lacking.joined(separator: "; ") + "\n" }
        for (reasons, names) in Dictionary(grouping: unavailable.keys.sorted(), by: { unavailable[$0]! }).sorted(by: { $0.value[0] < $1.value[0] }) {
            out += "  unavailable: \(names.joined(separator: ", ")): \(reasons)\n"
        }
        return out
    }
}

/// The WHY section as CSV (`podgap report --format csv --why`): one row per pair, point and figure,
/// `section` always `why` so that the rows can be appended to other CSVs and still be told apart.
public struct WhyCSVRenderer: Sendable {
    public init() {}

    public static let header = ["section", "from", "to", "adds", "kernel", "parameters", "bytes", "ranks", "figure", "unit",
                                "from_value", "to_value", "difference", "ci_low", "ci_high", "rounds", "pairing", "moved"]

    public func render(_ analysis: Analysis) -> String {
        var rows: [[String]] = []
        for e in analysis.why?.entries ?? [] {
            for (m, moved) in e.moved.map({ ($0, true) }) + e.ruledOut.map({ ($0, false) }) {
                rows.append(["why", e.from, e.to, e.adds ?? "", e.point.kernel, e.point.parameters, NumberText.number(e.point.bytes),
                             "\(e.point.ranks)", m.figure, m.unit, NumberText.number(m.from), NumberText.number(m.to),
                             NumberText.number(m.difference), NumberText.number(m.interval?.lowerBound), NumberText.number(m.interval?.upperBound),
                             "\(m.rounds)", m.paired ? "paired" : "unpaired", moved ? "moved" : "ruled out"])
            }
        }
        return TextTable(headings: WhyCSVRenderer.header, rows: rows).render(.csv)
    }
}
