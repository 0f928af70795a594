import Probes
import ArgumentParser
import Records
import Foundation

struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Show what a run records as its environment: launcher, limits, MPI, topology.")

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
        let environment = Environment.local(label: label, hardware: hardware)
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
        lines.append(("binding", hardware.binding))
        let width = lines.map(\.0.count).max() ?? 0
        for (key, value) in lines { print(key.padding(toLength: width + 2, withPad: " ", startingAt: 0) + value) }
    }
}
