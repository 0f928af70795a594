import Foundation
import Records
import Report

/// One `podgap suite` from the parsed command line to the reports: which suite file (the named
/// one, or the resumed folder's), the settings a resumed suite keeps, the results folder, the run,
/// and the reports written beside the records. The CLI parses and calls; every refusal here is a
/// `SuiteError` of one line (bad input), an interrupted run one with `interrupted` set.
public struct SuiteSession {
    /// What the command line asked, as typed.
    public struct Request: Sendable {
        public var file: String?
        public var resume: String?
        public var results: String
        public var rounds: Int?
        public var budget: String?
        public var targetCI: Double
        public var seed: UInt64?
        /// How rounds are laid out; nil: `paired`, or what a resumed suite started with.
        public var layout: RoundPlan.Layout?

        public init(file: String?, resume: String?, results: String, rounds: Int?, budget: String?, targetCI: Double, seed: UInt64?,
                    layout: RoundPlan.Layout? = nil) {
            self.file = file; self.resume = resume; self.results = results; self.rounds = rounds
            self.budget = budget; self.targetCI = targetCI; self.seed = seed; self.layout = layout
        }
    }

    public let suite: SuiteFile
    /// The suite file's text, kept as suite.yaml in a new results folder.
    public let text: String
    /// The folder of an interrupted suite being resumed.
    public let resumed: URL?
    public let settings: SuiteRunner.Settings

    /// Checks the request, reads the suite file (kernel parameters checked against `kernels`) and
    /// settles the settings: a resumed suite keeps those it started with (its journal's) unless
    /// the request names others.
    public init(_ request: Request, kernels: some KernelRegistry) throws {
        if let rounds = request.rounds, rounds < 1 { throw SuiteError("--rounds \(rounds): run at least 1 round") }
        guard request.targetCI > 0, request.targetCI.isFinite else {
            throw SuiteError("--target-ci \(SuiteSession.plain(request.targetCI)): give a width in points above 0, e.g. 10")
        }
        var budget: Double?
        if let text = request.budget {
            guard let seconds = DurationText.seconds(text), seconds > 0 else {
                throw SuiteError("--budget \(text): not a duration; use seconds, or a number with s, m or h (e.g. 10m)")
            }
            budget = seconds
        }
        let path: String
        if let resume = request.resume {
            let folder = URL(fileURLWithPath: resume).standardizedFileURL
            path = folder.appendingPathComponent("suite.yaml").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw SuiteError("--resume \(resume): no suite.yaml there; name a folder written by podgap suite")
            }
            resumed = folder
        } else {
            guard let file = request.file else { throw SuiteError("name a suite file (e.g. benchmarks/suites/quick.yaml) or --resume FOLDER") }
            path = file
            resumed = nil
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SuiteError("\(path): cannot read the suite file")
        }
        self.text = text
        suite = try SuiteFile.parse(text, file: path, kernels: kernels)

