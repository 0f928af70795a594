import CPerf
import Foundation
import Glibc
import Records

/// Reads every system counter a rank can see, at one instant, into a `CounterSnapshot`: the
/// rank's cgroup CPU throttling, getrusage, its network namespace's interfaces and TCP, the node's
/// softirq and steal time on the CPUs it may run on, and hardware counters where the kernel lets
/// a process open them. A file that is missing or malformed makes only its own counters
/// unavailable, with the reason. Runs outside any timed region; opens the hardware counters once.
public final class SystemCounters {
    /// Reads a file's text; tests give fixtures (nil: missing or unreadable).
    public typealias FileReader = (String) -> String?

    private let read: FileReader
    private let hardware: HardwareCounters
    private let cpus: [Int]
    private let cgroup: Result<(path: String, scope: String), CounterParseError>
    private let netScope: String
    private let nodeScope: String
    /// Clock ticks per second of /proc/stat's times.

    public init(read: @escaping FileReader = SystemCounters.readFile, hardware: HardwareCounters = HardwareCounters(),
                cpus: [Int] = CPUSet.current().cpus) {
        self.read = read
        self.hardware = hardware
        self.cpus = cpus
        let boot = read("/proc/sys/kernel/random/boot_id")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        netScope = "netns:\(boot):" + (SystemCounters.link("/proc/self/ns/net") ?? "unknown")
        nodeScope = "node:\(boot):\(CPUSet(cpus).listDescription)"
        cgroup = SystemCounters.locateCgroup(read: read, boot: boot)
    }

    public static func readFile(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    private static func link(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }

    /// The first cpu.stat of the rank's own cgroup that can be read, and what identifies it.
    private static func locateCgroup(read: FileReader, boot: String) -> Result<(path: String, scope: String), CounterParseError> {
        guard let text = read("/proc/self/cgroup") else { return .failure(CounterParseError("/proc/self/cgroup is not readable")) }
        do {
            let location = try CounterParsers.cgroupLocation(text)
            let paths = location.cpuStatPaths()
            guard let path = paths.first(where: { read($0) != nil }) else {
                return .failure(CounterParseError("none of \(paths.joined(separator: ", ")) is readable"))
            }
            // The path /proc/self/cgroup names, not the file read: two pods both read their own
            // cgroup at the mount's root. With cgroup namespaces both may name "/": the namespace too.
            return .success((path, "cgroup:\(boot):\(location.identity)@\(link("/proc/self/ns/cgroup") ?? "")"))
        } catch let error as CounterParseError {
            return .failure(error)
        } catch {
            return .failure(CounterParseError("\(error)"))
        }
    }

    /// Every counter's names, so that `podgap env` and the docs list the same ones.
    public static let cgroupNames = ["cgroup.nr_periods", "cgroup.nr_throttled", "cgroup.throttled_usec"]
    public static let tcpNames = ["tcp.in_segs", "tcp.out_segs", "tcp.retrans_segs"]

    public func snapshot() -> CounterSnapshot {
        var snapshot = CounterSnapshot()
        // The region's length, so that the report can give throttling per second of run.
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        snapshot.samples["region.wall_usec"] = CounterSample(value: Double(now.tv_sec) * 1e6 + Double(now.tv_nsec) / 1e3,
                                                             unit: "microseconds", source: "clock_gettime(CLOCK_MONOTONIC)",
                                                             scope: CounterSample.process)
        readCgroup(into: &snapshot)
        readUsage(into: &snapshot)
        readNetwork(into: &snapshot)
        snapshot.addNode(cpus: cpus, scope: nodeScope, read: read)
        hardware.read(into: &snapshot)
        return snapshot
    }

    private func readCgroup(into snapshot: inout CounterSnapshot) {
        let units = ["nr_periods": "periods", "nr_throttled": "periods", "throttled_usec": "microseconds"]
        guarded(SystemCounters.cgroupNames, into: &snapshot) {
            let (path, scope) = try cgroup.get()
            guard let text = read(path) else { throw CounterParseError("\(path) is not readable") }
            return try CounterParsers.cpuStat(text).map { name, value in
                ("cgroup.\(name)", CounterSample(value: value, unit: units[name]!, source: path, scope: scope))
            }
        }
    }

    private func readUsage(into snapshot: inout CounterSnapshot) {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else {
            for name in ["voluntary_switches", "involuntary_switches", "minor_faults", "major_faults", "user_usec", "system_usec"] {
                snapshot.unavailable["rusage.\(name)"] = "getrusage failed: \(String(cString: strerror(errno)))"
            }
            return
        }
        func sample(_ value: Int, _ unit: String) -> CounterSample {
            CounterSample(value: Double(value), unit: unit, source: "getrusage(RUSAGE_SELF)", scope: CounterSample.process)
        }
        func microseconds(_ time: timeval) -> Int { time.tv_sec * 1_000_000 + Int(time.tv_usec) }
        snapshot.samples["rusage.voluntary_switches"] = sample(usage.ru_nvcsw, "switches")
        snapshot.samples["rusage.involuntary_switches"] = sample(usage.ru_nivcsw, "switches")
        snapshot.samples["rusage.minor_faults"] = sample(usage.ru_minflt, "faults")
        snapshot.samples["rusage.major_faults"] = sample(usage.ru_majflt, "faults")
        snapshot.samples["rusage.user_usec"] = sample(microseconds(usage.ru_utime), "microseconds")
        snapshot.samples["rusage.system_usec"] = sample(microseconds(usage.ru_stime), "microseconds")
    }

    private func readNetwork(into snapshot: inout CounterSnapshot) {
        // The interface names are only known once the file is read: a failure is one entry.
        do {
            guard let text = read("/proc/net/dev") else { throw CounterParseError("/proc/net/dev is not readable") }
            snapshot.samples.merge(try CounterParsers.netDevSamples(text, source: "/proc/net/dev", scope: netScope)) { $1 }
        } catch {
            snapshot.unavailable["net"] = "\(error)"
        }
        guarded(SystemCounters.tcpNames, into: &snapshot) {
            guard let text = read("/proc/net/snmp") else { throw CounterParseError("/proc/net/snmp is not readable") }
            return try CounterParsers.snmpTCP(text).map { name, value in
                ("tcp.\(name)", CounterSample(value: value, unit: "segments", source: "/proc/net/snmp Tcp", scope: netScope))
            }
        }
    }

    /// Runs one source's reading; when it throws, every one of `names` is unavailable with why.
    private func guarded(_ names: [String], into snapshot: inout CounterSnapshot,
                         _ body: () throws -> [(String, CounterSample)]) {
        do {
            for (name, sample) in try body() { snapshot.samples[name] = sample }
        } catch {
            for name in names { snapshot.unavailable[name] = "\(error)" }
        }
    }
}

/// Cycles, instructions and cache misses of this process through perf_event_open, opened once;
/// where the kernel refuses, each is unavailable with the reason (no PMU in a VM, a
/// perf_event_paranoid setting), never zero.
public final class HardwareCounters {
    public static let names = ["hw.cycles", "hw.instructions", "hw.cache_misses"]
    private static let events: [(name: String, config: UInt64, unit: String)] = [
        ("hw.cycles", UInt64(PERF_COUNT_HW_CPU_CYCLES.rawValue), "cycles"),
        ("hw.instructions", UInt64(PERF_COUNT_HW_INSTRUCTIONS.rawValue), "instructions"),
        ("hw.cache_misses", UInt64(PERF_COUNT_HW_CACHE_MISSES.rawValue), "misses"),
    ]

