import Foundation

/// The kernel's counter files, parsed: pure functions of their text, so that every format (cgroup
/// v1 and v2, old and new kernels) is tested on fixtures. Each throws `CounterParseError` with a
/// reason that ends up in the record as the counter's `unavailable` entry.
public struct CounterParseError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum CounterParsers {
    /// Where the rank's cgroup keeps its CPU statistics, from /proc/self/cgroup: the v1 `cpu`
    /// controller's hierarchy when one is mounted, else the v2 unified one.
    public struct CgroupLocation: Equatable, Sendable {
        /// The v1 line's controller list ("cpu,cpuacct") and path; nil without a v1 cpu controller.
        public var v1: (controllers: String, path: String)?
        public var v2: String?

        public static func == (lhs: CgroupLocation, rhs: CgroupLocation) -> Bool {
            lhs.v1?.controllers == rhs.v1?.controllers && lhs.v1?.path == rhs.v1?.path && lhs.v2 == rhs.v2
        }

        /// cpu.stat's candidate paths under `root` (/sys/fs/cgroup), most specific first. Inside a
        /// container without a cgroup namespace, /proc/self/cgroup names the host's path while the
        /// container's own cgroup is mounted at the hierarchy's root: the roots come last.
        public func cpuStatPaths(root: String = "/sys/fs/cgroup") -> [String] {
            var paths: [String] = [], roots: [String] = []
            if let (controllers, path) = v1 {
                let folders = controllers == "cpu" ? ["cpu"] : [controllers, "cpu"]
                for folder in folders where path != "/" { paths.append("\(root)/\(folder)\(path)/cpu.stat") }
                roots += folders.map { "\(root)/\($0)/cpu.stat" }
            }
            if let v2 {
                if v2 != "/" { paths.append("\(root)\(v2)/cpu.stat") }
                roots.append("\(root)/cpu.stat")
            }
            return paths + roots
        }

        /// What tells the rank's cgroup apart from others: its path as /proc/self/cgroup gives it.
        public var identity: String { v1.map { "\($0.controllers):\($0.path)" } ?? "0::\(v2 ?? "")" }
    }

