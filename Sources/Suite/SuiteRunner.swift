import Foundation
import Launch
import Records
import Spawn

/// Runs a suite into a results folder, round after round: each environment of the round's plan
/// (`RoundPlan`) once per kernel, in the plan's order. This is the round loop (plan, stop rules,
/// budget, target, resume, retry and skip); an `EnvironmentLauncher` starts the launches and
/// `RecordIntake` keeps their records. Environments are set up once, before the first round (pods:
/// set-up, not a launch), stay up across rounds and always come down. Every launch and every finished round is
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

        /// How each round is laid out (`RoundPlan`).
        public var layout: RoundPlan.Layout
        /// Rounds in which every environment runs before a budget rests any (`RoundPlan`).
        public var fullRounds: Int

        public init(rounds: Int?, seed: UInt64, budget: Double? = nil, targetCI: Double? = nil, layout: RoundPlan.Layout = .paired,
                    fullRounds: Int = RoundPlan.roundsBeforeResting) {
            self.rounds = rounds; self.seed = seed; self.budget = budget; self.targetCI = targetCI; self.layout = layout
            self.fullRounds = fullRounds
        }
    }

    /// How precise the comparison is so far: the widest headline interval, in points.
    public struct Precision: Equatable, Sendable {
        public var widest: Double
        /// Which headline that is, in words.
        public var headline: String
        /// Each environment's widest headline interval, in points: where a budget run spends its
        /// next rounds (`RoundPlan`).
        public var widths: [String: Double]
        public init(widest: Double, headline: String, widths: [String: Double] = [:]) {
            self.widest = widest; self.headline = headline; self.widths = widths
        }
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

    /// Rounds before a budget run first asks whether its intervals are narrow enough.
    static let minimumRounds = 3
    /// What the startup probe runs: the smallest launch that still starts MPI everywhere.
    /// (`startup: phases`: `SuiteFile.startupProbe`.)
    public static let probe = ["allreduce", "--sizes", "4", "--iterations", "1", "--warmup", "0"]

    let suite: SuiteFile
    let folder: SuiteFolder
    let settings: Settings
    /// Whether `podgap run` takes `--round` and `--position` (the suite sets them on every
    /// record it keeps either way).
    let passesRound: Bool
    let launcher: EnvironmentLauncher
    let availability: EnvironmentAvailability
    let precision: ((URL) -> Precision?)?
    let progress: Records.ProgressLine
    let log: (String) -> Void
    let intake: RecordIntake
    /// Whether `run` takes SIGINT and SIGTERM for itself (the CLI); tests call `interrupt()`.
    let handlesSignals: Bool

    private var skipped: [String: String] = [:]
    /// Kernels (by index, -1 the startup probe) that have completed a launch: their parameters are known to be good.
    private var succeeded = Set<Int>()
    private let interrupted = Locked(false)
    private var signalSources: [DispatchSourceSignal] = []
    /// This run's number among the runs of the suite (1, then one more per resume): it names
    /// output files apart from an earlier run's, since pods keep theirs (the host never deletes
    /// in their folders), so a name is never used twice.
    private var session = 1

    public init(suite: SuiteFile, folder: URL, settings: Settings, passesRound: Bool,
                launcher: EnvironmentLauncher, availability: EnvironmentAvailability,
                precision: ((URL) -> Precision?)? = nil, progress: Records.ProgressLine = Records.ProgressLine(),
                handlesSignals: Bool = true,
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data("podgap suite: \($0)\n".utf8)) }) {
        self.suite = suite; self.folder = SuiteFolder(folder); self.settings = settings; self.passesRound = passesRound
        self.launcher = launcher; self.availability = availability
        self.precision = precision; self.progress = progress; self.handlesSignals = handlesSignals; self.log = log
        intake = RecordIntake(folder: self.folder, log: log)
    }

    /// Stops the suite as Ctrl-C does: the running launch ends, no further one starts, the
    /// journal says what was under way, and `run` throws an interrupted `SuiteError`.
    public func interrupt() {
        interrupted.value = true
        Child.terminateCurrent()
    }

    public var journal: Journal { Journal(path: folder.url.appendingPathComponent(SuiteRunner.journalFile).path) }
    public static let journalFile = "launches.jsonl"

    public func run() throws -> Outcome {
        let state = journal.state()
        if state.settings == nil {
            var header = Journal.Event(.suite)
            header.seed = settings.seed; header.rounds = settings.rounds; header.budget = settings.budget; header.targetCI = settings.targetCI
            header.layout = settings.layout
            try journal.append(header)
        }
        let firstRound = (state.finished.max() ?? 0) + 1
        if state.settings != nil {
            session = state.sessions + 1
            try journal.append(Journal.Event(.resumed))
            log("resuming at round \(firstRound): \(state.finished.count) round(s) finished and kept")
            try intake.setAsideUnfinished(of: suite.environments, from: firstRound)
        }
        checkEnvironments()
        if handlesSignals { installSignalHandlers() }
        defer { launcher.tearDown(); if handlesSignals { removeSignalHandlers() } }

        let started = Date()
        for entry in suite.environments where skipped[entry.label] == nil {
            if interrupted.value { break }
            try setUp(entry)
        }

        // Each finished round's seconds per environment it ran: a round's cost is its plan's size.
        var overheads: [Double] = [], environmentSeconds: [Double] = []
        var launches = 0, round = firstRound
        var stop = "", reached: Precision?
        // A resumed budget run plans its next round from the kept records, as the first run did.
        if measuresPrecision(after: firstRound - 1) { reached = precision?(folder.url) }
        var underWay = ""
        rounds: while !interrupted.value {
            if let limit = settings.rounds, round > limit { stop = settings.budget == nil ? "all \(limit) rounds ran" : "the most rounds asked for (\(limit)) ran"; break }
            let live = suite.environments.filter { skipped[$0.label] == nil }
            guard !live.isEmpty else { stop = "every environment was skipped"; break }
            let widths = settings.budget == nil ? nil : reached?.widths
            let layout = RoundPlan(round: round, environments: live.map(\.label), baseline: suite.baseline, seed: settings.seed,
                                   layout: settings.layout, widths: widths, target: settings.targetCI,
                                   fullRounds: settings.fullRounds)
            if let budget = settings.budget, let slowest = environmentSeconds.max(),
               Date().timeIntervalSince(started) + slowest * Double(layout.order.count) > budget {
                stop = String(format: "the time budget (%.0f s) was spent", budget)
                break
            }
            let plan = Schedule.round(round, of: suite, order: layout.order)
            var event = Journal.Event(.round)
            // JSON has no infinity: an environment without an interval yet is left out (read back as unmeasured).
            event.round = round; event.order = layout.order; event.widths = widths?.filter { $0.value.isFinite }
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
                let counted = try perform(launch, overhead: overhead)
                lastExit = Date()
                if interrupted.value { break rounds }
                guard counted else { continue }
                launches += 1
                if let overhead { overheads.append(overhead) }
            }
            var finished = Journal.Event(.finished)
            finished.round = round
            finished.seconds = Date().timeIntervalSince(roundStarted)
            try journal.append(finished)
            environmentSeconds.append(finished.seconds! / Double(layout.order.count))
            underWay = "between rounds \(round) and \(round + 1)"
            if measuresPrecision(after: round), let target = settings.targetCI, let precision {
                reached = precision(folder.url)
                if let reached, reached.widest <= target {
                    stop = String(format: "the target was reached: every headline interval at most %.1f points wide", target)
                    break
                }
            }
            round += 1
        }
        progress.finish()
        let skippedList = suite.environments.compactMap { entry in skipped[entry.label].map { SkippedEnvironment(environment: entry.label, reason: $0) } }
        try SkippedEnvironment.write(skippedList, to: folder.url.appendingPathComponent(SkippedEnvironment.file).path)
        if interrupted.value {
            if !underWay.isEmpty {
                var event = Journal.Event(.interrupted)
                event.during = underWay
                event.round = round
                try journal.append(event)
            }
            throw SuiteError("interrupted; finished rounds are kept: continue with podgap suite --resume \(folder.url.path)", interrupted: true)
        }
        var stopped = Journal.Event(.stopped)
        stopped.reason = stop; stopped.widest = reached?.widest.isFinite == true ? reached?.widest : nil; stopped.round = round - 1
        try journal.append(stopped)
        return Outcome(folder: folder.url.path, rounds: journal.state().finished.count, launches: launches, skipped: skippedList,
                       stop: stop, precision: reached,
                       meanOverhead: overheads.isEmpty ? 0 : overheads.reduce(0, +) / Double(overheads.count),
                       maxOverhead: overheads.max() ?? 0)
    }

    /// Whether a budget run reads its intervals once `round` has finished.
    private func measuresPrecision(after round: Int) -> Bool {
        settings.budget != nil && settings.targetCI != nil && round >= SuiteRunner.minimumRounds
    }

    // MARK: environments

    /// Marks what cannot run here, with the reason the report will show, each question asked
    /// once of the module that knows.
    private func checkEnvironments() {
        lazy var rdma = availability.rdmaUnavailable()
        lazy var pods = availability.podsUnavailable()
        lazy var slurm = availability.slurmUnavailable()
        lazy var hugePages = availability.hugePagesUnavailable()
        for entry in suite.environments {
            if entry.kind.needsRDMA, let reason = rdma {
                skipped[entry.label] = "no RDMA devices on this machine: \(reason)"
                continue
            }
            switch suite.launch(of: entry) {
            case .nodes:
                if let reason = pods {
                    skipped[entry.label] = "pods cannot run here: \(reason)"
                } else if entry.knobs.hugepages == true, let reason = hugePages {
                    skipped[entry.label] = reason
                }
            case .native:
                if suite.launcher(of: entry).usesSlurm, let reason = slurm { skipped[entry.label] = "no Slurm cluster: \(reason)" }
            }
        }
        for (label, reason) in skipped.sorted(by: { $0.key < $1.key }) { log("skipping \(label): \(reason)") }
    }

    /// Readies an environment before the first round; on failure marks it skipped, unless
    /// Ctrl-C stopped it: an interrupted set-up is journaled as interrupted and the environment
    /// runs on `--resume`.
    private func setUp(_ entry: SuiteFile.EnvironmentEntry) throws {
        switch launcher.setUp(entry, interrupted: { self.interrupted.value }) {
        case .ready:
            break
        case .interrupted:
            var event = Journal.Event(.interrupted)
            event.during = "bringing up \(entry.label)"
            event.environment = entry.label
            try journal.append(event)
            log("interrupted while bringing up \(entry.label); it runs again on --resume")
        case .failed(let reason):
            skipped[entry.label] = reason
            log("skipping \(entry.label): \(reason)")
        }
    }

    // MARK: launches

    /// What follows `podgap run` for one kernel of `launch` (the startup probe: a tiny allreduce).
    private func arguments(of kernel: PlannedLaunch.PlannedKernel, in launch: PlannedLaunch) -> [String] {
        var run = kernel.kernel?.arguments ?? (suite.phases ? suite.startupProbe(launch.environment) : SuiteRunner.probe)
        run += ["--label", launch.environment.label, "--trial", "\(launch.round)", "--run-id", launch.id(of: kernel), "--timeout", suite.timeout]
        if passesRound { run += ["--round", "\(launch.round)", "--position", "\(launch.position)"] }
        if launch.environment.kind == EnvironmentCatalog.nativeTCP { run += ["--transport", "tcp"] }
        return run
    }

    /// Runs one launch and keeps its kernels' records, journaling each kernel kept (and, when the
    /// environment is given up, each kernel that failed). True when it kept any. A combined
    /// launch that fails part-way keeps the kernels that finished (their successor had begun:
    /// kernels run in order) and tries the rest once more in a launch of their own.
    private func perform(_ launch: PlannedLaunch, overhead: Double?, attempt: Int = 1) throws -> Bool {
        let label = launch.environment.label
        // Each kernel may take the suite's timeout; a launch as many as it runs kernels.
        let timeout = DurationText.seconds(suite.timeout)! * Double(launch.kernels.count) + 30
        let log = folder.log(launch.id)
        let request = LaunchRequest(environment: launch.environment, kernels: launch.kernels.map { arguments(of: $0, in: launch) },
                                    outName: "\(launch.id).s\(session)-\(attempt).jsonl",
                                    log: log, timeout: timeout, interrupted: { self.interrupted.value },
                                    startupProbe: suite.phases && launch.kernels.contains { $0.kernel == nil })
        let result = try launcher.launch(request)
        let outcome = result.outcome
        if outcome.interrupted || interrupted.value { return false }
        if outcome.status == 2, launch.kernels.contains(where: { $0.kernel != nil && !succeeded.contains($0.index) }) {
            // The kernel refused its parameters before ever running: the suite file is wrong, not
            // the environment. (Once it has run, exit 2 is a launch problem, e.g. MPI not starting.)
            throw SuiteError("\(launch.id): podgap run rejected the suite's parameters: \(outcome.lastLine) [log: \(log)]")
        }
        // Exit 1 from a kernel is podgap run's "measured, but a point failed verification": the
        // records are written and flagged, and the report shows them apart from the statistics.
        let measured = outcome.status == 0 || (outcome.status == 1 && launch.kernels.contains { $0.kernel != nil })
        var failure = outcome.timedOut ? "timed out after \(Int(timeout))s" : "failed (exit \(outcome.status)): \(outcome.lastLine)"
        var written: [String: [Record]] = [:]
        do { written = try intake.read(launch, from: result) } catch let error as SafeFile.Refused {
            failure = "its records were refused: \(error.reason)"
        }
        let records = { (kernel: PlannedLaunch.PlannedKernel) in written[launch.id(of: kernel)] ?? [] }
        // In a launch that failed, a kernel is whole when its ranks said it finished (or, their
        // word lost with the job, when the next kernel had written).
        let said = launch.kernels.count > 1 && !measured ? finished(launch, in: log) : []
        var left: [PlannedLaunch.PlannedKernel] = []
        for (place, kernel) in launch.kernels.enumerated() {
            let own = records(kernel)
            // The startup probe stands for the whole launch's start and exit: only a launch that
            // ended well measured it.
            let done = measured ? !own.isEmpty
                : kernel.kernel != nil && !own.isEmpty
                    && (said.contains(launch.id(of: kernel)) || launch.kernels[(place + 1)...].contains { !records($0).isEmpty })
            guard done else {
                if measured && own.isEmpty && failure.hasPrefix("failed") { failure = "\(kernel.name) wrote no records" }
                left.append(kernel)
                continue
            }
            var seconds = outcome.seconds
            if kernel.kernel == nil {
                let others = launch.kernels.filter { $0.kernel != nil }.flatMap(records)
                guard let probed = RecordIntake.launchSeconds(wall: outcome.seconds, probe: own, kernels: others) else {
                    failure = "the records' times could not be read"
                    left.append(kernel)
                    continue
                }
                seconds = probed
            }
            do {
                let count = try intake.keep(kernel, of: launch, records: own, launchSeconds: seconds, launchCounters: result.launchCounters,
                                            kernelCounters: result.kernelCounters.flatMap { place < $0.count ? $0[place] : nil })
                succeeded.insert(kernel.index)
                var entry = Journal.Event(.launch)
                entry.id = launch.id(of: kernel); entry.environment = label; entry.kernel = kernel.name; entry.round = launch.round
                entry.position = launch.position; entry.seconds = outcome.seconds; entry.overhead = overhead; entry.records = count
                if launch.kernels.count > 1 { entry.launch = launch.id }
                try journal.append(entry)
            } catch let error as SuiteError {
                failure = error.description
                left.append(kernel)
            }
        }
        if outcome.status == 1 && measured { self.log("\(launch.id): some points failed verification (kept, flagged in the report): \(outcome.lastLine)") }
        let kept = left.count < launch.kernels.count
        guard !left.isEmpty else { return true }
        var rest = launch
        rest.kernels = left
        if attempt == 1 && !outcome.timedOut {
            // One retry: a busy machine occasionally fails a launch (MPI start-up, a port). The
            // retry writes a file of its own, so nothing is counted twice.
            self.log("\(launch.id) \(failure); trying \(kept ? rest.kernelName : "it") once more")
            return try perform(rest, overhead: nil, attempt: 2) || kept
        }
        skipped[label] = "round \(launch.round), \(rest.kernelName): \(failure) [log: logs/\(launch.id).log]; later rounds not run"
        for kernel in left {
            var entry = Journal.Event(.failed)
            entry.id = launch.id(of: kernel); entry.environment = label; entry.kernel = kernel.name; entry.round = launch.round
            entry.reason = failure
            try journal.append(entry)
        }
        self.log("skipping \(label): \(skipped[label]!)")
        return kept
    }

    /// The kernels of `launch` its log says finished, by run id.
    private func finished(_ launch: PlannedLaunch, in log: String) -> Set<String> {
        guard let data = try? SafeFile.read(log, limit: 64 << 20) else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        return Set(launch.kernels.map { launch.id(of: $0) }.filter { text.contains(KernelSequence.finishedLine(runID: $0)) })
    }

    /// The suite's own measurement: the wall time of a tiny launch, from the launch command to
    /// its exit (pods: container create and start included), one record per environment and round.
    public static let launchKernel = "launch"
    public static let launchDescriptor = KernelDescriptor(
        metrics: [.init(key: "seconds", label: "launch time (start to exit)", unit: "seconds", direction: .lowerIsBetter)],
        headlines: [.init(label: "launch time (start to exit)", point: .heaviest, asRate: false)],
        order: 5)

    // MARK: signals

    /// Ctrl-C or SIGTERM: end the running launch, then the loop stops and pods come down.
    private func installSignalHandlers() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.interrupt() }
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
