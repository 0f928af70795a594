import Foundation
import Kernels
import Probes
import RDMA
import VerbsKernels
import Records

/// One verbs baseline process (`podgap run verbs-pingpong|verbs-bw`), server or client. The device
/// check comes first: without an RDMA device nothing else is looked at and nothing is written.
public struct VerbsRun {
    public let settings: RunSettings
    /// The server to connect to; nil makes this process the server.
    public let server: String?
    /// The address the server listens on; nil for every RDMA address.
    public let bind: String?
    public let port: Int

    public init(settings: RunSettings, server: String?, bind: String?, port: Int) {
        self.settings = settings; self.server = server; self.bind = bind; self.port = port
    }

    /// Finds a device (exit 3 without one), then serves or measures `kernel`.
    public func run<Operation>(_ kernel: VerbsBaseline<Operation>) throws {
        let discovery = Discovery()
        let devices: [Device]
        do { devices = try discovery.devices() } catch { throw RunFailure(message: "no RDMA device: \(error)", code: .noDevice) }
        if let reason = discovery.absenceReason(devices) {
            throw RunFailure(message: "no RDMA device: \(reason); \(Operation.name) needs an InfiniBand or RoCE port", code: .noDevice)
        }
        guard (1...65535).contains(port) else { throw RunFailure.badInput("--port \(port) is not a port (1-65535)") }
        guard settings.transport == .auto else {
            throw RunFailure.badInput("--transport \(settings.transport.rawValue): verbs runs use verbs itself; leave --transport out")
        }
        if let server {
            try MemoryFit.check(kernel.memoryPerRank(ranks: 2), ranksOnNode: 1)
            try measure(kernel, server: server, devices: devices)
        } else {
            try serve(Operation.name)
        }
    }

    private func serve(_ name: String) throws {
        Watchdog.arm(seconds: settings.timeout, rank: 0, output: nil)
        let served = try mapped {
            try VerbsServer.serve(address: bind, port: port, timeout: settings.timeout) {
                FileHandle.standardError.write(Data("podgap: \(name) server listening on \(bind ?? "*"):\(port)\n".utf8))
            }
        }
        FileHandle.standardError.write(Data("podgap: \(name) served \(served.points) point(s) on \(served.device) port \(served.port)\n".utf8))
    }

    private func measure<Operation>(_ kernel: VerbsBaseline<Operation>, server: String, devices: [Device]) throws {
        // Open the output before connecting so that a bad --out fails before the server is bothered.
        let output = try settings.out.map { try OutputFile(path: $0) }
        do {
            try measure(kernel, server: server, devices: devices, writer: output?.writer)
        } catch {
            output?.removeIfUnused()
            throw error
        }
    }

    private func measure<Operation>(_ kernel: VerbsBaseline<Operation>, server: String, devices: [Device], writer: RecordWriter?) throws {
        Watchdog.arm(seconds: settings.timeout, rank: 0, output: settings.out)
        let client = try mapped { try VerbsClient(server: server, port: port, capacity: kernel.sizes.max()!, timeout: settings.timeout) }
        var environment = verbsEnvironment(device: client.device, port: client.port, devices: devices)
        environment.probe = try MachineProbe.measure()
        let run = settings.runID ?? KernelRun.newRunID()
        let table = VerbsTable(kernel: Operation.name)
        if writer == nil { table.printHeader(environment: environment, ranks: 2) }
        var unverified: [String] = []
        try mapped {
            try kernel.measure(with: client, progress: ProgressLine()) { measurement in
                let record = Record(run: run, kernel: Operation.name, descriptor: Operation.descriptor, ranks: 2, trial: settings.trial,
                                    round: settings.round, position: settings.position, measurement: measurement,
                                    keepingSamples: settings.keepSamples, environment: environment)
                if let writer { try writer.append(record) } else { table.printRow(record) }
                if !record.verified { unverified.append("\(measurement.parameters["bytes"]?.description ?? "?") bytes: \(record.verification)") }
            }
            try client.finish()
        }
        if let problem = unverified.first {
            throw RunFailure(message: "\(unverified.count) point(s) failed verification: \(problem)", code: .unverified)
        }
    }

    /// verbs-native on a host, verbs-pod inside a container, unless --label says otherwise.
    private func verbsEnvironment(device: String, port: Int, devices: [Device]) -> Environment {
        var environment = Environment.local(label: settings.label)
        if settings.label == nil {
            environment.name = environment.container != nil || LaunchContext().launcher == "pod" ? "verbs-pod" : "verbs-native"
        }
        let linkLayer = devices.first { $0.name == device }?.ports.first { $0.number == port }?.linkLayer.rawValue ?? "unknown link layer"
        environment.transport = Environment.Transport(pml: "none", btl: "none",
                                                      note: "verbs RC over librdmacm on \(device) port \(port) (\(linkLayer)), no MPI")
        environment.network = ProcessInfo.processInfo.environment["PODGAP_NETWORK"] ?? "rdma"
        return environment
    }

    /// RDMA failures as podgap failures: absence is exit 3, a timeout 124, the rest 2 with the reason.
    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as RDMAError {
            switch error {
            case .noDevice: throw RunFailure(message: error.description, code: .noDevice)
            case .timedOut: throw RunFailure(message: error.description, code: .timedOut)
            default: throw RunFailure(message: error.description, code: .badInput)
            }
        }
    }
}

/// The text table without --out: perftest's columns.
struct VerbsTable: ResultTable {
    let kernel: String

    func printHeader(environment: Environment, ranks: Int) {
        print("# podgap \(kernel)")
        print("# environment \(environment.name), \(environment.transport.note ?? "")")
        print(["#bytes", "iterations", "t_min[us]", "t_p50[us]", "t_avg[us]", "t_p99[us]", "BW[GB/s]"]
            .map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        fflush(stdout)
    }

    func printRow(_ record: Record) {
        let s = record.seconds
        let columns = [record.params["bytes"]?.description ?? "-", String(record.iterations)]
            + [s.min, s.p50, s.mean, s.p99].map { String(format: "%.2f", $0 * 1e6) }
            + [record.throughput["bw_gbps"].map { String(format: "%.2f", $0) } ?? "-"]
        print(columns.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined()
              + (record.verified ? "" : "  UNVERIFIED"))
        fflush(stdout)
    }
}
