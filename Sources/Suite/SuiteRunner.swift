import Foundation
import Launch
import Records
import Spawn

/// Runs a suite into a results folder, round after round: every environment once per kernel per
/// round, in the round's seeded order. Pods come up once, before the first round (set-up, not a
/// launch), stay up across rounds and always come down. Every launch and every finished round is
/// journaled, so `--resume` continues at the first round that did not finish.
///
/// Pods are untrusted: each pods environment gets its own folder under `pods/`, the only part of
/// the results folder pods see. The suite's own files (journal, suite.yaml, records per
/// environment, reports) live outside it; what pods wrote is read through `SafeFile` (no link
/// followed, regular files only, size bounded) and its records, checked, appended to the suite's
/// own files. The host never writes or deletes anything under `pods/`.
public final class SuiteRunner {
    /// How many rounds, in which orders, and when to stop early.
    public struct Settings: Equatable, Sendable {
        /// Rounds to run; with a budget, the most to run (nil: as many as the budget allows).
        public var rounds: Int?
        public var seed: UInt64
        /// Seconds to spend on rounds: the suite stops when the next round would not fit.
        public var budget: Double?
        /// With a budget: stop once every headline's 95% interval is at most this many points wide.
        public var targetCI: Double?

        public init(rounds: Int?, seed: UInt64, budget: Double? = nil, targetCI: Double? = nil) {
            self.rounds = rounds; self.seed = seed; self.budget = budget; self.targetCI = targetCI
        }
    }

    /// How precise the comparison is so far: the widest headline interval, in points.
    public struct Precision: Equatable, Sendable {
        public var widest: Double
        /// Which headline that is, in words.
        public var headline: String
        public init(widest: Double, headline: String) { self.widest = widest; self.headline = headline }
    }

    public struct Outcome {
        public var folder: String
        /// Rounds finished in the folder (this run and earlier ones).
        public var rounds: Int
        public var launches: Int
        public var skipped: [SkippedEnvironment]
        /// Why no more rounds ran.
        public var stop: String
        /// The precision when the suite stopped, where it was measured (budget runs).
        public var precision: Precision?
        public var meanOverhead: Double
        public var maxOverhead: Double
    }

    /// Records a pod may write per launch: far above any sweep's (a 4:4M sweep with samples is
    /// under 1 MB), far below what would hurt the host.
    static let launchRecordLimit = 64 << 20
    /// Rounds before a budget run first asks whether its intervals are narrow enough.
    static let minimumRounds = 3
    static let resultsOfPods = "pods"
    /// What the startup probe runs: the smallest launch that still starts MPI everywhere.
    public static let probe = ["allreduce", "--sizes", "4", "--iterations", "1", "--warmup", "0"]
    static let launchOutput = "launch-output"
    static let interruptedFolder = "interrupted"

    let suite: SuiteFile
    let folder: URL
    /// The podgap binary launches run (this one).
    let podgap: String
    let settings: Settings
    /// Whether `podgap run` takes `--round` and `--position` (the suite sets them on every
    /// record it keeps either way).
    let passesRound: Bool
    let precision: ((URL) -> Precision?)?
    let progress: Records.ProgressLine
    let log: (String) -> Void

    private var skipped: [String: String] = [:]
    private var podsUp: [String: String] = [:]
    /// Where each pods environment's pods write (one folder per pod, or one for all of them).
    private var podFolders: [String: [String]] = [:]
    /// Kernels (by index) that have completed a launch: their parameters are known to be good.
    private var succeeded = Set<Int>()
    private let interrupted = Locked(false)
    private var signalSources: [DispatchSourceSignal] = []
    private let jobPrefix: String
    /// This run's number among the runs of the suite (1, then one more per resume): it names
    /// output files apart from an earlier run's, since pods keep theirs (the host never deletes
    /// in their folders), so a name is never used twice.
    private var session = 1

