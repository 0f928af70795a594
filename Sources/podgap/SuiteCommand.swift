import ArgumentParser
import Foundation
import Records
import Report
import Suite

struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run a suite of kernels across environments in rounds (each a seeded order of every environment), then report.",
        discussion: """
        Writes results/<suite>-<time>/: one JSONL per environment, suite.yaml as run, environment.json, \
        launches.jsonl (the journal --resume reads), skipped.json, logs/, pods/ (the only folder pods \
        see) and report.{txt,md,csv,html}. Prints the folder's path on stdout. \
        See docs/suite-and-report.md.
        """)

    @Argument(help: "Suite file (YAML), e.g. benchmarks/suites/quick.yaml. Optional with --resume.")
    var file: String?

    @Option(help: "Continue the interrupted suite in this results folder at its first unfinished round (its suite.yaml is used).")
    var resume: String?

    @Option(help: "Folder the results folder is created in.")
    var results = "results"

    @Option(parsing: .unconditional, help: "Rounds to run (overrides the file's rounds); with --budget, the most to run.")
    var rounds: Int?

    @Option(help: "Run rounds until every headline interval is narrower than --target-ci or this time is spent (e.g. 10m).")
    var budget: String?

    @Option(parsing: .unconditional, help: "With --budget: the 95% interval width, in points, to stop at.")
    var targetCI: Double = 10

    @Option(help: "Seed of the rounds' orders (default: the file's seed, else a fresh one, kept in the journal).")
    var seed: UInt64?

    @Flag(help: "Check the suite file and print the launch plan without running anything.")
    var dryRun = false

    func run() throws {
        if let rounds, rounds < 1 { throw Failure.badInput("--rounds \(rounds): run at least 1 round") }
        guard targetCI > 0, targetCI.isFinite else { throw Failure.badInput("--target-ci \(targetCI.formatted): give a width in points above 0, e.g. 10") }
        var budgetSeconds: Double?
        if let budget {
            guard let seconds = DurationText.seconds(budget), seconds > 0 else {
                throw Failure.badInput("--budget \(budget): not a duration; use seconds, or a number with s, m or h (e.g. 10m)")
            }
            budgetSeconds = seconds
        }
        let path: String
        var folder: URL?
        if let resume {
            folder = URL(fileURLWithPath: resume).standardizedFileURL
            path = folder!.appendingPathComponent("suite.yaml").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw Failure.badInput("--resume \(resume): no suite.yaml there; name a folder written by podgap suite")
            }
        } else {
            guard let file else { throw Failure.badInput("name a suite file (e.g. benchmarks/suites/quick.yaml) or --resume FOLDER") }
            path = file
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure.badInput("\(path): cannot read the suite file")
        }
        let registry = RunKernels()
        let suite: SuiteFile
        do { suite = try SuiteFile.parse(text, file: path, kernels: registry) } catch let error as SuiteError {
            throw Failure.badInput(error.description)
        }

        // A resumed suite keeps the settings it started with, unless told otherwise here.
        let journaled = folder.map { Journal(path: $0.appendingPathComponent(SuiteRunner.journalFile).path).state().settings } ?? nil
        if folder != nil, journaled == nil, FileManager.default.fileExists(atPath: folder!.appendingPathComponent(SuiteRunner.journalFile).path) {
            throw Failure.badInput("--resume \(resume!): its journal was written by an older podgap (no settings line); start the suite afresh")
        }
        let budgetRun = budgetSeconds ?? journaled?.budget
        let settings = SuiteRunner.Settings(
            rounds: rounds ?? (journaled != nil ? journaled?.rounds : (budgetRun == nil ? suite.rounds : nil)),
            seed: seed ?? journaled?.seed ?? suite.seed ?? UInt64.random(in: 0...UInt64(Int64.max)),
            budget: budgetRun, targetCI: budgetRun == nil ? nil : (budget != nil ? targetCI : journaled?.targetCI ?? targetCI))

        if dryRun {
            let shown = settings.rounds ?? suite.rounds
            print("# seed \(settings.seed)\(settings.budget == nil ? "" : "; with --budget the rounds go on until the target or the budget")")
            for round in 1...shown {
                for launch in Schedule.round(round, of: suite, seed: settings.seed) { print(launch.id) }
            }
            return
        }
        let target: URL
        if let folder {
            target = folder
        } else {
            let stamp = Record.timestamp(Date()).prefix(19).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
            target = URL(fileURLWithPath: results).appendingPathComponent("\(suite.name)-\(stamp)").standardizedFileURL
            do {
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
                try text.write(to: target.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
            } catch {
                throw Failure.badInput("cannot create the results folder \(target.path): \(error.localizedDescription)")
            }
        }
        let environmentFile = target.appendingPathComponent("environment.json")
        if !FileManager.default.fileExists(atPath: environmentFile.path) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(Environment.local(label: nil)).write(to: environmentFile)
        }
        let say = { (line: String) in FileHandle.standardError.write(Data("podgap suite: \(line)\n".utf8)) }
        let perRound = suite.environments.count * (suite.kernels.count + (suite.startup ? 1 : 0))
        let howMany = settings.budget.map { String(format: "rounds for up to %.0f s or until every headline interval is under %g points", $0, settings.targetCI ?? targetCI) }
            ?? "\(settings.rounds!) rounds"
        say("\(suite.name): \(howMany) of \(perRound) launches (\(suite.environments.count) environments x \(suite.kernels.count + (suite.startup ? 1 : 0))), seed \(settings.seed), into \(target.path)")

        let baseline = suite.baseline
        let runner = SuiteRunner(suite: suite, folder: target, podgap: SuiteCommand.executable, settings: settings,
                                 passesRound: (suite.kernels.map(\.name) + [SuiteRunner.probe[0]]).allSatisfy { registry.options(of: $0)["round"] == false },
                                 precision: { SuiteCommand.precision(of: $0, baseline: baseline) })
        let outcome: SuiteRunner.Outcome
        do { outcome = try runner.run() } catch let error as SuiteError {
            guard error.interrupted else { throw Failure.badInput(error.description) }
            // 128 + SIGINT, as shells report a command ended by Ctrl-C.
            FileHandle.standardError.write(Data("podgap: \(error.description)\n".utf8))
            Foundation.exit(Podgap.ExitCode.interrupted.rawValue)
        }
        for skip in outcome.skipped { say("skipped \(skip.environment): \(skip.reason)") }
        say(String(format: "suite overhead between launches: mean %.1f ms, max %.1f ms", outcome.meanOverhead * 1000, outcome.maxOverhead * 1000))
        let precision = outcome.precision ?? SuiteCommand.precision(of: target, baseline: baseline)
        let stopped = "\(outcome.rounds) round(s); stopped because \(outcome.stop)"
            + (precision.map { String(format: "; widest headline interval %.1f points (%@)", $0.widest, $0.headline) } ?? "")
        say(stopped)
        do {
            let written = try SuiteCommand.writeReports(target, baseline: baseline, note: stopped)
            say("reports: " + written.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        } catch let failure as Failure {
            say("no report: \(failure.message)")
            print(target.path)
            throw Failure.badInput("\(suite.name): nothing to compare in \(target.path): \(failure.message)")
        }
        print(target.path)
    }

    /// The report in every file format, beside the records; `note` (how the suite stopped, the
    /// precision reached) leads the text formats.
    static func writeReports(_ folder: URL, baseline: String?, note: String) throws -> [String] {
        var written: [String] = []
        for format in [ReportFormat.table, .markdown, .csv, .html] {
            var text = try ReportCommand.render(files: [folder.path], format: format, skipBad: false,
                                                options: Analysis.Options(baseline: baseline))
            switch format {
            case .table: text = "suite: \(note)\n" + text
            case .markdown: text = "_Suite: \(note)._\n\n" + text
            default: break
            }
            let path = folder.appendingPathComponent("report.\(format.fileExtension)").path
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw Failure.badInput("cannot write \(path): \(error.localizedDescription)")
            }
            written.append(path)
        }
        return written
    }

    /// The widest 95% interval, in points, among the headlines of every environment against the
    /// baseline; nil while there is nothing to compare.
    static func precision(of folder: URL, baseline: String?) -> SuiteRunner.Precision? {
        guard let inputs = try? Inputs.load([folder.path]),
              let analysis = try? Analysis.build(inputs.facts, skipped: inputs.skipped, options: Analysis.Options(baseline: baseline)) else { return nil }
        return analysis.widestHeadline.map {
            SuiteRunner.Precision(widest: $0.width * 100, headline: "\($0.environment) \($0.headline.kernel) \($0.headline.metric)")
        }
    }

    /// This binary, which every launch runs (`/proc/self/exe` on Linux).
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

private extension Double {
    /// -1 rather than -1.0.
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}
