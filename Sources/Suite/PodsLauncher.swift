import Foundation
import Launch
import Pods
import Records
import Spawn

/// Pods environments, as library calls: `PodJob.up` before the first round, `PodLaunch(...).run` for
/// each launch (mpirun over the pods, the MPI Operator's way), `PodJob.down` at the end. Each
/// environment's pods write in a folder of their own under `pods/`; the launcher only names
/// the files there, which record intake reads without following links.
///
/// An environment with the `pull` knob is a job submitted afresh for every launch, as a cluster
/// pays its start: its pods come up in the launch (its nodes pulling from the registry: `always`
/// into emptied stores, cold; `if-not-present` into the stores its earlier launches filled, warm)
/// and go down after it, so every round pays the pull and its records carry that launch's phases.
/// Its nodes' image stores are its own (`JobSpec.nodeStores`), so that one environment's cold
/// pulls never empty another's warm stores; they go with the suite (a cold one's after each launch).
final class PodsLauncher: EnvironmentLauncher {
    let suite: SuiteFile
    let folder: SuiteFolder
    let store: Store
    let say: (String) -> Void
    /// Pods job names unique per results folder, so parallel suites never collide.
    private let jobPrefix: String
    /// The jobs that are up, by environment label.
    private var jobs: [String: JobState] = [:]
    /// The jobs brought up for each launch (pull environments), by environment label.
    private var perLaunch: [String: JobSpec] = [:]

    init(suite: SuiteFile, folder: SuiteFolder, store: Store = Store(), say: @escaping (String) -> Void) {
        self.suite = suite; self.folder = folder; self.store = store; self.say = say
        var hash: UInt32 = 2166136261
        for byte in folder.url.standardizedFileURL.path.utf8 { hash = (hash ^ UInt32(byte)) &* 16777619 }
        jobPrefix = "s" + String(String(hash, radix: 36).suffix(4))
    }

    func jobName(_ entry: SuiteFile.EnvironmentEntry) -> String {
        let index = suite.environments.firstIndex { $0.label == entry.label } ?? 0
        return "\(jobPrefix)-e\(index)"
    }

    func setUp(_ entry: SuiteFile.EnvironmentEntry, interrupted: () -> Bool) -> SetUpResult {
        guard case .nodes(let defaultNodes, let mode, let containers) = suite.launch(of: entry) else { return .ready }
        guard let network = PodNetwork(mode) else { return .failed("no pod network for \(mode.rawValue)") }
        let (nodes, perNode) = entry.placement(ranks: suite.ranks, defaultNodes: defaultNodes)
        let job = jobName(entry)
        let logName = "\(entry.label)-pods-up"
        let log = LogLines(folder.log(logName))
        // Leftovers of an interrupted run with the same name would make `up` fail.
        PodJob.down(job: job, store: store)
        var spec: JobSpec
        do {
            spec = try JobSpec(name: job, nodes: nodes, podsPerNode: perNode, network: network, containers: containers,
                               knobs: entry.knobs, cpuset: entry.cpuset, memory: entry.memory,
                               results: folder.podResults(entry.label), splitCPUs: entry.splitCPUs)
        } catch {
            return .failed("pods up failed: \(error)")
        }
        if let pull = entry.knobs.pull {
            spec.nodeStores = job
            let registry = Registry(store: store)
            // Stores a former run of this folder left: the first launch starts from empty nodes too.
            registry.removeNodeStores(group: job)
            do {
                guard try registry.load().pushed[Image.tag] != nil else {
                    return .failed("pull: registry \(registry.endpoint) holds no pushed podgap image: run podgap image push")
                }
            } catch {
                return .failed("pull: \(error) (and podgap image push)")
            }
            say("\(entry.label): pods come up for each launch (pull \(pull.rawValue), \(nodes) node(s) x \(perNode) pod(s), network \(mode.rawValue))")
            perLaunch[entry.label] = spec
            return .ready
        }
        say("bringing up \(entry.label) (\(nodes) node(s) x \(perNode) pod(s), network \(mode.rawValue)\(containers ? "" : ", no containers"))")
        let state: JobState
        do {
            state = try PodJob.up(spec, store: store, progress: log.write)
        } catch {
            // Ctrl-C meanwhile: whatever came up goes down, and the environment runs on --resume.
            if interrupted() {
                PodJob.down(job: job, store: store)
                return .interrupted
            }
            let reason = "pods up failed: \(error)"
            log.write(reason)
            return .failed(reason + " [log: logs/\(logName).log]")
        }
        // `up` cannot be stopped half-way: Ctrl-C during it takes the pods down once they are up.
        if interrupted() {
            PodJob.down(job: job, store: store)
            return .interrupted
        }
        jobs[entry.label] = state
        return .ready
    }

