import Foundation
import Kernels
import Launch
import MPI
import Pods
import Probes
import Records
import Spawn

/// `podgap run startup`: seconds from the launch command to every rank having finished MPI_Init,
/// natively (mpirun on this host, as the launch plan starts native-shm) or in pods (pod network,
/// container create and start included). One record per trial; the ranks write it, so its
/// environment is the one they ran in.
public struct StartupRun {
    /// loopback for mpirun on this host; a pods network otherwise.
    public var network: NetworkMode
    /// Emulated nodes without pods (native-2node).
    public var containers: Bool
    public var ranks: Int
    public var trials: Int
    public var settings: RunSettings
    /// The podgap binary the native ranks run (this one).
    public var podgap: String
    /// The machine the launch plan's rules judge.
    public var machine: Machine
    /// Where a failed pods launch says what happened.
    public var report: (String) -> Void

    /// The environment native startup launches are: mpirun on this host, over shared memory.
    public static let nativeEnvironment = EnvironmentCatalog.nativeShm

    public init(network: NetworkMode, containers: Bool, ranks: Int, trials: Int, settings: RunSettings, podgap: String,
                machine: Machine = .current, report: @escaping (String) -> Void) {
        self.network = network; self.containers = containers; self.ranks = ranks; self.trials = trials
        self.settings = settings; self.podgap = podgap; self.machine = machine; self.report = report
    }

