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
    /// Pods pull the image from the registry before they start (the `pull` knob); nil for none.
    public var pull: Knobs.Pull?
    /// What starts native ranks: mpirun on this host, or Slurm (srun, or sbatch with srun in its
    /// batch script), the launch timed from the submission.
    public var launcher: LaunchPlan.NativeStarter

    /// The environment native startup launches are: mpirun on this host, over shared memory.
    public static let nativeEnvironment = EnvironmentCatalog.nativeShm

    public init(network: NetworkMode, containers: Bool, ranks: Int, trials: Int, settings: RunSettings, podgap: String,
                machine: Machine = .current, pull: Knobs.Pull? = nil, launcher: LaunchPlan.NativeStarter = .mpirun,
                report: @escaping (String) -> Void) {
        self.network = network; self.containers = containers; self.ranks = ranks; self.trials = trials
        self.settings = settings; self.podgap = podgap; self.machine = machine; self.report = report
        self.pull = pull == .never ? nil : pull
        self.launcher = launcher
    }

    /// What the launcher hands the ranks besides the start (one type for `run startup` and suites).
    public typealias Handover = StartupHandover

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
        if pull != nil && (podNetwork == nil || !containers) {
            throw RunFailure.badInput("--pull brings the image to the nodes of pods: give --network \(PodNetwork.all.map(\.mode.rawValue).joined(separator: "|")) without --no-containers")
        }
        if !containers && podNetwork == nil {
            throw RunFailure.badInput("--network \(network.rawValue) runs mpirun on this host; --no-containers applies to emulated nodes (--network \(PodNetwork.host.mode.rawValue))")
        }
        if launcher != .mpirun && podNetwork != nil {
            throw RunFailure.badInput("--launcher \(launcher.rawValue) starts native ranks through Slurm: give --network \(NetworkMode.loopback.rawValue) (pods are started by mpirun over the pods)")
        }
        for trial in settings.trial..<(settings.trial + trials) {
            let status = try podNetwork.map { try pods($0, out: path, runID: runID, trial: trial) }
                ?? native(out: path.path, runID: runID, trial: trial)
            guard status == 0 else { throw RunFailure(message: "startup trial \(trial) failed with \(status)", code: .unverified) }
        }
    }

    /// The native launch's plan: native-shm's, started by `launcher`.
    func nativePlan() throws -> LaunchPlan {
        do { return try LaunchPlan.native(environment: StartupRun.nativeEnvironment, ranks: ranks, starter: launcher, machine: machine) } catch let error as LaunchError {
            throw RunFailure.badInput(error.description)
        }
    }

    /// The native launch's argv for one trial: the launch plan's mpirun, srun or sbatch, then the
    /// ranks' probe; Slurm names the job `job`, a batch job's output goes to `output`.
    public func nativeCommand(start: Double, out: String, runID: String, trial: Int, job: String? = nil,
                              output: String = "/dev/null") throws -> [String] {
        try nativePlan().argv(running: [podgap] + probeArguments(start: start, launch: launcher.rawValue, out: out, runID: runID, trial: trial,
                                                                 handover: Handover(launched: start)),
                              job: job, output: output)
    }

    private func probeArguments(start: Double, launch: String, out: String, runID: String, trial: Int, handover: Handover) -> [String] {
        var arguments = ["run", "startup", "--network", network.rawValue] + handover.arguments(start: start, launch: launch)
            + ["--out", out, "--run-id", runID, "--trial", String(trial)]
        if let label = settings.label { arguments += ["--label", label] }
        if !containers { arguments.append("--no-containers") }
        if let round = settings.round { arguments += ["--round", String(round)] }
        if let position = settings.position { arguments += ["--position", String(position)] }
        return arguments
    }

    /// mpirun on this host, the ranks as plain processes; or Slurm's srun or sbatch, the
    /// submission timed from here, a batch job's output kept until it has ended well.
    private func native(out: String, runID: String, trial: Int) throws -> Int32 {
        let plan = try nativePlan()
        let job = "podgap-startup-\(runID)-\(trial)"
        let output = launcher == .sbatch ? FileManager.default.temporaryDirectory.appendingPathComponent("\(job).out").path : "/dev/null"
        defer { if output != "/dev/null" { unlink(output) } }
        let argv = try nativeCommand(start: Date().timeIntervalSince1970, out: out, runID: runID, trial: trial, job: job, output: output)
        let starter: Session
        do { starter = try Session(argv, environment: MPIRunEnvironment.current.merging(plan.environment) { $1 }) } catch let error as SpawnError {
            throw RunFailure.badInput(error.description)
        }
        if let status = starter.wait(seconds: settings.timeout) {
            if status != 0 && output != "/dev/null" { report("\(launcher.rawValue) job \(job): \(Child.lastLine(of: output))") }
            return status
        }
        _ = starter.end(grace: 5)
        plan.cancel(job: job)
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
                                   containers: containers, knobs: Knobs(pull: pull), results: results)
            defer { PodJob.down(job: name, store: store) }
            let state = try PodJob.up(spec, store: store, submitted: Date(timeIntervalSince1970: start))
            let written = containers ? "/results/\(out.lastPathComponent)" : out.path
            let handover = Handover(launched: Date().timeIntervalSince1970, phases: state.startupPhases, pulledBytes: state.pulledBytes,
                                   unpackedBytes: state.unpackedBytes)
            let command = ["podgap"] + probeArguments(start: start, launch: "pods", out: written, runID: runID, trial: trial,
                                                      handover: handover)
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
    public static func probe(start: Double, launch: String?, network: NetworkMode, containers: Bool, settings: RunSettings,
                             handover: Handover? = nil) throws {
        let context = LaunchContext()
        let writer = try context.rank == 0 ? settings.out.map { try RecordWriter(appendingTo: $0) } : nil
        let processStarted = ProcessStart.seconds() ?? start
        let threadLevel = try MPI.initialize(threadLevel: .single)
        let finished = Date().timeIntervalSince1970
        let world = Communicator.world
        // The first collective: the slowest rank's MPI_Init end and process start, together.
        let slowestPair = try world.allreduce([finished, processStarted], operation: .max)
        let firstCollective = Date().timeIntervalSince1970
        let slowest = slowestPair[0]
        var environment = try Environment.detect(label: settings.label, communicator: world, context: context, yieldSetBy: nil)
        environment.mpiThreadLevel = threadLevel.name
        if let writer {
            let seconds = slowest - start
            let includes = launch == "srun" ? "srun (allocation, step launch) + MPI_Init"
                : launch == "sbatch" ? "sbatch (queue wait, batch script) + srun + MPI_Init"
                : launch != "pods" ? "mpirun + MPI_Init"
                : !containers ? "pods up (node netns, underlay) + mpirun + MPI_Init"
                : "pods up (netns, CNI, runc create+start) + mpirun + MPI_Init"
            var handover = handover ?? Handover(launched: start)
            if launch == LaunchPlan.NativeStarter.sbatch.rawValue {
                // The batch script's start, stamped by the script and handed on by srun.
                handover.allocated = ProcessInfo.processInfo.environment[LaunchPlan.allocatedVariable].flatMap(Double.init)
            }
            let phases = StartupRun.phases(start: start, handover: handover, processesStarted: slowestPair[1], slowestInit: slowest,
                                           firstCollective: firstCollective, pods: launch == "pods")
            let check = StartupRun.checkSum(phases, total: firstCollective - start)
            let ok = seconds > 0 && check.ok
            let measurement = MeasuredPoint(
                parameters: ["launch": .string(launch ?? context.launcher), "network": .string(network.rawValue),
                             "includes": .string(includes)],
                warmup: 0, iterations: 1, samples: [seconds],
                throughput: handover.byteCounts,
                phases: Dictionary(phases.map { ($0.0.rawValue, [$0.1]) }) { first, _ in first },
                verified: ok, verification: seconds <= 0 ? "clock went backwards: \(seconds) s"
                    : "every rank finished MPI_Init after the launch began; " + check.sentence)
            try writer.append(Record(run: settings.runID ?? KernelRun.newRunID(), kernel: Startup.name, descriptor: Startup.descriptor,
                                     ranks: world.size, trial: settings.trial, round: settings.round, position: settings.position,
                                     measurement: measurement, keepingSamples: false, environment: environment))
        }
        try MPI.finalize()
    }

    /// The launch's phases in order: pods up's as handed over, then from the launch command on
    /// (pods: the wire-up to the slowest MPI_Init; native: a batch job's allocation, the slowest
    /// process start, then MPI_Init), then the first allreduce.
    static func phases(start: Double, handover: Handover, processesStarted: Double, slowestInit: Double, firstCollective: Double,
                       pods: Bool) -> [(StartupPhase, Double)] {
        var phases = handover.phases
        if pods {
            phases.append((.wireUp, slowestInit - handover.launched))
        } else {
            var from = handover.launched
            if let allocated = handover.allocated {
                from = max(allocated, from)
                phases.append((.allocated, from - handover.launched))
            }
            // A process cannot start before its launch: a coarse clock (ticks) must not say so.
            let started = max(processesStarted, from)
            phases += [(.processesStarted, started - from), (.mpiInit, slowestInit - started)]
        }
        phases.append((.firstCollective, firstCollective - slowestInit))
        return phases
    }

    /// Whether the phases add up to the measured submit-to-first-collective time, within
    /// `StartupPhase.sumTolerance`: what no phase covers (the launcher's own steps between
    /// them) shows as the difference.
    static func checkSum(_ phases: [(StartupPhase, Double)], total: Double) -> (ok: Bool, sentence: String) {
        let sum = phases.reduce(0) { $0 + $1.1 }
        let off = total > 0 ? abs(sum - total) / total : .infinity
        let words = String(format: "the phases add up to %.4f s of %.4f s from submit to the first allreduce (%.1f%% off)", sum, total, off * 100)
        return (off <= StartupPhase.sumTolerance, words)
    }
}

/// When a process (this one by default) started, in seconds since 1970 (CLOCK_REALTIME, as the
/// launcher's submit time): its start after boot (clock ticks of CLOCK_BOOTTIME, /proc/PID/stat's
/// 22nd field) moved onto the real-time clock by the two clocks' difference now. Not /proc/stat's
/// btime: whole seconds, and stale once NTP has slewed the clock, it put starts up to a second
/// off, before their own launch.
enum ProcessStart {
    static func seconds(of pid: String = "self") -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command's ")" start at the 3rd (state): the 22nd is the 20th of them.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        var sinceBoot = timespec()
        guard clock_gettime(CLOCK_BOOTTIME, &sinceBoot) == 0 else { return nil }
        let boot = Date().timeIntervalSince1970 - (Double(sinceBoot.tv_sec) + Double(sinceBoot.tv_nsec) / 1e9)
        let perSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        return boot + ticks / max(perSecond, 1)
    }
}