    func launch(_ request: LaunchRequest) throws -> LaunchResult {
        let label = request.environment.label
        if let spec = perLaunch[label] { return launchAfresh(spec, request) }
        guard let state = jobs[label] else {
            throw SuiteError("\(label): its pods are not up")
        }
        return run(request, on: state, submitted: nil, handover: [])
    }

    /// A pull environment's launch: its job comes up (submitted now: the launch's clock), runs the
    /// launch and goes down, whatever happened; a cold environment's node stores go with it.
    private func launchAfresh(_ spec: JobSpec, _ request: LaunchRequest) -> LaunchResult {
        let log = LogLines(request.log)
        let submitted = Date()
        defer { tearDown(spec, emptyingStores: spec.knobs.pull == .always) }
        let state: JobState
        do {
            state = try PodJob.up(spec, store: store, submitted: submitted, progress: log.write)
        } catch {
            let reason = "pods up failed: \(error)"
            log.write(reason)
            return LaunchResult(outcome: ChildOutcome(status: 1, seconds: Date().timeIntervalSince(submitted), interrupted: request.interrupted(),
                                                      lastLine: reason), records: [], podWritten: true)
        }
        if let pulls = state.pulls {
            log.write("pulled: " + pulls.map {
                "n\($0.node) \($0.bytes) bytes in \(String(format: "%.2f", $0.pullSeconds)) s, snapshot \($0.snapshot?.rawValue ?? "made")"
            }.joined(separator: ", "))
        }
        return run(request, on: state, submitted: submitted, handover: state.startupPhases, pulledBytes: state.pulledBytes,
                   unpackedBytes: state.unpackedBytes)
    }

    /// Runs `request` on the pods of `state`, the launch submitted at `submitted` (nil: pods that
    /// were up already, submitted with the launch command); a startup probe gets `handover`, the
    /// phases before the launch command (from `submitted`), and the bytes pulled.
    private func run(_ request: LaunchRequest, on state: JobState, submitted: Date?, handover: [(StartupPhase, Double)],
                     pulledBytes: Int64? = nil, unpackedBytes: Int64? = nil) -> LaunchResult {
        let log = LogLines(request.log)
        // Pods write in their own /results; ranks without containers are host processes.
        let containers = state.spec.containers
        let out = containers ? "/results/\(request.outName)" : folder.hostOutput(request.outName)
        let records = containers ? state.pods.map { ($0.results as NSString).appendingPathComponent(request.outName) } : [out]
        // A combined launch's gates: in the job's /etc/mpi, which pods mount read-only.
        let gates = (store.jobFolder(state.spec.name) as NSString).appendingPathComponent("etc/mpi/" + request.gateName)
        let counting = NodeCounting(NodeCounters(namespaces: state.nodeNetns), kernels: request.kernels.count, hostFolder: gates, log: request.log)
        let gate = counting.hostFolder.map { containers ? "/etc/mpi/" + request.gateName : $0 }
        let launched = Date()
        let submitted = submitted ?? launched
        // Ranks without containers are host processes that mpirun starts (native phases); pods', after the wire-up.
        let probe = StartupHandover(launched: launched.timeIntervalSince1970, phases: handover, pulledBytes: pulledBytes,
                                    unpackedBytes: unpackedBytes)
            .arguments(start: submitted.timeIntervalSince1970, launch: containers ? "pods" : SuiteFile.Launcher.mpirun.rawValue)
        let outcome: ChildOutcome
        do {
            let result = try PodLaunch(state: state, store: store, ranks: suite.ranks, timeout: request.timeout,
                                       command: ["podgap", "run"] + request.arguments(out: out, gate: gate, probe: probe))
                .run(output: .log(request.log), interrupted: request.interrupted, report: log.write)
            outcome = ChildOutcome(status: result.status, seconds: Date().timeIntervalSince(submitted), timedOut: result.timedOut,
                                   interrupted: result.interrupted, lastLine: Child.lastLine(of: request.log))
        } catch {
            // Refused before mpirun started (a pod not running, mpirun missing): a failed launch,
            // never the kernel refusing its parameters.
            let reason = "\(error)"
            log.write(reason)
            outcome = ChildOutcome(status: 1, seconds: Date().timeIntervalSince(submitted), lastLine: reason)
        }
        let counted = counting.finish()
        return LaunchResult(outcome: outcome, records: records, podWritten: containers, launchCounters: counted.launch,
                            kernelCounters: counted.parts)
    }