    /// Runs every trial; throws `RunFailure` with the exit code to leave with.
    public func run() throws {
        guard ranks >= 1, trials >= 1 else { throw RunFailure.badInput("--np and --trials must be at least 1") }
        guard let out = settings.out else { throw RunFailure.badInput("startup needs --out FILE (the ranks write the records)") }
        let path = URL(fileURLWithPath: out, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let runID = settings.runID ?? KernelRun.newRunID()
        let podNetwork = PodNetwork(network)
        // Emulated nodes check the rest (--no-containers wants the host network) in JobSpec.
        if !containers && podNetwork == nil {
            throw RunFailure.badInput("--network \(network.rawValue) runs mpirun on this host; --no-containers applies to emulated nodes (--network \(PodNetwork.host.mode.rawValue))")
        }
        for trial in settings.trial..<(settings.trial + trials) {
            let status = try podNetwork.map { try pods($0, out: path, runID: runID, trial: trial) }
                ?? native(out: path.path, runID: runID, trial: trial)
            guard status == 0 else { throw RunFailure(message: "startup trial \(trial) failed with \(status)", code: .unverified) }
        }
    }

    /// The native launch's argv for one trial: the launch plan's mpirun, then the ranks' probe.
    public func nativeCommand(start: Double, out: String, runID: String, trial: Int) throws -> [String] {
        let plan: LaunchPlan
        do { plan = try LaunchPlan.native(environment: StartupRun.nativeEnvironment, ranks: ranks, machine: machine) } catch let error as LaunchError {
            throw RunFailure.badInput(error.description)
        }
        return plan.command + [podgap] + probeArguments(start: start, launch: "mpirun", out: out, runID: runID, trial: trial)
    }

    private func probeArguments(start: Double, launch: String, out: String, runID: String, trial: Int) -> [String] {
        var arguments = ["run", "startup", "--network", network.rawValue, "--probe-start", String(format: "%.6f", start), "--probe-launch", launch,
                         "--out", out, "--run-id", runID, "--trial", String(trial)]
        if let label = settings.label { arguments += ["--label", label] }
        if !containers { arguments.append("--no-containers") }
        if let round = settings.round { arguments += ["--round", String(round)] }
        if let position = settings.position { arguments += ["--position", String(position)] }
        return arguments
    }

    /// mpirun on this host, the ranks as plain processes.
    private func native(out: String, runID: String, trial: Int) throws -> Int32 {
        let argv = try nativeCommand(start: Date().timeIntervalSince1970, out: out, runID: runID, trial: trial)
        let mpirun: Session
        do { mpirun = try Session(argv, environment: MPIRunEnvironment.current) } catch let error as SpawnError {
            throw RunFailure.badInput(error.description)
        }
        if let status = mpirun.wait(seconds: settings.timeout) { return status }
        _ = mpirun.end(grace: 5)
        throw RunFailure(message: "startup trial \(trial) timed out after \(Int(settings.timeout.rounded()))s; records written so far are intact",
                         code: .timedOut)
    }

    /// A fresh job per trial: pods up (namespaces, CNI, runc create + start), then the launch.
    /// Taking the job down afterwards is not timed.
    private func pods(_ network: PodNetwork, out: URL, runID: String, trial: Int) throws -> Int32 {
        do {
            let name = "su" + String(UInt32.random(in: 0...0xffffff), radix: 16)
            let spread = network.spansNodes ? (nodes: ranks, perNode: 1) : (nodes: 1, perNode: ranks)
            let start = Date().timeIntervalSince1970
            // Pods write in folders of their own inside the job's state folder, which `down`
            // removes once no pod runs; rank 0's record then joins `out`. Nodes without
            // containers write `out` themselves.
            let store = Store()
            let results = containers ? store.jobFolder(name) + "/results" : out.deletingLastPathComponent().path
            let spec = try JobSpec(name: name, nodes: spread.nodes, podsPerNode: spread.perNode, network: network,
                                   containers: containers, results: results)
            defer { PodJob.down(job: name, store: store) }
            let state = try PodJob.up(spec, store: store)
            let written = containers ? "/results/\(out.lastPathComponent)" : out.path
            let command = ["podgap"] + probeArguments(start: start, launch: "pods", out: written, runID: runID, trial: trial)
            let outcome = try PodLaunch(state: state, store: store, ranks: ranks, timeout: settings.timeout, command: command,
                                        machine: machine).run(report: report)
            if let first = state.pods.first {
                do { try SafeFile.collect(first.results + "/" + out.lastPathComponent, into: out.path, limit: 1 << 20) } catch {
                    throw PodsError.failed("the startup record a pod wrote was refused: \(error)")
                }
            }
            return outcome.status
        } catch let error as PodsError {
            switch error {
            case .badInput(let message): throw RunFailure.badInput(message)
            case .unavailable(let message): throw RunFailure(message: message, code: .noDevice)
            case .failed(let message): throw RunFailure(message: message, code: .unverified)
            }
        }
    }

    /// Inside each rank: MPI_Init, then the slowest rank's finish time against the launch's start.
    /// `launch` is how the ranks were started (mpirun, pods).
    public static func probe(start: Double, launch: String?, network: NetworkMode, containers: Bool, settings: RunSettings) throws {
        let context = LaunchContext()
        let writer = try context.rank == 0 ? settings.out.map { try RecordWriter(appendingTo: $0) } : nil
        let threadLevel = try MPI.initialize(threadLevel: .single)
        let finished = Date().timeIntervalSince1970
        let world = Communicator.world
        let slowest = try world.allreduce(finished, operation: .max)
        var environment = try Environment.detect(label: settings.label, communicator: world, context: context, yieldSetBy: nil)
        environment.mpiThreadLevel = threadLevel.name
        if let writer {
            let seconds = slowest - start
            let includes = launch != "pods" ? "mpirun + MPI_Init"
                : !containers ? "pods up (node netns, underlay) + mpirun + MPI_Init"
                : "pods up (netns, CNI, runc create+start) + mpirun + MPI_Init"
            let measurement = MeasuredPoint(
                parameters: ["launch": .string(launch ?? context.launcher), "network": .string(network.rawValue),
                             "includes": .string(includes)],
                warmup: 0, iterations: 1, samples: [seconds],
                verified: seconds > 0, verification: seconds > 0 ? "every rank finished MPI_Init after the launch began"
                                                                 : "clock went backwards: \(seconds) s")
            try writer.append(Record(run: settings.runID ?? KernelRun.newRunID(), kernel: Startup.name, descriptor: Startup.descriptor,
                                     ranks: world.size, trial: settings.trial, round: settings.round, position: settings.position,
                                     measurement: measurement, keepingSamples: false, environment: environment))
        }
        try MPI.finalize()
    }
}
