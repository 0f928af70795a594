import Foundation
import Launch
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

    /// The machine's softirqs (and steal), on every CPU: the emulated nodes share them; and the
    /// host's monotonic clock, so that a launch (or a kernel's part of one) says how long it was.
    private func machine() -> CounterSnapshot {
        var snapshot = CounterSnapshot()
        snapshot.addNode(cpus: Array(0..<ProcessInfo.processInfo.processorCount), scope: "node", read: readFile)
        snapshot.samples["region.wall_usec"] = CounterSample(value: Double(DispatchTime.now().uptimeNanoseconds) / 1000,
                                                             unit: "microseconds", source: "CLOCK_MONOTONIC on the host", scope: "node")
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

/// A launch's node counters, read around it and, in a combined launch, at every gate between two
/// kernels (`KernelSequence.gateOption`): while the launch runs, a thread follows its output, and
/// at each gate rank 0 announces it reads the nodes, then opens the gate with a file in
/// `hostFolder` (a folder of the host's, which pods see read-only, if at all). Each kernel's part
/// runs from the gate before it (or the launch's start) to the gate after it (or the launch's end).
final class NodeCounting: @unchecked Sendable {
    let nodes: NodeCounters
    let kernels: Int
    /// Where the gate files go; nil for a launch of one kernel, or when the folder could not be
    /// made (then the ranks get no gate, and the kernels' parts are unavailable).
    let hostFolder: String?
    let log: String
    private let before: [CounterSnapshot]
    private let lock = NSLock()
    private var gates: [Int: [CounterSnapshot]] = [:]
    private var missed: Set<Int> = []
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)

    /// Reads the nodes now (the launch's start) and, for several kernels, makes `hostFolder`
    /// and starts following `log` for gates.
    init(_ nodes: NodeCounters, kernels: Int, hostFolder: String?, log: String) {
        self.nodes = nodes; self.kernels = kernels; self.log = log
        let made = kernels > 1 && hostFolder.flatMap { try? FileManager.default.createDirectory(atPath: $0, withIntermediateDirectories: true) } != nil
        self.hostFolder = made ? hostFolder : nil
        before = nodes.snapshot()
        guard self.hostFolder != nil else {
            stopped.signal()
            return
        }
        Thread.detachNewThread { [self] in follow() }
    }

    /// Reads the nodes again (the launch's end), stops following and removes the gate folder.
    /// The whole launch's counters, and each kernel's part (nil for one kernel).
    func finish() -> (launch: LaunchCounters, parts: [LaunchCounters]?) {
        let after = nodes.snapshot()
        lock.withLock { stopping = true }
        stopped.wait()
        let launch = LaunchCounters(from: before, to: after)
        guard kernels > 1 else { return (launch, nil) }
        guard let hostFolder else {
            return (launch, Array(repeating: LaunchCounters(unavailable: ["kernel part": "no gate folder: the launch was read as a whole"]), count: kernels))
        }
        try? FileManager.default.removeItem(atPath: hostFolder)
        let (gates, missed) = lock.withLock { (self.gates, self.missed) }
        let bounds = [before] + (1..<kernels).map { gates[$0] } + [after]
        let parts = (0..<kernels).map { kernel -> LaunchCounters in
            let shut = [kernel, kernel + 1].filter { (1..<kernels).contains($0) && (bounds[$0] == nil || missed.contains($0)) }
            guard shut.isEmpty, let from = bounds[kernel], let to = bounds[kernel + 1] else {
                let which = shut.map(String.init).joined(separator: " and ")
                return LaunchCounters(unavailable: ["kernel part": "gate \(which) between the kernels was not read while the ranks waited"])
            }
            return LaunchCounters(from: from, to: to)
        }
        return (launch, parts)
    }

    /// Follows the launch's output (the suite's own log) for gates until `finish`: reads the
    /// nodes at each, then opens it. Between writes to the log it sleeps in `poll` on an inotify
    /// watch, so that it takes no CPU from the kernels measuring meanwhile.
    private func follow() {
        defer { stopped.signal() }
        // The log is the suite's own file; made here (never truncated) so that it can be watched
        // before the launch writes to it.
        let descriptor = open(log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if descriptor >= 0 { close(descriptor) }
        let watcher = inotify_init1(Int32(IN_CLOEXEC))
        defer { if watcher >= 0 { close(watcher) } }
        let watching = watcher >= 0 && inotify_add_watch(watcher, log, UInt32(IN_MODIFY)) >= 0
        var offset: UInt64 = 0, pending = Data()
        while true {
            let last = lock.withLock { stopping }
            if let handle = FileHandle(forReadingAtPath: log) {
                try? handle.seek(toOffset: offset)
                if let data = try? handle.readToEnd(), !data.isEmpty {
                    offset += UInt64(data.count)
                    pending += data
                }
                try? handle.close()
            }
            while let end = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[pending.startIndex..<end], as: UTF8.self)
                pending = Data(pending[(end + 1)...])
                guard let gate = KernelSequence.gate(in: Substring(line)), (1..<kernels).contains(gate.index) else { continue }
                if gate.missed {
                    lock.withLock { _ = missed.insert(gate.index) }
                } else if lock.withLock({ gates[gate.index] == nil }) {
                    let snapshot = nodes.snapshot()
                    lock.withLock { gates[gate.index] = snapshot }
                    FileManager.default.createFile(atPath: hostFolder! + "/" + KernelSequence.gateFile(gate.index), contents: nil)
                }
            }
            if last { return }
            if watching {
                // Woken by a write to the log, or after 50 ms to see whether `finish` was called.
                var event = pollfd(fd: watcher, events: Int16(POLLIN), revents: 0)
                if poll(&event, 1, 50) > 0 {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    _ = read(watcher, &buffer, buffer.count)
                }
            } else {
                usleep(2_000)
            }
        }
    }
}
