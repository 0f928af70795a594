import Probes
import ArgumentParser
import Records
import Foundation

struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Show what a run records as its environment: launcher, limits, MPI, topology.",
        discussion: "See docs/env.md.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, nfd
    }

    @Option(help: "text; json, as records carry it; or nfd: name=value lines for Node Feature Discovery's features.d.")
    var format: Format = .text

    @Flag(help: "The same as --format json.")
    var json = false

    @Option(help: "Environment name to show.")
    var label: String?

    func run() throws {
        let hardware = Topology.Probe()
        var environment = Environment.local(label: label, hardware: hardware)
        // NVML only here and in GPU runs: every launch paying for a driver round trip is not worth it.
        let gpus = GPUSurvey.devices(pci: hardware.gpus)
        // Probed and none found is [], as `rdma` says it; nil only where neither hwloc nor NVML could look.
        environment.gpus = hardware.topology == nil && gpus.isEmpty ? nil : gpus
        if format == .nfd {
            print(NodeFeatures.local(environment: environment).text, terminator: "")
            return
        }
        if json || format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(environment), as: UTF8.self))
            return
        }
        let e = environment
        var lines: [(String, String)] = [
            ("environment", e.name),
            ("launcher", [e.launcher.kind, e.launcher.jobID.map { "job \($0)" }, e.launcher.nodeList].compactMap { $0 }.joined(separator: ", ")),
            ("container", e.container.map { [$0.runtime, $0.version, $0.id].compactMap { $0 }.joined(separator: " ") } ?? "none detected"),
            ("hostname", e.hostname),
            ("kernel", e.kernel),
            ("cores", "\(e.cores) (cpuset \(e.cpuset))"),
            ("cgroup cpu", e.cgroup.cpuQuota.map { String(format: "%.2f cores", $0) } ?? "unlimited"),
            ("cgroup memory", e.cgroup.memoryBytes.map { "\($0 / (1 << 20)) MiB" } ?? "unlimited"),
            ("mpi", e.mpiLibrary),
            ("pml", e.transport.pml),
            ("btl", e.transport.btl),
            ("yield when idle", e.yieldWhenIdle ? "on (\(e.yieldSetBy ?? "launcher"))" : "off"),
            ("podgap", "\(e.podgapVersion)\(e.gitCommit.map { " (\($0.prefix(12)))" } ?? "")"),
            ("rdma", e.rdma.isEmpty ? "no devices" : "\(e.rdma.count) device(s)"),
        ]
        if let note = e.transport.note { lines.append(("transport", note)) }
        lines += RDMALines.lines(e.rdma)
        if let t = e.topology {
            lines.append(("topology", "\(t.packages) package(s), \(t.numaNodes) NUMA node(s), \(t.cores) core(s), \(t.processingUnits) PU(s)"))
            let caches = t.caches.keys.sorted().map { "\($0) \(t.caches[$0]! / 1024) KiB" }.joined(separator: ", ")
            if !caches.isEmpty { lines.append(("caches", caches)) }
            for device in t.pciDevices {
                lines.append(("pci \(device.kind)", "\(device.name) at \(device.busID)\(device.numaNode.map { ", NUMA node \($0)" } ?? "")"))
            }
        }
        lines += EnvCommand.gpuLines(e.gpus ?? [])
        lines.append(("binding", hardware.binding))
        let counters = SystemCounters().availability()
        lines.append(("counters", counters.readable.joined(separator: ", ")))
        for entry in counters.unavailable {
            lines.append(("unavailable", "\(entry.names.joined(separator: ", ")): \(entry.reason)"))
        }
        let width = lines.map(\.0.count).max() ?? 0
        for (key, value) in lines { print(key.padding(toLength: width + 2, withPad: " ", startingAt: 0) + value) }
    }

    /// One line per GPU: name, memory, where it sits (PCI address, NUMA node, nearest NIC), and
    /// the driver's versions where NVML gave them.
    static func gpuLines(_ gpus: [GPUDevice]) -> [(String, String)] {
        guard !gpus.isEmpty else { return [("gpus", "none found (PCI class 0x0300/0x0302, NVML)")] }
        return gpus.map { gpu in
            var parts = [gpu.name + (gpu.memoryBytes.map { " (\($0 >> 30) GiB)" } ?? "")]
            if let bus = gpu.busID { parts.append("at \(bus)") }
            if let node = gpu.numaNode { parts.append("NUMA node \(node)") }
            if let nic = gpu.nearestNIC { parts.append("nearest NIC \(nic)") }
            if let uuid = gpu.uuid { parts.append(uuid) }
            if let driver = gpu.driverVersion { parts.append("driver \(driver)") }
            if let cuda = gpu.cudaVersion { parts.append("CUDA \(cuda)") }
            return ("gpu \(gpu.index)", parts.joined(separator: ", "))
        }
    }
}
