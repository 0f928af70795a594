import Probes
import ArgumentParser
import Records
import Foundation
import MPI
import Pods
import Kernels
import Runner
import Spawn

/// `podgap run startup`: seconds from the launch command to every rank having finished MPI_Init,
/// natively (mpirun on this host) or in pods (pod network, container create and start included),
/// the cost users name first for pods. One record per trial; the ranks write it, so its
/// environment is the one they ran in.
struct StartupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: Startup.name,
        abstract: "Time from launch to every rank past MPI_Init, natively or in pods (container create and start included).")

    @Option(help: "loopback (mpirun on this host, no pods), or the pods' network: host, bridge, routed, overlay.")
    var network = NetworkMode.loopback

    @Flag(name: .customLong("no-containers"), help: "Emulated nodes without pods (native-2node); needs --network host.")
    var noContainers = false

    @Option(help: "Ranks (one pod per rank in pods).")
    var np = 2

    @Option(help: "Trials, one record each.")
    var trials = 3

    @Option(help: .hidden)
    var probeStart: Double?

    @Option(help: .hidden)
    var probeLaunch: String?

    @OptionGroup var options: RunOptions

    func run() throws {
        if let probeStart { return try probe(start: probeStart) }
        guard np >= 1, trials >= 1 else { throw Failure.badInput("--np and --trials must be at least 1") }
        let timeout = options.timeout.value
        guard let out = options.out else { throw Failure.badInput("startup needs --out FILE (the ranks write the records)") }
        let path = URL(fileURLWithPath: out, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let runID = options.runID ?? Job.newRunID()
        let podNetwork = PodNetwork(network)
        // Emulated nodes check the rest (--no-containers wants the host network) in JobSpec.
        if noContainers && podNetwork == nil {
            throw Failure.badInput("--network \(network.rawValue) runs mpirun on this host; --no-containers applies to emulated nodes (--network \(PodNetwork.host.mode.rawValue))")
        }
        for trial in options.trial..<(options.trial + trials) {
            let status = try podNetwork.map { try pods($0, out: path, runID: runID, trial: trial, timeout: timeout) }
                ?? native(out: path.path, runID: runID, trial: trial, timeout: timeout)
            guard status == 0 else { throw Failure(message: "startup trial \(trial) failed with \(status)", code: .unverified) }
        }
    }

    private func probeArguments(start: Double, launch: String, out: String, runID: String, trial: Int) -> [String] {
        var arguments = ["run", "startup", "--network", network.rawValue, "--probe-start", String(format: "%.6f", start), "--probe-launch", launch,
                         "--out", out, "--run-id", runID, "--trial", String(trial)]
        if let label = options.label { arguments += ["--label", label] }
        if noContainers { arguments.append("--no-containers") }
        if let round = options.round { arguments += ["--round", String(round)] }
        if let position = options.position { arguments += ["--position", String(position)] }
        return arguments
    }

    /// mpirun on this host, the ranks as plain processes.
    private func native(out: String, runID: String, trial: Int, timeout: Double) throws -> Int32 {
        let start = Date().timeIntervalSince1970
        let argv = ["/usr/bin/mpirun", "-np", String(np), "--oversubscribe", CommandLine.arguments[0]]
            + probeArguments(start: start, launch: "mpirun", out: out, runID: runID, trial: trial)
        let mpirun: Session
        do { mpirun = try Session(argv, environment: MPIRunEnvironment.current) } catch let error as SpawnError {
            throw Failure.badInput(error.description)
        }
        if let status = mpirun.wait(seconds: timeout) { return status }
        _ = mpirun.end(grace: 5)
        throw Failure(message: "startup trial \(trial) timed out after \(Int(timeout.rounded()))s; records written so far are intact",
                      code: .timedOut)
    }

    /// A fresh job per trial: pods up (namespaces, CNI, runc create + start), then the launch.
    /// Taking the job down afterwards is not timed.
    private func pods(_ network: PodNetwork, out: URL, runID: String, trial: Int, timeout: Double) throws -> Int32 {
        try PodsFailure.map {
            let name = "su" + String(UInt32.random(in: 0...0xffffff), radix: 16)
            let spread = network.spansNodes ? (nodes: np, perNode: 1) : (nodes: 1, perNode: np)
            let start = Date().timeIntervalSince1970
            // Pods write in folders of their own inside the job's state folder, which `down`
            // removes once no pod runs; rank 0's record then joins `out`. Nodes without
            // containers write `out` themselves.
            let store = Store()
            let results = noContainers ? out.deletingLastPathComponent().path : store.jobFolder(name) + "/results"
            let spec = try JobSpec(name: name, nodes: spread.nodes, podsPerNode: spread.perNode, network: network,
                                   containers: !noContainers, results: results)
            defer { PodJob.down(job: name, store: store) }
            let state = try PodJob.up(spec, store: store)
            let written = noContainers ? out.path : "/results/\(out.lastPathComponent)"
            let command = ["podgap"] + probeArguments(start: start, launch: "pods", out: written, runID: runID, trial: trial)
            let outcome = try Launch(state: state, store: store, ranks: np, timeout: timeout, command: command)
                .run(report: PodsFailure.report)
            if let first = state.pods.first {
                do { try SafeFile.collect(first.results + "/" + out.lastPathComponent, into: out.path, limit: 1 << 20) } catch {
                    throw PodsError.failed("the startup record a pod wrote was refused: \(error)")
                }
            }
            return outcome.status
        }
    }

    /// Inside each rank: MPI_Init, then the slowest rank's finish time against the launch's start.
    private func probe(start: Double) throws {
        let context = LaunchContext()
        let writer = try context.rank == 0 ? options.out.map { try RecordWriter(appendingTo: $0) } : nil
        let threadLevel = try MPI.initialize(threadLevel: .single)
        let finished = Date().timeIntervalSince1970
        let world = Communicator.world
        let slowest = try world.allreduce(finished, operation: .max)
        var environment = try Environment.detect(label: options.label, communicator: world, context: context, yieldSetBy: nil)
        environment.mpiThreadLevel = threadLevel.name
        if let writer {
            let seconds = slowest - start
            let includes = probeLaunch != "pods" ? "mpirun + MPI_Init"
                : noContainers ? "pods up (node netns, underlay) + mpirun + MPI_Init"
                : "pods up (netns, CNI, runc create+start) + mpirun + MPI_Init"
            let measurement = MeasuredPoint(
                parameters: ["launch": .string(probeLaunch ?? context.launcher), "network": .string(network.rawValue),
                             "includes": .string(includes)],
                warmup: 0, iterations: 1, samples: [seconds],
                verified: seconds > 0, verification: seconds > 0 ? "every rank finished MPI_Init after the launch began"
                                                                 : "clock went backwards: \(seconds) s")
            try writer.append(Record(run: options.runID ?? Job.newRunID(), kernel: Startup.name, descriptor: Startup.descriptor,
                                     ranks: world.size, trial: options.trial, round: options.round, position: options.position,
                                     measurement: measurement, keepingSamples: false, environment: environment))
        }
        try MPI.finalize()
    }
}
