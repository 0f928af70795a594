import Foundation
import Pods
import Records
import Spawn

/// Pods environments, as library calls: `PodJob.up` before the first round, `PodLaunch(...).run` for
/// each launch (mpirun over the pods, the MPI Operator's way), `PodJob.down` at the end. Each
/// environment's pods write in a folder of their own under `pods/`; the launcher only names
/// the files there, which record intake reads without following links.
final class PodsLauncher: EnvironmentLauncher {
    let suite: SuiteFile
    let folder: SuiteFolder
    let store: Store
    let say: (String) -> Void
    /// Pods job names unique per results folder, so parallel suites never collide.
    private let jobPrefix: String
    /// The jobs that are up, by environment label.
    private var jobs: [String: JobState] = [:]

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
        say("bringing up \(entry.label) (\(nodes) node(s) x \(perNode) pod(s), network \(mode.rawValue)\(containers ? "" : ", no containers"))")
        // Leftovers of an interrupted run with the same name would make `up` fail.
        PodJob.down(job: job, store: store)
        let state: JobState
        do {
            let spec = try JobSpec(name: job, nodes: nodes, podsPerNode: perNode, network: network, containers: containers,
                                   knobs: entry.knobs, cpuset: entry.cpuset, memory: entry.memory,
                                   results: folder.podResults(entry.label), splitCPUs: entry.splitCPUs)
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
        let log = LogLines(request.log)
        guard let state = jobs[request.environment.label] else {
            throw SuiteError("\(request.environment.label): its pods are not up")
        }
        // Pods write in their own /results; ranks without containers are host processes.
        let containers = state.spec.containers
        let out = containers ? "/results/\(request.outName)" : folder.hostOutput(request.outName)
        let records = containers ? state.pods.map { ($0.results as NSString).appendingPathComponent(request.outName) } : [out]
        // A combined launch's gates: in the job's /etc/mpi, which pods mount read-only.
        let gates = (store.jobFolder(state.spec.name) as NSString).appendingPathComponent("etc/mpi/" + request.gateName)
        let counting = NodeCounting(NodeCounters(namespaces: state.nodeNetns), kernels: request.kernels.count, hostFolder: gates, log: request.log)
        let gate = counting.hostFolder.map { containers ? "/etc/mpi/" + request.gateName : $0 }
        let started = Date()
        let outcome: ChildOutcome
        do {
            let result = try PodLaunch(state: state, store: store, ranks: suite.ranks, timeout: request.timeout,
                                    command: ["podgap", "run"] + request.arguments(out: out, gate: gate))
                .run(output: .log(request.log), interrupted: request.interrupted, report: log.write)
            outcome = ChildOutcome(status: result.status, seconds: Date().timeIntervalSince(started), timedOut: result.timedOut,
                                   interrupted: result.interrupted, lastLine: Child.lastLine(of: request.log))
        } catch {
            // Refused before mpirun started (a pod not running, mpirun missing): a failed launch,
            // never the kernel refusing its parameters.
            let reason = "\(error)"
            log.write(reason)
            outcome = ChildOutcome(status: 1, seconds: Date().timeIntervalSince(started), lastLine: reason)
        }
        let counted = counting.finish()
        return LaunchResult(outcome: outcome, records: records, podWritten: containers, launchCounters: counted.launch,
                            kernelCounters: counted.parts)
    }

    func tearDown() {
        for (label, state) in jobs.sorted(by: { $0.key < $1.key }) {
            let removed = PodJob.down(job: state.spec.name, store: store)
            LogLines(folder.log("\(label)-pods-down")).write("\(state.spec.name): removed \(removed.count) item(s)")
        }
        jobs.removeAll()
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
