import Probes
import ArgumentParser
import Records
import Foundation
import Kernels
import RDMA

/// `podgap run verbs-pingpong`: the fabric's own latency without MPI, like perftest's ib_send_lat.
struct VerbsPingPongCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verbs-pingpong",
        abstract: "RDMA send/receive ping-pong over one RC queue pair, no MPI (like ib_send_lat).",
        discussion: VerbsOptions.discussion)

    @OptionGroup var verbs: VerbsOptions

    func run() throws { try VerbsRun(kernel: "verbs-pingpong", operation: "send", options: verbs).run() }
}

/// `podgap run verbs-bw`: the fabric's own bandwidth without MPI, like perftest's ib_write_bw.
struct VerbsBandwidthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verbs-bw",
        abstract: "RDMA write bandwidth over one RC queue pair, no MPI (like ib_write_bw).",
        discussion: VerbsOptions.discussion)

    @OptionGroup var verbs: VerbsOptions

    func run() throws { try VerbsRun(kernel: "verbs-bw", operation: "rdma-write", options: verbs).run() }
}

/// What verbs-pingpong and verbs-bw share: their options, and how to start them.
struct VerbsOptions: ParsableArguments {
    static let discussion = """
        Start the server first (no --connect), then the client with --connect SERVER on another \
        node or pod. The client measures and writes the records. Exits 3 where no RDMA device exists.
        """

    @Option(help: "Server address to connect to (an IPoIB or RoCE interface address); without it, this process is the server.")
    var connect: String?

    @Option(help: "Address the server listens on (default: every RDMA address).")
    var bind: String?

    @Option(help: "TCP-style port of the rdma_cm connection (perftest's default).")
    var port = 18515

    @OptionGroup var sweep: SweepOptions

    @OptionGroup var options: RunOptions
}

/// One verbs baseline process, server or client. The device check comes first: without an RDMA
/// device nothing else is looked at and nothing is written.
struct VerbsRun {
    let kernel: String
    let operation: String
    let options: VerbsOptions

    func run() throws {
        let discovery = Discovery()
        let devices: [Device]
        do { devices = try discovery.devices() } catch { throw Failure(message: "no RDMA device: \(error)", code: .noDevice) }
        if let reason = discovery.absenceReason(devices) {
            throw Failure(message: "no RDMA device: \(reason); \(kernel) needs an InfiniBand or RoCE port", code: .noDevice)
        }

        let (_, sizes, plan) = try options.sweep.parsed(defaultSizes: "4:1M")
        guard (1...65535).contains(options.port) else { throw Failure.badInput("--port \(options.port) is not a port (1-65535)") }
        guard options.options.transport == TransportRequest.auto.rawValue else {
            throw Failure.badInput("--transport \(options.options.transport): verbs runs use verbs itself; leave --transport out")
        }
        let timeout = try options.options.validateTimeout()

        if let server = options.connect {
            try measure(server: server, sizes: sizes, plan: plan, timeout: timeout, devices: devices)
        } else {
            try serve(timeout: timeout)
        }
    }

    private func serve(timeout: Double) throws {
        Watchdog.arm(seconds: timeout, rank: 0, output: nil)
        let served = try mapped {
            try VerbsServer.serve(address: options.bind, port: options.port, timeout: timeout) {
                FileHandle.standardError.write(Data("podgap: \(kernel) server listening on \(options.bind ?? "*"):\(options.port)\n".utf8))
            }
        }
        FileHandle.standardError.write(Data("podgap: \(kernel) served \(served.points) point(s) on \(served.device) port \(served.port)\n".utf8))
    }