    private var open: [(name: String, descriptor: Int32, unit: String)] = []
    public private(set) var unavailable: [String: String] = [:]

    /// Opens the counters; `eventSources` is where the kernel lists its PMUs.
    public init(eventSources: String = "/sys/bus/event_source/devices") {
        for event in HardwareCounters.events {
            let descriptor = podgap_perf_event_open(UInt32(PERF_TYPE_HARDWARE.rawValue), event.config)
            if descriptor >= 0 {
                open.append((event.name, descriptor, event.unit))
            } else {
                unavailable[event.name] = HardwareCounters.reason(errno: errno, eventSources: eventSources)
            }
        }
    }

    deinit { for event in open { close(event.descriptor) } }

    /// Why perf_event_open failed, in words a person can act on.
    static func reason(errno code: Int32, eventSources: String) -> String {
        let devices = (try? FileManager.default.contentsOfDirectory(atPath: eventSources)) ?? []
        let paranoid = (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        let error = String(cString: strerror(code))
        if !devices.contains(where: { $0.hasPrefix("cpu") || $0.contains("pmu") }) {
            return "no PMU: \(eventSources) lists \(devices.sorted().joined(separator: ", ")) and no cpu (perf_event_open: \(error))"
        }
        if code == EACCES || code == EPERM {
            return "perf_event_open refused (\(error)); perf_event_paranoid is \(paranoid)"
        }
        return "perf_event_open: \(error) (perf_event_paranoid \(paranoid))"
    }

    func read(into snapshot: inout CounterSnapshot) {
        for (name, reason) in unavailable { snapshot.unavailable[name] = reason }
        for event in open {
            var value: UInt64 = 0
            if Glibc.read(event.descriptor, &value, MemoryLayout<UInt64>.size) == MemoryLayout<UInt64>.size {
                snapshot.samples[event.name] = CounterSample(value: Double(value), unit: event.unit,
                                                             source: "perf_event_open", scope: CounterSample.process)
            } else {
                snapshot.unavailable[event.name] = "reading the perf counter failed: \(String(cString: strerror(errno)))"
            }
        }
    }

    /// Opens a software event (task clock) the same way: whether the syscall path works at all
    /// where no PMU is. Returns the descriptor's first reading, or nil.
    public static func softwareTaskClock() -> UInt64? {
        let descriptor = podgap_perf_event_open(UInt32(PERF_TYPE_SOFTWARE.rawValue), UInt64(PERF_COUNT_SW_TASK_CLOCK.rawValue))
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var spin = 0.0
        for index in 0..<100_000 { spin += Double(index) }
        var value: UInt64 = 0
        guard Glibc.read(descriptor, &value, 8) == 8, spin > 0 else { return nil }
        return value
    }
}

extension SystemCounters {
    /// What `podgap env` says about counters here: the families that read, and the counters that
    /// do not, those sharing a reason joined ("hw.cycles, hw.instructions: no PMU ...").
    public func availability() -> (readable: [String], unavailable: [(names: [String], reason: String)]) {
        let snapshot = snapshot()
        let families = Set(snapshot.samples.keys.map { name -> String in
            let parts = name.split(separator: ".")
            // net.eth0.rx_bytes reads as "net eth0".
            return parts.count > 2 ? "\(parts[0]) \(parts[1])" : String(parts[0])
        })
        let byReason = Dictionary(grouping: snapshot.unavailable, by: \.value)
        let unavailable = byReason.map { reason, entries in (names: entries.map(\.key).sorted(), reason: reason) }
            .sorted { $0.names[0] < $1.names[0] }
        return (families.sorted(), unavailable)
    }
}
