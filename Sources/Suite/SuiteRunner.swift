import Spawn
import Records
import Foundation
import Report

/// Runs a suite into a results folder: environments interleaved trial by trial, pods brought up
/// once per environment and always torn down, every launch journaled so `--resume` continues
/// where an interrupted suite stopped.
public final class SuiteRunner {
    public struct Outcome {
        public var folder: String
        public var launches: Int
        public var skipped: [SkippedEnvironment]
        public var reports: [String]
        /// Why no report could be built (e.g. every environment was skipped), if so.
        public var reportProblem: String?
        public var meanOverhead: Double
        public var maxOverhead: Double
    }

    let suite: SuiteFile
    let folder: URL
    /// The podgap binary launches run (this one).
    let podgap: String
    let progress: Records.ProgressLine
    let log: (String) -> Void

    private var skipped: [String: String] = [:]
    private var podsUp: [String: String] = [:]
    /// Where rank 0's pod of each environment writes (its own folder: `pods up --results`).
    private var rankZeroResults: [String: String] = [:]
    /// Kernels (by index) that have completed a launch: their parameters are known to be good.
    private var succeeded = Set<Int>()
    private let interrupted = Locked(false)
    private var signalSources: [DispatchSourceSignal] = []
    private let jobPrefix: String

    public init(suite: SuiteFile, folder: URL, podgap: String, progress: Records.ProgressLine = Records.ProgressLine(),
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data("podgap suite: \($0)\n".utf8)) }) {
        self.suite = suite; self.folder = folder; self.podgap = podgap; self.progress = progress; self.log = log
        // Pods job names: at most 11 characters, unique per folder so parallel suites never collide.
        var hash: UInt32 = 2166136261
        for byte in folder.standardizedFileURL.path.utf8 { hash = (hash ^ UInt32(byte)) &* 16777619 }
        jobPrefix = "s" + String(String(hash, radix: 36).suffix(4))
    }

    var journal: Journal { Journal(path: folder.appendingPathComponent("launches.jsonl").path) }

    public func run() throws -> Outcome {
        let entries = journal.entries()
        let done = Set(entries.map(\.id))
        let plan = Schedule.plan(suite)
        succeeded = Set(plan.filter { done.contains($0.id) }.map(\.kernelIndex))
        let pending = plan.filter { !done.contains($0.id) }
        if !done.isEmpty {
            log("resuming: \(done.count) of \(plan.count) launches already done")
            for entry in suite.environments { try setAsideCutLine(folder.appendingPathComponent("\(entry.label).jsonl").path) }
        }
        checkEnvironments()
        installSignalHandlers()
        defer { tearDownAll(); removeSignalHandlers() }

        var overheads: [Double] = []
        var lastExit: Date?
        var step = 0
        for launch in pending {
            step += 1
            if interrupted.value { break }
            let label = launch.environment.label
            if skipped[label] != nil { continue }
            if case .nodes = method(launch.environment), podsUp[label] == nil {
                // Bringing pods up is set-up, not overhead between launches: do not count it.
                let up = bringUp(launch.environment)
                lastExit = nil
                guard up else { continue }
            }
            progress.update("\(label) \(launch.kernel?.name ?? "startup") trial \(launch.trial)/\(suite.trials)", step: step, of: pending.count)
            let overhead = lastExit.map { Date().timeIntervalSince($0) }
            let result = try perform(launch)
            lastExit = Date()
            guard let seconds = result else { continue }
            if let overhead { overheads.append(overhead) }
            try journal.append(Journal.Entry(id: launch.id, environment: label, kernel: launch.kernel?.name ?? "startup",
                                             trial: launch.trial, seconds: seconds, overhead: overhead))
        }
        progress.finish()
        tearDownAll()
        let skippedList = suite.environments.compactMap { entry in skipped[entry.label].map { SkippedEnvironment(environment: entry.label, reason: $0) } }
        try Inputs.writeSkipped(skippedList, to: folder.appendingPathComponent(Inputs.skippedFile).path)
        if interrupted.value {
            throw SuiteError("interrupted; measured launches are kept: continue with podgap suite --resume \(folder.path)", interrupted: true)
        }
        var outcome = Outcome(folder: folder.path, launches: pending.count, skipped: skippedList, reports: [], reportProblem: nil,
                              meanOverhead: overheads.isEmpty ? 0 : overheads.reduce(0, +) / Double(overheads.count),
                              maxOverhead: overheads.max() ?? 0)
        writeReports(&outcome)
        return outcome
    }

    // MARK: environments

    func method(_ entry: SuiteFile.EnvironmentEntry) -> EnvironmentKind.Launch {
        // Under Slurm native nodes are Slurm's own nodes (srun -N), not node namespaces.
        if suite.launcher == "srun", case .nodes(_, _, false) = entry.kind.launch { return .native(btl: "tcp,self", pml: nil) }
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
                if suite.launcher == "srun" {
                    if slurmAvailable == nil { slurmAvailable = which("sinfo").map { quietly([$0]) } ?? false }
                    if slurmAvailable == false { skipped[entry.label] = "no Slurm cluster: run scripts/slurm-local up" }
                }
            }
        }
        for (label, reason) in skipped.sorted(by: { $0.key < $1.key }) { log("skipping \(label): \(reason)") }
    }

    private func bringUp(_ entry: SuiteFile.EnvironmentEntry) -> Bool {
        guard case .nodes(let defaultNodes, let mode, let containers) = method(entry) else { return true }
        let nodes = entry.nodes ?? defaultNodes
        let perNode = entry.podsPerNode ?? max(1, suite.ranks / nodes)
        let job = jobName(entry)
        var arguments = [podgap, "pods", "up", "--name", job, "--nodes", "\(nodes)", "--pods-per-node", "\(perNode)",
                         "--network", mode.rawValue, "--results", folder.appendingPathComponent("pods").path]
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
        guard let outcome, outcome.status == 0 else {
            let reason = outcome.map { "podgap pods up failed (exit \($0.status)): \($0.lastLine)" } ?? "podgap pods up could not start"
            skipped[entry.label] = reason + " [log: logs/\(entry.label)-pods-up.log]"
            log("skipping \(entry.label): \(reason)")
            _ = quietly([podgap, "pods", "down", "--name", job])
            return false
        }
        podsUp[entry.label] = job
        if containers {
            guard let results = rankZeroFolder(job) else {
                skipped[entry.label] = "podgap pods list --json did not name the results folder of \(job)'s first pod"
                log("skipping \(entry.label): \(skipped[entry.label]!)")
                return false
            }
            rankZeroResults[entry.label] = results
        }
        return true
    }

    private func tearDownAll() {
        for (label, job) in podsUp.sorted(by: { $0.key < $1.key }) {
            let outcome = try? ChildProcess.run([podgap, "pods", "down", "--name", job], environment: MPIRunEnvironment.current,
                                                log: logPath("\(label)-pods-down"), timeout: 120, interrupted: { false })
            if outcome?.status != 0 { log("warning: podgap pods down --name \(job) failed: \(outcome?.lastLine ?? "did not start")") }
        }
        podsUp.removeAll()
        rankZeroResults.removeAll()
    }

    func jobName(_ entry: SuiteFile.EnvironmentEntry) -> String {
        let index = suite.environments.firstIndex { $0.label == entry.label } ?? 0
        return "\(jobPrefix)-e\(index)"
    }

    // MARK: launches

    /// Runs one launch; its wall seconds when it succeeded, nil when its environment is now skipped.
    private func perform(_ launch: PlannedLaunch, attempt: Int = 1) throws -> Double? {
        let label = launch.environment.label
        let resultsFile = folder.appendingPathComponent("\(label).jsonl").path
        var runArguments: [String]
        var outFile: String
        if let kernel = launch.kernel {
            runArguments = kernel.arguments
            if let remaining = try resumeSizes(launch, resultsFile: resultsFile) {
                guard !remaining.isEmpty else { return 0 }
                runArguments = SuiteFile.Kernel(name: kernel.name, parameters: kernel.parameters.filter { $0.key != "sizes" } + [.init(key: "sizes", value: remaining)]).arguments
            }
            outFile = "\(label).jsonl"
        } else {
            runArguments = ["allreduce", "--sizes", "4", "--iterations", "1", "--warmup", "0"]
            outFile = "startup/\(label)-t\(launch.trial).jsonl"
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(outFile))
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("startup"), withIntermediateDirectories: true)
        }
        let timeout = DurationText.seconds(suite.timeout)!
        runArguments += ["--label", label, "--trial", "\(launch.trial)", "--run-id", launch.id, "--timeout", suite.timeout]
        if launch.environment.kind == EnvironmentCatalog.nativeTCP { runArguments += ["--transport", "tcp"] }
        // Pods write in their own results folders: a file new to each attempt there, whose
        // records join the suite's own file afterwards, read as SafeFile reads what pods wrote.
        let podFolder = rankZeroResults[label]
        let launchFile = podFolder == nil ? outFile : "\(launch.id)-\(UUID().uuidString.prefix(8)).jsonl"
        let command = self.command(for: launch.environment, run: runArguments, outFile: launchFile)
        let outcome = try ChildProcess.run(command, environment: MPIRunEnvironment.current, log: logPath(launch.id),
                                           timeout: timeout + 30, interrupted: { self.interrupted.value })
        if let podFolder {
            do { try SafeFile.collect(podFolder + "/" + launchFile, into: folder.appendingPathComponent(outFile).path, limit: 1 << 30) } catch {
                log("warning: the records of \(launch.id) in \(podFolder) were not taken: \(error)")
            }
        }
        if outcome.interrupted { return nil }
        if outcome.status == 2, launch.kernel != nil, !succeeded.contains(launch.kernelIndex) {
            // The kernel refused its parameters before ever running: the suite file is wrong, not
            // the environment. (Once it has run, exit 2 is a launch problem, e.g. MPI not starting.)
            throw SuiteError("\(launch.id): podgap run rejected the suite's parameters: \(outcome.lastLine) [log: \(logPath(launch.id))]")
        }
        if outcome.status == 1, launch.kernel != nil {
            // Exit 1 is podgap run's "measured, but a point failed verification": the records are
            // written and flagged, and the report shows them apart from the statistics.
            log("\(launch.id): some points failed verification (kept, flagged in the report): \(outcome.lastLine)")
            succeeded.insert(launch.kernelIndex)
            return outcome.seconds
        }
        guard outcome.status == 0 else {
            if attempt == 1 && !outcome.timedOut {
                // One retry: a busy machine occasionally fails a launch (MPI start-up, a port). Its
                // partial records are handled as on resume, so nothing is counted twice.
                log("\(launch.id) failed (exit \(outcome.status)): \(outcome.lastLine); trying it once more")
                return try perform(launch, attempt: 2)
            }
            let what = outcome.timedOut ? "timed out after \(Int(timeout + 30))s" : "failed (exit \(outcome.status)): \(outcome.lastLine)"
            skipped[label] = "trial \(launch.trial) of \(launch.kernel?.name ?? "the startup probe") \(what) [log: logs/\(launch.id).log]; remaining trials not run"
            log("skipping \(label): \(skipped[label]!)")
            return nil
        }
        succeeded.insert(launch.kernelIndex)
        if launch.kernel == nil { try writeStartupRecord(launch, probe: folder.appendingPathComponent(outFile).path, seconds: outcome.seconds, resultsFile: resultsFile) }
        return outcome.seconds
    }

    /// The full command line for one launch of `podgap run ...` in an environment.
    func command(for entry: SuiteFile.EnvironmentEntry, run: [String], outFile: String) -> [String] {
        switch method(entry) {
        case .native(let btl, let pml):
            let host = folder.appendingPathComponent(outFile).path
            let tail = [podgap, "run"] + run + ["--out", host]
            if suite.launcher == "srun" {
                var nodes = ["-N", "1"]
                if case .nodes(let count, _, false) = entry.kind.launch { nodes = ["-N", "\(count)"] }
                return [which("srun") ?? "/usr/bin/srun", "--mpi=pmix", "-n", "\(suite.ranks)"] + nodes + tail
            }
            var mpirun = [which("mpirun") ?? "/usr/bin/mpirun", "-np", "\(suite.ranks)", "--bind-to", "none"]
            if suite.ranks > ProcessInfo.processInfo.activeProcessorCount { mpirun.append("--oversubscribe") }
            mpirun += ["--mca", "btl", btl]
            if let pml { mpirun += ["--mca", "pml", pml] }
            return mpirun + tail
        case .nodes(_, _, let containers):
            // Pods see their own results folder at /results; ranks without containers see the host's paths.
            let out = containers ? "/results/\(outFile)" : folder.appendingPathComponent(outFile).path
            return [podgap, "pods", "launch", "--name", podsUp[entry.label] ?? jobName(entry), "--np", "\(suite.ranks)",
                    "--timeout", suite.timeout, "--", "podgap", "run"] + run + ["--out", out]
        }
    }

    /// The results folder of `job`'s first pod (rank 0's), as `podgap pods list --json` names it.
    private func rankZeroFolder(_ job: String) -> String? {
        let listing = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-suite-\(getpid())-list.json").path
        defer { try? FileManager.default.removeItem(atPath: listing) }
        guard (try? ChildProcess.run(["/bin/sh", "-c", "exec \"$0\" pods list --json > \"$1\"", podgap, listing],
                                     environment: MPIRunEnvironment.current, log: listing + ".log", timeout: 60,
                                     interrupted: { false }))?.status == 0,
              let data = FileManager.default.contents(atPath: listing),
              let jobs = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]],
              let state = jobs.first(where: { ($0["spec"] as? [String: Any])?["name"] as? String == job }),
              let first = (state["pods"] as? [[String: Any]])?.first else { return nil }
        try? FileManager.default.removeItem(atPath: listing + ".log")
        return first["results"] as? String
    }

    /// The startup probe's wall time, as a record of kernel "launch" with the probe's environment.
    private func writeStartupRecord(_ launch: PlannedLaunch, probe: String, seconds: Double, resultsFile: String) throws {
        let probeRecord = try RecordReader.read(probe).first
        guard let probeRecord else { throw SuiteError("\(probe): the startup probe wrote no record") }
        let measurement = MeasuredPoint(parameters: ["probe": "allreduce-4B-x1"], warmup: 0, iterations: 1,
                                      samples: [seconds], verified: probeRecord.verified,
                                      verification: "wall time from launch to exit, measured by podgap suite")
        let record = Record(run: launch.id, kernel: "launch", ranks: probeRecord.ranks, trial: launch.trial,
                            measurement: measurement, keepingSamples: false, environment: probeRecord.environment)
        try RecordWriter(appendingTo: resultsFile).append(record)
    }

    /// For a launch interrupted part-way (records with its run id but no journal line): the sizes
    /// still to measure, so a resumed sweep measures nothing twice. Nil when nothing was written.
    /// A kernel without a size sweep starts over, its partial records moved to `interrupted/`.
    private func resumeSizes(_ launch: PlannedLaunch, resultsFile: String) throws -> String? {
        guard let text = try? String(contentsOfFile: resultsFile, encoding: .utf8) else { return nil }
        let marker = "\"run\":\"\(launch.id)\""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let partial = lines.filter { $0.contains(marker) }
        guard !partial.isEmpty else { return nil }
        if let sizes = launch.kernel?.parameters.first(where: { $0.key == "sizes" })?.value ?? nil,
           let sweep = try? ByteCount.parseSweep(sizes) {
            var measured = Set<Int>()
            for (index, line) in partial.enumerated() {
                if let bytes = try? RecordReader.decode(line, file: resultsFile, line: index).params["bytes"]?.doubleValue { measured.insert(Int(bytes)) }
            }
            log("resuming \(launch.id): \(measured.count) size(s) already measured")
            return sweep.filter { !measured.contains($0) }.map(String.init).joined(separator: ",")
        }
        let aside = folder.appendingPathComponent("interrupted")
        try FileManager.default.createDirectory(at: aside, withIntermediateDirectories: true)
        let keptAside = aside.appendingPathComponent("\(launch.environment.label).jsonl").path
        let old = (try? String(contentsOfFile: keptAside, encoding: .utf8)) ?? ""
        try (old + partial.joined(separator: "\n") + "\n").write(toFile: keptAside, atomically: true, encoding: .utf8)
        let rest = lines.filter { !$0.contains(marker) }
        try (rest.isEmpty ? "" : rest.joined(separator: "\n") + "\n").write(toFile: resultsFile, atomically: true, encoding: .utf8)
        log("resuming \(launch.id): its \(partial.count) partial record(s) moved to interrupted/, the launch runs again")
        return nil
    }

    /// A launch killed mid-write can leave a last line without its newline: it goes to
    /// `interrupted/`, so the file stays readable and the resumed launch measures that point again.
    private func setAsideCutLine(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != 0x0A else { return }
        let cut = data.lastIndex(of: 0x0A).map { data.index(after: $0) } ?? data.startIndex
        let aside = folder.appendingPathComponent("interrupted")
        try FileManager.default.createDirectory(at: aside, withIntermediateDirectories: true)
        try (data[cut...] + Data([0x0A])).write(to: aside.appendingPathComponent("cut-" + (path as NSString).lastPathComponent))
        try data[..<cut].write(to: URL(fileURLWithPath: path))
        log("\((path as NSString).lastPathComponent): a line cut short by the interruption was set aside in interrupted/")
    }

    // MARK: reports

    private func writeReports(_ outcome: inout Outcome) {
        do {
            let inputs = try Inputs.load([folder.path])
            let analysis = try Analysis.build(inputs.facts, skipped: inputs.skipped,
                                              options: Analysis.Options(baseline: suite.baseline))
            for format in [ReportFormat.table, .markdown, .csv, .html] {
                let path = folder.appendingPathComponent("report.\(format.fileExtension)").path
                try format.render(analysis).write(toFile: path, atomically: true, encoding: .utf8)
                outcome.reports.append(path)
            }
        } catch {
            outcome.reportProblem = "\(error)"
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

    private func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
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