    /// `ID:CONTROLLERS:PATH` lines; v2's is `0::PATH`.
    public static func cgroupLocation(_ text: String) throws -> CgroupLocation {
        var location = CgroupLocation(v1: nil, v2: nil)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2].hasPrefix("/") else {
                throw CounterParseError("/proc/self/cgroup: malformed line '\(line)'")
            }
            let controllers = String(fields[1]), path = String(fields[2])
            if fields[0] == "0" && controllers.isEmpty {
                location.v2 = path
            } else if controllers.split(separator: ",").contains("cpu") {
                location.v1 = (controllers, path)
            }
        }
        guard location.v1 != nil || location.v2 != nil else {
            throw CounterParseError("/proc/self/cgroup names neither a v1 cpu controller nor a v2 hierarchy")
        }
        return location
    }

    /// cpu.stat's throttling, in v2's names and units: `nr_periods`, `nr_throttled` and
    /// `throttled_usec` (v1 writes `throttled_time` in nanoseconds). Throws when none is there
    /// (a v2 cgroup without the cpu controller has only usage lines).
    public static func cpuStat(_ text: String) throws -> [String: Double] {
        let fields = try keyValueLines(text, file: "cpu.stat")
        var result: [String: Double] = [:]
        result["nr_periods"] = fields["nr_periods"]
        result["nr_throttled"] = fields["nr_throttled"]
        if let usec = fields["throttled_usec"] { result["throttled_usec"] = usec }
        else if let nanoseconds = fields["throttled_time"] { result["throttled_usec"] = nanoseconds / 1000 }
        guard result.count == 3 else {
            throw CounterParseError("cpu.stat has no throttling lines (nr_periods, nr_throttled, throttled_usec or throttled_time): no cpu controller in this cgroup")
        }
        return result
    }

    /// /proc/net/dev: per interface, receive and transmit bytes, packets, errors and drops.
    public static func netDev(_ text: String) throws -> [String: [String: Double]] {
        let lines = text.split(separator: "\n")
        guard lines.count >= 2, lines[1].contains("|") else { throw CounterParseError("/proc/net/dev: no header") }
        var interfaces: [String: [String: Double]] = [:]
        for line in lines.dropFirst(2) {
            guard let colon = line.firstIndex(of: ":") else { throw CounterParseError("/proc/net/dev: malformed line '\(line)'") }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let numbers = line[line.index(after: colon)...].split(separator: " ").map { Double($0) }
            guard !name.isEmpty, numbers.count >= 16, numbers.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                throw CounterParseError("/proc/net/dev: malformed line for '\(name)'")
            }
            let values = numbers.map { $0! }
            interfaces[name] = ["rx_bytes": values[0], "rx_packets": values[1], "rx_errors": values[2], "rx_drops": values[3],
                                "tx_bytes": values[8], "tx_packets": values[9], "tx_errors": values[10], "tx_drops": values[11]]
        }
        return interfaces
    }

    /// /proc/net/dev as counter samples `net.<interface>.<field>`, each belonging to `scope` (the
    /// namespace it was read in); `source` names the file and where it was read.
    public static func netDevSamples(_ text: String, source: String, scope: String) throws -> [String: CounterSample] {
        var samples: [String: CounterSample] = [:]
        for (interface, fields) in try netDev(text) {
            for (field, value) in fields {
                samples["net.\(interface).\(field)"] = CounterSample(value: value, unit: field.hasSuffix("bytes") ? "bytes" : "packets",
                                                                     source: "\(source) \(interface)", scope: scope)
            }
        }
        return samples
    }

    /// /proc/net/snmp's `Tcp:` header and value lines: segments in, out and retransmitted.
    public static func snmpTCP(_ text: String) throws -> [String: Double] {
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("Tcp:") }
        guard lines.count == 2 else { throw CounterParseError("/proc/net/snmp: no Tcp header and value lines") }
        let names = lines[0].split(separator: " ").dropFirst(), values = lines[1].split(separator: " ").dropFirst()
        guard names.count == values.count else { throw CounterParseError("/proc/net/snmp: Tcp lines differ in length") }
        let table = Dictionary(zip(names.map(String.init), values.map { Double($0) }), uniquingKeysWith: { first, _ in first })
        var result: [String: Double] = [:]
        for (field, name) in [("InSegs", "in_segs"), ("OutSegs", "out_segs"), ("RetransSegs", "retrans_segs")] {
            guard let value = table[field], let number = value else { throw CounterParseError("/proc/net/snmp: no number for Tcp \(field)") }
            result[name] = number
        }
        return result
    }

    /// /proc/stat's per-CPU softirq and steal time on `cpus`, in clock ticks (USER_HZ).
    public static func procStat(_ text: String, cpus: [Int]) throws -> (softirq: Double, steal: Double) {
        var softirq = 0.0, steal = 0.0, found = Set<Int>()
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") && !line.hasPrefix("cpu ") {
            let fields = line.split(separator: " ")
            guard let cpu = Int(fields[0].dropFirst(3)) else { throw CounterParseError("/proc/stat: malformed line '\(fields[0])'") }
            guard cpus.contains(cpu) else { continue }
            // user nice system idle iowait irq softirq steal: steal arrived in 2.6.11.
            guard fields.count >= 9, let soft = Double(fields[7]), let stolen = Double(fields[8]) else {
                throw CounterParseError("/proc/stat: cpu\(cpu) has no softirq and steal columns")
            }
            softirq += soft; steal += stolen; found.insert(cpu)
        }
        guard found == Set(cpus), !cpus.isEmpty else {
            throw CounterParseError("/proc/stat: no line for cpu(s) \(Set(cpus).subtracting(found).sorted())")
        }
        return (softirq, steal)
    }

    /// /proc/softirqs' NET_RX and NET_TX counts summed over `cpus` (columns CPU0 CPU1 ...).
    public static func softirqs(_ text: String, cpus: [Int]) throws -> (netRX: Double, netTX: Double) {
        let lines = text.split(separator: "\n")
        guard let header = lines.first else { throw CounterParseError("/proc/softirqs: empty") }
        let columns = header.split(separator: " ").map { Int($0.dropFirst(3)) }
        guard !columns.isEmpty, header.split(separator: " ").allSatisfy({ $0.hasPrefix("CPU") }) else {
            throw CounterParseError("/proc/softirqs: malformed header")
        }
        func row(_ name: String) throws -> Double {
            guard let line = lines.first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + ":") }) else {
                throw CounterParseError("/proc/softirqs: no \(name) line")
            }
            let values = line.split(separator: " ").dropFirst().map { Double($0) }
            guard values.count == columns.count, values.allSatisfy({ $0 != nil }) else {
                throw CounterParseError("/proc/softirqs: malformed \(name) line")
            }
            var total = 0.0
            for (column, value) in zip(columns, values) where column.map(cpus.contains) == true { total += value! }
            return total
        }
        guard Set(cpus).isSubset(of: Set(columns.compactMap { $0 })), !cpus.isEmpty else {
            throw CounterParseError("/proc/softirqs: no column for cpu(s) \(cpus)")
        }
        return (try row("NET_RX"), try row("NET_TX"))
    }

    /// `name value` lines (cpu.stat), every value a number.
    public static func keyValueLines(_ text: String, file: String) throws -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let value = Double(fields[1]), value >= 0 else {
                throw CounterParseError("\(file): malformed line '\(line)'")
            }
            result[String(fields[0])] = value
        }
        return result
    }
}

extension CounterSnapshot {
    /// The counters of a node's own CPUs: softirq and steal time (`/proc/stat`) and NET_RX/NET_TX
    /// softirqs (`/proc/softirqs`) summed over `cpus`, read with `read`. A source that cannot be
    /// read or parsed leaves its counters `unavailable`, with why. One reading for a rank
    /// (Probes, its allowed CPUs) and for a launch's host side (Suite, every CPU).
    public mutating func addNode(cpus: [Int], scope: String, read: (String) -> String?) {
        let cpuList = CPUSet(cpus).listDescription
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        do {
            guard let text = read("/proc/stat") else { throw CounterParseError("/proc/stat is not readable") }
            let ticks = try CounterParsers.procStat(text, cpus: cpus)
            for (name, value) in [("node.softirq_usec", ticks.softirq), ("node.steal_usec", ticks.steal)] {
                samples[name] = CounterSample(value: value * 1e6 / ticksPerSecond, unit: "microseconds",
                                              source: "/proc/stat cpu\(cpuList)", scope: scope)
            }
        } catch {
            for name in ["node.softirq_usec", "node.steal_usec"] { unavailable[name] = "\(error)" }
        }
        do {
            guard let text = read("/proc/softirqs") else { throw CounterParseError("/proc/softirqs is not readable") }
            let counts = try CounterParsers.softirqs(text, cpus: cpus)
            for (name, value) in [("node.net_rx_softirqs", counts.netRX), ("node.net_tx_softirqs", counts.netTX)] {
                samples[name] = CounterSample(value: value, unit: "softirqs", source: "/proc/softirqs cpu\(cpuList)", scope: scope)
            }
        } catch {
            for name in ["node.net_rx_softirqs", "node.net_tx_softirqs"] { unavailable[name] = "\(error)" }
        }
    }
}