    public init(suite: SuiteFile, folder: URL, podgap: String, settings: Settings, passesRound: Bool,
                precision: ((URL) -> Precision?)? = nil, progress: Records.ProgressLine = Records.ProgressLine(),
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data("podgap suite: \($0)\n".utf8)) }) {
        self.suite = suite; self.folder = folder; self.podgap = podgap; self.settings = settings
        self.passesRound = passesRound; self.precision = precision; self.progress = progress; self.log = log
        // Pods job names unique per folder, so parallel suites never collide.
        var hash: UInt32 = 2166136261
        for byte in folder.standardizedFileURL.path.utf8 { hash = (hash ^ UInt32(byte)) &* 16777619 }
        jobPrefix = "s" + String(String(hash, radix: 36).suffix(4))
    }

    public var journal: Journal { Journal(path: folder.appendingPathComponent(SuiteRunner.journalFile).path) }
    public static let journalFile = "launches.jsonl"

    func recordsFile(_ label: String) -> String { folder.appendingPathComponent("\(label).jsonl").path }

    public func run() throws -> Outcome {
        let state = journal.state()
        if state.settings == nil {
            var header = Journal.Event(.suite)
            header.seed = settings.seed; header.rounds = settings.rounds; header.budget = settings.budget; header.targetCI = settings.targetCI
            try journal.append(header)
        }
        let firstRound = (state.finished.max() ?? 0) + 1
        if state.settings != nil {
            session = state.sessions + 1
            try journal.append(Journal.Event(.resumed))
            log("resuming at round \(firstRound): \(state.finished.count) round(s) finished and kept")
            try setAsideUnfinished(from: firstRound)
        }
        checkEnvironments()
        installSignalHandlers()
        defer { tearDownAll(); removeSignalHandlers() }

        let started = Date()
        for entry in suite.environments where skipped[entry.label] == nil {
            if interrupted.value { break }
            if case .nodes = method(entry) { bringUp(entry) }
        }

        var overheads: [Double] = [], roundSeconds: [Double] = []
        var launches = 0, round = firstRound
        var stop = "", reached: Precision?
        var underWay = ""
        rounds: while !interrupted.value {
            if let limit = settings.rounds, round > limit { stop = settings.budget == nil ? "all \(limit) rounds ran" : "the most rounds asked for (\(limit)) ran"; break }
            if let budget = settings.budget, let typical = roundSeconds.max(), Date().timeIntervalSince(started) + typical > budget {
                stop = String(format: "the time budget (%.0f s) was spent", budget)
                break
            }
            let live = suite.environments.filter { skipped[$0.label] == nil }
            guard !live.isEmpty else { stop = "every environment was skipped"; break }
            let plan = Schedule.round(round, of: suite, seed: settings.seed)
            var event = Journal.Event(.round)
            event.round = round; event.order = Schedule.order(of: suite.environments.map(\.label), round: round, seed: settings.seed)
            try journal.append(event)
            let roundStarted = Date()
            var lastExit: Date?
            for (index, launch) in plan.enumerated() {
                if interrupted.value { break rounds }
                let label = launch.environment.label
                if skipped[label] != nil { continue }
                progress.update("round \(round)\(settings.rounds.map { "/\($0)" } ?? "") \(label) \(launch.kernelName)", step: index + 1, of: plan.count)
                let overhead = lastExit.map { Date().timeIntervalSince($0) }
                underWay = "round \(round), \(launch.id)"
                let result = try perform(launch)
                lastExit = Date()
                if interrupted.value { break rounds }
                guard let (seconds, count) = result else { continue }
                launches += 1
                if let overhead { overheads.append(overhead) }
                var entry = Journal.Event(.launch)
                entry.id = launch.id; entry.environment = label; entry.kernel = launch.kernelName; entry.round = round
                entry.position = launch.position; entry.seconds = seconds; entry.overhead = overhead; entry.records = count
                try journal.append(entry)
            }
            var finished = Journal.Event(.finished)
            finished.round = round
            finished.seconds = Date().timeIntervalSince(roundStarted)
            try journal.append(finished)
            roundSeconds.append(finished.seconds!)
            underWay = "between rounds \(round) and \(round + 1)"
            if settings.budget != nil, let target = settings.targetCI, round >= SuiteRunner.minimumRounds, let precision {
                reached = precision(folder)
                if let reached, reached.widest <= target {
                    stop = String(format: "the target was reached: every headline interval at most %.1f points wide", target)
                    break
                }
            }
            round += 1
        }
        progress.finish()
        tearDownAll()
        let skippedList = suite.environments.compactMap { entry in skipped[entry.label].map { SkippedEnvironment(environment: entry.label, reason: $0) } }
        try SkippedEnvironment.write(skippedList, to: folder.appendingPathComponent(SkippedEnvironment.file).path)
        if interrupted.value {
            if !underWay.isEmpty {
                var event = Journal.Event(.interrupted)
                event.during = underWay
                event.round = round
                try journal.append(event)
            }
            throw SuiteError("interrupted; finished rounds are kept: continue with podgap suite --resume \(folder.path)", interrupted: true)
        }
        var stopped = Journal.Event(.stopped)
        stopped.reason = stop; stopped.widest = reached?.widest; stopped.round = round - 1
        try journal.append(stopped)
        return Outcome(folder: folder.path, rounds: journal.state().finished.count, launches: launches, skipped: skippedList,
                       stop: stop, precision: reached,
                       meanOverhead: overheads.isEmpty ? 0 : overheads.reduce(0, +) / Double(overheads.count),
                       maxOverhead: overheads.max() ?? 0)
    }

    // MARK: environments

    func method(_ entry: SuiteFile.EnvironmentEntry) -> EnvironmentKind.Launch {
        // Under Slurm native nodes are Slurm's own nodes (srun -N), not node namespaces.
        if suite.launcher == .srun, case .nodes(_, _, false) = entry.kind.launch { return .native(btl: "tcp,self", pml: nil) }
        return entry.kind.launch
    }

    /// Marks what cannot run here, with the reason the report will show.
    private func checkEnvironments() {
        var podsAvailable: Bool?
        var slurmAvailable: Bool?
        for entry in suite.environments {
            if entry.kind.needsRDMA && !FileManager.default.fileExists(atPath: "/dev/infiniband") {
                skipped[entry.label] = "no RDMA devices on this machine (/dev/infiniband is absent)"
                continue
            }
            switch method(entry) {
            case .nodes:
                if podsAvailable == nil { podsAvailable = quietly([podgap, "pods", "--help"]) }
                if podsAvailable == false { skipped[entry.label] = "podgap pods is not available in this build (podgap pods --help failed)" }
            case .native:
                if suite.launcher == .srun {
                    if slurmAvailable == nil { slurmAvailable = Executable.find("sinfo").map { quietly([$0]) } ?? false }
                    if slurmAvailable == false { skipped[entry.label] = "no Slurm cluster: run scripts/slurm-local up" }
                }
            }
        }
        for (label, reason) in skipped.sorted(by: { $0.key < $1.key }) { log("skipping \(label): \(reason)") }
    }

    /// Brings up a pods environment; on failure marks it skipped, unless Ctrl-C stopped it: an
    /// interrupted set-up is journaled as interrupted and the environment runs on `--resume`.
    private func bringUp(_ entry: SuiteFile.EnvironmentEntry) {
        guard case .nodes(let defaultNodes, let mode, let containers) = method(entry) else { return }
        let nodes = entry.nodes ?? defaultNodes
        let perNode = entry.podsPerNode ?? max(1, suite.ranks / nodes)
        let job = jobName(entry)
        // Each environment's pods write in a folder of their own, which holds nothing of the suite's.
        let results = folder.appendingPathComponent(SuiteRunner.resultsOfPods).appendingPathComponent(entry.label).path
        var arguments = [podgap, "pods", "up", "--name", job, "--nodes", "\(nodes)", "--pods-per-node", "\(perNode)",
                         "--network", mode.rawValue, "--results", results]
        if !containers { arguments.append("--no-containers") }
        if let cpus = entry.cpus { arguments += ["--cpus", cpus] }
        if let cpuset = entry.cpuset { arguments += ["--cpuset", cpuset] }
        if entry.splitCPUs { arguments.append("--split-cpus") }
        if let memory = entry.memory { arguments += ["--memory", memory] }
        // Leftovers of an interrupted run with the same name would make `up` fail.
        _ = quietly([podgap, "pods", "down", "--name", job])
        log("bringing up \(entry.label) (\(nodes) node(s) x \(perNode) pod(s), network \(mode.rawValue)\(containers ? "" : ", no containers"))")
        let outcome = try? ChildProcess.run(arguments, environment: MPIRunEnvironment.current, log: logPath("\(entry.label)-pods-up"),
                                            timeout: 300, interrupted: { self.interrupted.value })
        if interrupted.value || outcome?.interrupted == true {
            var event = Journal.Event(.interrupted)
            event.during = "bringing up \(entry.label)"
            event.environment = entry.label
            try? journal.append(event)
            log("interrupted while bringing up \(entry.label); it runs again on --resume")
            _ = quietly([podgap, "pods", "down", "--name", job])
            return
        }
        guard let outcome, outcome.status == 0 else {
            let reason = outcome.map { "podgap pods up failed (exit \($0.status)): \($0.lastLine)" } ?? "podgap pods up could not start"
            skipped[entry.label] = reason + " [log: logs/\(entry.label)-pods-up.log]"
            log("skipping \(entry.label): \(reason)")
            _ = quietly([podgap, "pods", "down", "--name", job])
            return
        }
        podsUp[entry.label] = job
        podFolders[entry.label] = containers ? resultFolders(job: job, given: results) : []
    }

    /// Where the pods of `job` write: each pod's own folder where `pods list --json` names them,
    /// else the one folder given to `pods up`.
    private func resultFolders(job: String, given: String) -> [String] {
        let listing = logPath("\(job)-list.json")
        guard let outcome = try? ChildProcess.run([podgap, "pods", "list", "--json"], environment: MPIRunEnvironment.current,
                                                  log: logPath("\(job)-list"), stdout: listing, timeout: 60, interrupted: { false }),
              outcome.status == 0, let data = FileManager.default.contents(atPath: listing),
              let jobs = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]],
              let state = jobs.first(where: { ($0["spec"] as? [String: Any])?["name"] as? String == job || $0["name"] as? String == job }),
              let pods = state["pods"] as? [[String: Any]] else { return [given] }
        let own = pods.compactMap { $0["results"] as? String }
        return own.count == pods.count && !own.isEmpty ? own : [given]
    }

    private func tearDownAll() {
        for (label, job) in podsUp.sorted(by: { $0.key < $1.key }) {
            let outcome = try? ChildProcess.run([podgap, "pods", "down", "--name", job], environment: MPIRunEnvironment.current,
                                                log: logPath("\(label)-pods-down"), timeout: 120, interrupted: { false })
            if outcome?.status != 0 { log("warning: podgap pods down --name \(job) failed: \(outcome?.lastLine ?? "did not start")") }
        }
        podsUp.removeAll()
    }

    func jobName(_ entry: SuiteFile.EnvironmentEntry) -> String {
        let index = suite.environments.firstIndex { $0.label == entry.label } ?? 0
        return "\(jobPrefix)-e\(index)"
    }

    // MARK: launches

    /// Runs one launch and keeps its records: its wall seconds and record count when it
    /// succeeded, nil when it was interrupted or its environment is now skipped.
    private func perform(_ launch: PlannedLaunch, attempt: Int = 1) throws -> (Double, Int)? {
        let label = launch.environment.label
        let outName = "\(launch.id).s\(session)-\(attempt).jsonl"
        var runArguments = launch.kernel?.arguments ?? SuiteRunner.probe
        let timeout = DurationText.seconds(suite.timeout)!
        runArguments += ["--label", label, "--trial", "\(launch.round)", "--run-id", launch.id, "--timeout", suite.timeout]
        if passesRound { runArguments += ["--round", "\(launch.round)", "--position", "\(launch.position)"] }
        if launch.environment.kind == EnvironmentCatalog.nativeTCP { runArguments += ["--transport", "tcp"] }
        let command = self.command(for: launch.environment, run: runArguments, outName: outName)
        let outcome = try ChildProcess.run(command, environment: MPIRunEnvironment.current, log: logPath(launch.id),
                                           timeout: timeout + 30, interrupted: { self.interrupted.value })
        if outcome.interrupted { return nil }
        if outcome.status == 2, launch.kernel != nil, !succeeded.contains(launch.kernelIndex) {
            // The kernel refused its parameters before ever running: the suite file is wrong, not
            // the environment. (Once it has run, exit 2 is a launch problem, e.g. MPI not starting.)
            throw SuiteError("\(launch.id): podgap run rejected the suite's parameters: \(outcome.lastLine) [log: \(logPath(launch.id))]")
        }
        // Exit 1 from a kernel is podgap run's "measured, but a point failed verification": the
        // records are written and flagged, and the report shows them apart from the statistics.
        let measured = outcome.status == 0 || (outcome.status == 1 && launch.kernel != nil)
        var failure = outcome.timedOut ? "timed out after \(Int(timeout + 30))s" : "failed (exit \(outcome.status)): \(outcome.lastLine)"
        if measured {
            do {
                let count = try keep(launch, outName: outName, seconds: outcome.seconds)
                if outcome.status == 1 { log("\(launch.id): some points failed verification (kept, flagged in the report): \(outcome.lastLine)") }
                succeeded.insert(launch.kernelIndex)
                return (outcome.seconds, count)
            } catch let error as SafeFile.Refused {
                failure = "its records were refused: \(error.reason)"
            } catch let error as SuiteError {
                failure = error.description
            }
        }
        if attempt == 1 && !outcome.timedOut {
            // One retry: a busy machine occasionally fails a launch (MPI start-up, a port). The
            // retry writes a file of its own, so nothing is counted twice.
            log("\(launch.id) \(failure); trying it once more")
            return try perform(launch, attempt: 2)
        }
        skipped[label] = "round \(launch.round), \(launch.kernelName): \(failure) [log: logs/\(launch.id).log]; later rounds not run"
        log("skipping \(label): \(skipped[label]!)")
        return nil
    }

    /// The full command line for one launch of `podgap run ...` in an environment. Native
    /// launches start as the launch plan says (the same flags as `podgap-mpirun` and `run startup`).
    func command(for entry: SuiteFile.EnvironmentEntry, run: [String], outName: String, machine: Machine = .current) -> [String] {
        switch method(entry) {
        case .native:
            let tail = [podgap, "run"] + run + ["--out", hostOutput(outName)]
            let starter = LaunchPlan.NativeStarter(rawValue: suite.launcher.rawValue) ?? .mpirun
            // Every catalog kind that reaches here is native, or nodes without containers under srun.
            guard let plan = try? LaunchPlan.native(environment: entry.kind, ranks: suite.ranks, starter: starter, machine: machine) else {
                preconditionFailure("\(entry.kind.name) is not a native environment")
            }
            return plan.command + tail
        case .nodes(_, _, let containers):
            // Pods write in their own /results; ranks without containers are host processes.
            let out = containers ? "/results/\(outName)" : hostOutput(outName)
            return [podgap, "pods", "launch", "--name", podsUp[entry.label] ?? jobName(entry), "--np", "\(suite.ranks)",
                    "--timeout", suite.timeout, "--", "podgap", "run"] + run + ["--out", out]
        }
    }

    /// Where a launch of host processes writes: a folder of the suite's own.
    private func hostOutput(_ name: String) -> String {
        folder.appendingPathComponent(SuiteRunner.launchOutput).appendingPathComponent(name).path
    }

    /// The suite's own measurement: the wall time of a tiny launch, from the launch command to
    /// its exit (pods: container create and start included), one record per environment and round.
    public static let launchKernel = "launch"
    public static let launchDescriptor = KernelDescriptor(
        metrics: [.init(key: "seconds", label: "launch time (start to exit)", unit: "seconds", direction: .lowerIsBetter)],
        headlines: [.init(label: "launch time (start to exit)", point: .heaviest, asRate: false)],
        order: 5)

    /// Reads what the launch wrote and appends its records, marked with the round and the
    /// position, to the environment's records file; the startup probe becomes one "launch"
    /// record of its wall time. Returns how many records were kept.
    private func keep(_ launch: PlannedLaunch, outName: String, seconds: Double) throws -> Int {
        let label = launch.environment.label
        var sources: [String]
        if let folders = podFolders[label], !folders.isEmpty {
            sources = folders.map { ($0 as NSString).appendingPathComponent(outName) }
        } else {
            sources = [hostOutput(outName)]
        }
        var records: [Record] = [], foreign = 0, bad = 0
        for source in sources {
            guard let data = try SafeFile.read(source, limit: SuiteRunner.launchRecordLimit) else { continue }
            for (number, line) in data.split(separator: 0x0A).enumerated() {
                guard let record = try? RecordReader.decode(Substring(decoding: line, as: UTF8.self), file: source, line: number + 1) else {
                    bad += 1
                    continue
                }
                // Only this launch's records: whatever else a pod put in the file stays out.
                guard record.run == launch.id else { foreign += 1; continue }
                records.append(record)
            }
            // Host processes wrote in the suite's own folder: that file has served its purpose.
            if podFolders[label]?.isEmpty ?? true { try? FileManager.default.removeItem(atPath: source) }
        }
        if bad + foreign > 0 { log("\(launch.id): passed over \(bad) unreadable and \(foreign) foreign line(s) in its output") }
        guard !records.isEmpty else { throw SuiteError("wrote no records") }
        let writer = try RecordWriter(appendingTo: recordsFile(label))
        if launch.kernel == nil {
            let probe = records[0]
            let point = MeasuredPoint(parameters: ["probe": "allreduce-4B-x1"], warmup: 0, iterations: 1,
                                      samples: [seconds], verified: probe.verified,
                                      verification: "wall time from launch to exit, measured by podgap suite")
            let record = Record(run: launch.id, kernel: SuiteRunner.launchKernel, descriptor: SuiteRunner.launchDescriptor,
                                ranks: probe.ranks, trial: launch.round, round: launch.round, position: launch.position,
                                measurement: point, keepingSamples: false, environment: probe.environment)
            try writer.append(record)
            return 1
        }
        for var record in records {
            // The suite knows which round and place it ran the launch in; the record says so
            // whatever the writer did.
            record.trial = launch.round
            record.round = launch.round
            record.position = launch.position
            try writer.append(record)
        }
        return records.count
    }

    /// On resume: records of rounds that did not finish go to `interrupted/` (those rounds run
    /// again whole), as does a line cut short, so the records files hold finished rounds only.
    private func setAsideUnfinished(from firstRound: Int) throws {
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(SuiteRunner.launchOutput))
        let aside = folder.appendingPathComponent(SuiteRunner.interruptedFolder)
        for entry in suite.environments {
            let path = recordsFile(entry.label)
            guard let data = try SafeFile.read(path, limit: Int.max) else { continue }
            var keep: [Data.SubSequence] = [], drop: [Data.SubSequence] = []
            for (number, line) in data.split(separator: 0x0A).enumerated() {
                let round = (try? RecordReader.decode(Substring(decoding: line, as: UTF8.self), file: path, line: number + 1))?.round
                if let round, round < firstRound { keep.append(line) } else { drop.append(line) }
            }
            guard !drop.isEmpty else { continue }
            try FileManager.default.createDirectory(at: aside, withIntermediateDirectories: true)
            let old = (try SafeFile.read(aside.appendingPathComponent("\(entry.label).jsonl").path, limit: Int.max)) ?? Data()
            try (old + Data(drop.joined(separator: [0x0A])) + Data([0x0A])).write(to: aside.appendingPathComponent("\(entry.label).jsonl"), options: .atomic)
            try (keep.isEmpty ? Data() : Data(keep.joined(separator: [0x0A])) + Data([0x0A])).write(to: URL(fileURLWithPath: path), options: .atomic)
            log("\(entry.label): \(drop.count) record(s) of unfinished round \(firstRound) set aside in \(SuiteRunner.interruptedFolder)/")
        }
    }

    // MARK: plumbing

    func logPath(_ name: String) -> String {
        let logs = folder.appendingPathComponent("logs")
        try? FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        return logs.appendingPathComponent("\(name).log").path
    }

    private func quietly(_ arguments: [String]) -> Bool {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-suite-\(getpid())-probe.log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        return (try? ChildProcess.run(arguments, environment: MPIRunEnvironment.current, log: log, timeout: 120, interrupted: { false }))?.status == 0
    }

    /// Ctrl-C or SIGTERM: end the running launch, then the loop stops and pods come down.
    private func installSignalHandlers() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [interrupted] in
                interrupted.value = true
                ChildProcess.terminateCurrent()
            }
            source.resume()
            signalSources.append(source)
        }
    }

    private func removeSignalHandlers() {
        signalSources.forEach { $0.cancel() }
        signalSources.removeAll()
        signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
    }
}