        let journalPath = resumed?.appendingPathComponent(SuiteRunner.journalFile).path
        let journaled = journalPath.map { Journal(path: $0).state().settings } ?? nil
        if let journalPath, journaled == nil, FileManager.default.fileExists(atPath: journalPath) {
            throw SuiteError("--resume \(request.resume!): its journal was written by an older podgap (no settings line); start the suite afresh")
        }
        let budgetRun = budget ?? journaled?.budget
        settings = SuiteRunner.Settings(
            rounds: request.rounds ?? (journaled != nil ? journaled?.rounds : (budgetRun == nil ? suite.rounds : nil)),
            seed: request.seed ?? journaled?.seed ?? suite.seed ?? UInt64.random(in: 0...UInt64(Int64.max)),
            budget: budgetRun,
            targetCI: budgetRun == nil ? nil : (budget != nil ? request.targetCI : journaled?.targetCI ?? request.targetCI),
            layout: request.layout ?? journaled?.layout ?? .paired)
        results = request.results
    }

    private let results: String

    /// `--dry-run`'s check of what a run would skip for want of Slurm: the first environment
    /// whose ranks srun or sbatch starts, refused at the `launcher` key that chose srun (FILE:LINE), when
    /// `availability` finds no Slurm cluster. A run skips such environments with the reason instead.
    public func checkSlurm(_ availability: any EnvironmentAvailability) throws {
        let srun = suite.environments.filter { entry in
            guard case .native = suite.launch(of: entry) else { return false }
            return suite.launcher(of: entry).usesSlurm
        }
        guard let first = srun.first, let reason = availability.slurmUnavailable() else { return }
        let location = suite.launcherSetAt(of: first).map { "\($0): " } ?? ""
        throw SuiteError("\(location)\(first.label) starts its ranks with \(suite.launcher(of: first).rawValue), but no Slurm cluster answers here: \(reason)")
    }

    /// What `--dry-run` prints: the seed, then every launch of every round in its order.
    public var plan: [String] {
        let shown = settings.rounds ?? suite.rounds
        var lines = ["# seed \(settings.seed)\(settings.budget == nil ? "" : "; with --budget the rounds go on until the target or the budget")"]
        for round in 1...shown {
            lines += Schedule.round(round, of: suite, seed: settings.seed, layout: settings.layout).map { $0.kernels.count > 1 ? "\($0.id) (\($0.kernelName))" : $0.id }
        }
        return lines
    }

    /// The results folder: the resumed one, or a new `<results>/<suite>-<time>` holding the suite
    /// file as run; environment.json (the machine, probed by the caller) is written once.
    public func prepareFolder(now: Date = Date(), machine: () throws -> Environment) throws -> URL {
        let target: URL
        if let resumed {
            target = resumed
        } else {
            let stamp = Record.timestamp(now).prefix(19).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
            target = URL(fileURLWithPath: results).appendingPathComponent("\(suite.name)-\(stamp)").standardizedFileURL
            do {
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
                try text.write(to: target.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
            } catch {
                throw SuiteError("cannot create the results folder \(target.path): \(error.localizedDescription)")
            }
        }
        let environmentFile = target.appendingPathComponent("environment.json")
        if !FileManager.default.fileExists(atPath: environmentFile.path) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do { try encoder.encode(try machine()).write(to: environmentFile) } catch {
                throw SuiteError("cannot write \(environmentFile.path): \(error.localizedDescription)")
            }
        }
        return target
    }

    /// How a run ended: its folder, and why no report could be written there, if none could.
    public struct Finished {
        public var folder: URL
        public var reportFailure: String?
    }

    /// Runs the suite into `folder` (from `prepareFolder`), saying progress through `say`, then
    /// writes the reports. `podgap` is the binary every launch runs; `passesRound`, whether every
    /// kernel takes `--round`/`--position`; `availability` says which environments this machine
    /// cannot run. Throws the runner's `SuiteError` (interrupted or not).
    public func run(into folder: URL, podgap: String, passesRound: Bool, availability: any EnvironmentAvailability,
                    say: (String) -> Void) throws -> Finished {
        // A combined environment starts its probe and kernels in one launch; the others one each.
        let launchesPerRound = suite.environments.reduce(0) { sum, entry in
            sum + (suite.launchShape(of: entry) == .combined ? 1 : suite.kernels.count + (suite.startup ? 1 : 0))
        }
        var howMany = "\(settings.rounds ?? suite.rounds) rounds"
        if let budget = settings.budget, let target = settings.targetCI {
            howMany = String(format: "rounds for up to %.0f s or until every headline interval is under %g points", budget, target)
        }
        say("\(suite.name): \(howMany) of \(launchesPerRound) launches (\(suite.environments.count) environments), seed \(settings.seed), into \(folder.path)")

        let baseline = suite.baseline
        let runner = SuiteRunner(suite: suite, folder: folder, settings: settings, passesRound: passesRound,
                                 launcher: SuiteLaunchers(suite: suite, folder: folder, podgap: podgap), availability: availability,
                                 precision: { SuiteSession.precision(of: $0, baseline: baseline) })
        let outcome = try runner.run()
        for skip in outcome.skipped { say("skipped \(skip.environment): \(skip.reason)") }
        say(String(format: "suite overhead between launches: mean %.1f ms, max %.1f ms", outcome.meanOverhead * 1000, outcome.maxOverhead * 1000))
        let precision = outcome.precision ?? SuiteSession.precision(of: folder, baseline: baseline)
        let stopped = "\(outcome.rounds) round(s); stopped because \(outcome.stop)"
            + (precision.map { String(format: "; widest headline interval %.1f points (%@)", $0.widest, $0.headline) } ?? "")
        say(stopped)
        do {
            let written = try SuiteSession.writeReports(folder, baseline: baseline, note: stopped)
            say("reports: " + written.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
            return Finished(folder: folder, reportFailure: nil)
        } catch let error as SuiteError {
            say("no report: \(error.description)")
            return Finished(folder: folder, reportFailure: error.description)
        }
    }

    /// The report in every file format, beside the records; `note` (how the suite stopped, the
    /// precision reached) leads the text formats.
    public static func writeReports(_ folder: URL, baseline: String?, note: String) throws -> [String] {
        var written: [String] = []
        for format in [ReportFormat.table, .markdown, .csv, .html] {
            var text: String
            do {
                let (analysis, _) = try Inputs.analyse([folder.path], details: format.needsDetails, options: Analysis.Options(baseline: baseline))
                text = format.render(analysis)
            } catch let error as RecordError {
                throw SuiteError(error.description)
            } catch let error as AnalysisError {
                throw SuiteError(error.description)
            }
            switch format {
            case .table: text = "suite: \(note)\n" + text
            case .markdown: text = "_Suite: \(note)._\n\n" + text
            default: break
            }
            let path = folder.appendingPathComponent("report.\(format.fileExtension)").path
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw SuiteError("cannot write \(path): \(error.localizedDescription)")
            }
            written.append(path)
        }
        return written
    }

    /// The widest 95% interval, in points, among the headlines of every environment against the
    /// baseline; nil while there is nothing to compare.
    public static func precision(of folder: URL, baseline: String?) -> SuiteRunner.Precision? {
        guard let inputs = try? Inputs.load([folder.path]),
              let analysis = try? Analysis.build(inputs.facts, skipped: inputs.skipped, options: Analysis.Options(baseline: baseline)) else { return nil }
        let widths = analysis.headlines.mapValues { 100 * ($0.map(\.width).max() ?? .infinity) }
        return analysis.widestHeadline.map {
            SuiteRunner.Precision(widest: $0.width * 100, headline: "\($0.environment) \($0.headline.kernel) \($0.headline.metric)", widths: widths)
        }
    }

    /// -1 rather than -1.0.
    static func plain(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value) }
}