    private func measure(server: String, sizes: [Int], plan: IterationPlan, timeout: Double, devices: [Device]) throws {
        // Open the output before connecting so that a bad --out fails before the server is bothered.
        let writer: RecordWriter? = try options.options.out.map { path in
            do { return try RecordWriter(appendingTo: path) }
            catch let error as RecordError { throw Failure.badInput(error.description) }
        }
        Watchdog.arm(seconds: timeout, rank: 0, output: options.options.out)
        let client = try mapped { try VerbsClient(server: server, port: options.port, capacity: sizes.max()!, timeout: timeout) }
        let environment = verbsEnvironment(device: client.device, port: client.port, devices: devices)
        let run = options.options.runID ?? Job.newRunID()
        let progress = Records.ProgressLine()
        if writer == nil { VerbsTable.printHeader(kernel: kernel, environment: environment) }
        var unverified: [String] = []
        for (step, bytes) in sizes.enumerated() {
            progress.update("\(kernel) \(ByteCount.format(bytes))", step: step + 1, of: sizes.count)
            let counts = plan.counts(forBytes: bytes)
            let point = try mapped {
                operation == "send"
                    ? try client.pingPong(bytes: bytes, warmup: counts.warmup, iterations: counts.iterations)
                    : try client.bandwidth(bytes: bytes, warmup: counts.warmup, iterations: counts.iterations)
            }
            let record = Record(run: run, kernel: kernel, ranks: 2, trial: options.options.trial,
                                measurement: measurement(point, device: client.device, port: client.port),
                                keepingSamples: options.options.samples, environment: environment)
            if let writer { try writer.append(record) } else { VerbsTable.printRow(record) }
            if !record.verified { unverified.append("\(bytes) bytes: \(record.verification)") }
        }
        progress.finish()
        try mapped { try client.finish() }
        if let problem = unverified.first {
            throw Failure(message: "\(unverified.count) point(s) failed verification: \(problem)", code: .unverified)
        }
    }

    private func measurement(_ point: VerbsPoint, device: String, port: Int) -> Records.MeasuredPoint {
        var throughput: [String: Double] = [:]
        if operation == "rdma-write", point.elapsed > 0 {
            // GB/s (10^9 bytes), as the allreduce records' algbw.
            throughput["bw_gbps"] = Double(point.bytes * point.iterations) / point.elapsed / 1e9
            throughput["msg_rate_mps"] = Double(point.iterations) / point.elapsed / 1e6
        }
        return Records.MeasuredPoint(parameters: ["bytes": .number(Double(point.bytes)), "operation": .string(operation),
                                        "transport": "verbs-rc", "device": .string(device), "port": .number(Double(port))],
                           warmup: point.warmup, iterations: point.iterations, samples: point.samples,
                           throughput: throughput, verified: point.verified, verification: point.verification)
    }

    /// verbs-native on a host, verbs-pod inside a container, unless --label says otherwise.
    private func verbsEnvironment(device: String, port: Int, devices: [Device]) -> Environment {
        var environment = Environment.local(label: options.options.label)
        if options.options.label == nil {
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
            case .noDevice: throw Failure(message: error.description, code: .noDevice)
            case .timedOut: throw Failure(message: error.description, code: .timedOut)
            default: throw Failure(message: error.description, code: .badInput)
            }
        }
    }
}

/// The text table without --out: perftest's columns.
enum VerbsTable {
    static func printHeader(kernel: String, environment: Environment) {
        print("# podgap \(kernel)")
        print("# environment \(environment.name), \(environment.transport.note ?? "")")
        print(["#bytes", "iterations", "t_min[us]", "t_p50[us]", "t_avg[us]", "t_p99[us]", "BW[GB/s]"]
            .map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        fflush(stdout)
    }

    static func printRow(_ record: Record) {
        let s = record.seconds
        let columns = [record.params["bytes"]?.description ?? "-", String(record.iterations)]
            + [s.min, s.p50, s.mean, s.p99].map { String(format: "%.2f", $0 * 1e6) }
            + [record.throughput["bw_gbps"].map { String(format: "%.2f", $0) } ?? "-"]
        print(columns.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined()
              + (record.verified ? "" : "  UNVERIFIED"))
        fflush(stdout)
    }
}