    /// Takes a pull environment's job down after its launch (its nodes' stores too, `emptyingStores`).
    private func tearDown(_ spec: JobSpec, emptyingStores: Bool) {
        var removed = PodJob.down(job: spec.name, store: store)
        if emptyingStores, let group = spec.nodeStores { removed += Registry(store: store).removeNodeStores(group: group) }
        LogLines(folder.log("\(spec.name)-pods-down")).write("\(spec.name): removed \(removed.count) item(s)")
    }

    func tearDown() {
        for (label, state) in jobs.sorted(by: { $0.key < $1.key }) {
            let removed = PodJob.down(job: state.spec.name, store: store)
            LogLines(folder.log("\(label)-pods-down")).write("\(state.spec.name): removed \(removed.count) item(s)")
        }
        jobs.removeAll()
        // Each launch took its own job down; a launch cut short may not have, and warm stores stay until here.
        for spec in perLaunch.values { tearDown(spec, emptyingStores: true) }
        perLaunch.removeAll()
    }

}

/// Lines appended to a log file of the suite's own (never through a link).
struct LogLines: Sendable {
    let path: String
    init(_ path: String) { self.path = path }

    func write(_ line: String) {
        try? AppendingFile(path, followingLinks: false).write(Data((line + "\n").utf8))
    }
}

/// The launchers of a suite, each environment to the one that starts it: pods for pods and
/// emulated nodes, native (mpirun or srun) for the rest.
public final class SuiteLaunchers: EnvironmentLauncher {
    let suite: SuiteFile
    let native: NativeLauncher
    let pods: PodsLauncher

    /// `podgap`: the binary native ranks run (this one); `say`: progress lines for the user.
    public init(suite: SuiteFile, folder: URL, podgap: String,
                say: @escaping (String) -> Void = { FileHandle.standardError.write(Data("podgap suite: \($0)\n".utf8)) }) {
        self.suite = suite
        native = NativeLauncher(suite: suite, folder: SuiteFolder(folder), podgap: podgap)
        pods = PodsLauncher(suite: suite, folder: SuiteFolder(folder), say: say)
    }

    func launcher(for entry: SuiteFile.EnvironmentEntry) -> EnvironmentLauncher {
        if case .nodes = suite.launch(of: entry) { return pods }
        return native
    }

    public func setUp(_ environment: SuiteFile.EnvironmentEntry, interrupted: () -> Bool) -> SetUpResult {
        launcher(for: environment).setUp(environment, interrupted: interrupted)
    }

    public func launch(_ request: LaunchRequest) throws -> LaunchResult { try launcher(for: request.environment).launch(request) }

    public func tearDown() {
        pods.tearDown()
        native.tearDown()
    }
}
