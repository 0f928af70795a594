import Foundation
import Launch
import Records
import Spawn

/// One launch as the round loop asks for it: `podgap run` with each of `kernels` in an
/// environment, one after another in one MPI job, its ranks writing their records to a file named
/// `outName`.
public struct LaunchRequest {
    public var environment: SuiteFile.EnvironmentEntry
    /// What follows `podgap run` for each kernel (the kernel, its parameters, label, run id ...),
    /// without `--out`: one for a launch of one kernel, several for a combined launch.
    public var kernels: [[String]]
    /// The records file's name, new for every attempt: pods keep their files (the host never
    /// deletes in their folders), so a name is never used twice.
    public var outName: String
    /// Where the launch's own output goes.
    public var log: String
    /// Wall seconds after which the launch is ended.
    public var timeout: Double
    /// True once Ctrl-C asked the suite to stop: the launch is ended at once.
    public var interrupted: () -> Bool
    /// The launch is `podgap run startup`'s probe alone (`startup: phases`): the launcher says
    /// when it submitted the launch and what came before the ranks' command (`StartupHandover`).
    public var startupProbe: Bool

    public init(environment: SuiteFile.EnvironmentEntry, kernels: [[String]], outName: String, log: String, timeout: Double,
                interrupted: @escaping () -> Bool, startupProbe: Bool = false) {
        self.environment = environment; self.kernels = kernels; self.outName = outName; self.log = log
        self.timeout = timeout; self.interrupted = interrupted; self.startupProbe = startupProbe
    }

    /// What follows `podgap run` when the ranks write to `out`: the kernel's arguments, or
    /// `sequence` (waiting between kernels at gates in `gate`, as the ranks see it) and every
    /// kernel's, each writing to `out`; a startup probe's followed by `probe`, the launcher's
    /// handover (`StartupHandover.arguments(start:launch:)`).
    public func arguments(out: String, gate: String? = nil, probe: [String] = []) -> [String] {
        KernelSequence.arguments(kernels.map { $0 + ["--out", out] + (startupProbe ? probe : []) }, gate: gate)
    }

    /// The name of this launch's gate folder (a combined launch's), beside where its ranks write.
    var gateName: String { "gates-" + (outName as NSString).deletingPathExtension }
}

/// How a launch ended and where its records are.
public struct LaunchResult {
    public var outcome: ChildOutcome
    /// The files the ranks wrote `outName` to.
    public var records: [String]
    /// True when those files are in folders pods can write: read through `SafeFile` only, never
    /// removed. False: a file in the suite's own folder, removed once read.
    public var podWritten: Bool
    /// The nodes' counters over the launch, read on the host (`NodeCounters`); record intake
    /// attaches them to every record of the launch that carries counters.
    public var launchCounters: LaunchCounters?
    /// In a combined launch, the nodes' counters over each kernel's part of it, in the order of
    /// the request's kernels (`NodeCounting`); nil for a launch of one kernel.
    public var kernelCounters: [LaunchCounters]?

    public init(outcome: ChildOutcome, records: [String], podWritten: Bool, launchCounters: LaunchCounters? = nil,
                kernelCounters: [LaunchCounters]? = nil) {
        self.outcome = outcome; self.records = records; self.podWritten = podWritten; self.launchCounters = launchCounters
        self.kernelCounters = kernelCounters
    }
}

/// What readying an environment before the first round came to.
public enum SetUpResult: Equatable {
    case ready
    /// It cannot run: skipped, for this reason.
    case failed(String)
    /// Ctrl-C came during the set-up: nothing of it is left, and it runs on `--resume`.
    case interrupted
}

/// The seam between the round loop and whatever starts ranks: native mpirun or srun, or pods.
/// The loop decides what runs when; a launcher only brings environments up, runs launches and
/// takes everything down.
public protocol EnvironmentLauncher: AnyObject {
    /// Readies `environment` before the first round (pods come up; native needs nothing).
    func setUp(_ environment: SuiteFile.EnvironmentEntry, interrupted: () -> Bool) -> SetUpResult
    /// Runs one launch to its end. Throws only when it cannot be started at all.
    func launch(_ request: LaunchRequest) throws -> LaunchResult
    /// Takes down whatever `setUp` made; called once, however the suite ends.
    func tearDown()
}

/// Whether this machine can run an environment, asked of the module that knows (RDMA discovery,
/// Slurm, pods support). The CLI hands one in: Suite links no C library, so it cannot ask
/// libibverbs itself.
public protocol EnvironmentAvailability {
    /// Why environments that need an RDMA adapter cannot run here; nil when one is usable.
    func rdmaUnavailable() -> String?
    /// Why `launcher: srun` (or sbatch) cannot start ranks here; nil when a Slurm cluster answers.
    func slurmUnavailable() -> String?
    /// Why pods cannot be made here (not root, no runc ...); nil when they can.
    func podsUnavailable() -> String?
    /// Why pods cannot get huge pages here (none reserved), saying how to reserve them; nil when they can.
    func hugePagesUnavailable() -> String?
}

/// The suite's folder and the places in it launches and logs use.
public struct SuiteFolder: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    static let launchOutput = "launch-output"
    static let pods = "pods"

    /// Where a launch of host processes writes: a folder of the suite's own.
    func hostOutput(_ name: String) -> String {
        url.appendingPathComponent(SuiteFolder.launchOutput).appendingPathComponent(name).path
    }

    /// Where a pods environment's pods write: the only part of the suite's folder pods see.
    func podResults(_ label: String) -> String {
        url.appendingPathComponent(SuiteFolder.pods).appendingPathComponent(label).path
    }

    func records(_ label: String) -> String { url.appendingPathComponent("\(label).jsonl").path }

    func log(_ name: String) -> String {
        let logs = url.appendingPathComponent("logs")
        try? FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        return logs.appendingPathComponent("\(name).log").path
    }
}

extension SuiteFile {
    /// What follows `podgap run` for `entry`'s startup probe under `startup: phases` (without the
    /// launcher's handover): `run startup`'s probe, on the environment's network.
    func startupProbe(_ entry: EnvironmentEntry) -> [String] {
        guard case .nodes(_, let mode, let containers) = launch(of: entry) else { return ["startup", "--network", NetworkMode.loopback.rawValue] }
        return ["startup", "--network", mode.rawValue] + (containers ? [] : ["--no-containers"])
    }

    /// How `entry` starts its ranks in this suite. Under Slurm native nodes are Slurm's own nodes
    /// (srun -N), not node namespaces.
    func launch(of entry: EnvironmentEntry) -> EnvironmentKind.Launch {
        if launcher(of: entry).usesSlurm, case .nodes(_, _, false) = entry.kind.launch { return .native(btl: "tcp,self", pml: nil) }
        return entry.kind.launch
    }
}
