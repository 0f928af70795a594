import Probes
import ArgumentParser
import Records
import Foundation
import Suite

struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run a suite of kernels across environments, interleaved trial by trial, then report.",
        discussion: """
        Writes results/<suite>-<time>/: one JSONL per environment, suite.yaml as run, environment.json, \
        launches.jsonl (the journal --resume reads), skipped.json, logs/ and report.{txt,md,csv,html}. \
        Prints the folder's path on stdout.
        """)

    @Argument(help: "Suite file (YAML), e.g. benchmarks/suites/quick.yaml. Optional with --resume.")
    var file: String?

    @Option(help: "Continue the interrupted suite in this results folder (its suite.yaml is used).")
    var resume: String?

    @Option(help: "Folder the results folder is created in.")
    var results = "results"

    @Flag(help: "Check the suite file and print the launch plan without running anything.")
    var dryRun = false

    func run() throws {
        let path: String
        let folder: URL
        if let resume {
            folder = URL(fileURLWithPath: resume)
            path = folder.appendingPathComponent("suite.yaml").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw Failure.badInput("--resume \(resume): no suite.yaml there; name a folder written by podgap suite")
            }
        } else {
            guard let file else { throw Failure.badInput("name a suite file (e.g. benchmarks/suites/quick.yaml) or --resume FOLDER") }
            path = file
            folder = URL(fileURLWithPath: "")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure.badInput("\(path): cannot read the suite file")
        }
        let suite: SuiteFile
        do {
            suite = try SuiteFile.parse(text, file: path, kernels: RunKernels())
        } catch let error as SuiteError {
            throw Failure.badInput(error.description)
        }
        let plan = Schedule.plan(suite)
        if dryRun {
            for launch in plan { print(launch.id) }
            return
        }
        var target = folder
        if resume == nil {
            let stamp = Record.timestamp(Date()).prefix(19).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
            target = URL(fileURLWithPath: results).appendingPathComponent("\(suite.name)-\(stamp)")
            do {
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
                try text.write(to: target.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
            } catch {
                throw Failure.badInput("cannot create the results folder \(target.path): \(error.localizedDescription)")
            }
        }
        target = target.standardizedFileURL
        let environmentFile = target.appendingPathComponent("environment.json")
        if !FileManager.default.fileExists(atPath: environmentFile.path) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(Environment.local(label: nil)).write(to: environmentFile)
        }
        FileHandle.standardError.write(Data("podgap suite: \(suite.name): \(plan.count) launches (\(suite.environments.count) environments x \(suite.kernels.count + (suite.startup ? 1 : 0)) x \(suite.trials) trials) into \(target.path)\n".utf8))
        let outcome: SuiteRunner.Outcome
        do {
            outcome = try SuiteRunner(suite: suite, folder: target, podgap: SuiteCommand.executable).run()
        } catch let error as SuiteError {
            guard error.interrupted else { throw Failure.badInput(error.description) }
            // 128 + SIGINT, as shells report a command ended by Ctrl-C.
            FileHandle.standardError.write(Data("podgap: \(error.description)\n".utf8))
            Foundation.exit(Podgap.ExitCode.interrupted.rawValue)
        }
        let say = { (line: String) in FileHandle.standardError.write(Data("podgap suite: \(line)\n".utf8)) }
        for skip in outcome.skipped { say("skipped \(skip.environment): \(skip.reason)") }
        say(String(format: "suite overhead between launches: mean %.1f ms, max %.1f ms", outcome.meanOverhead * 1000, outcome.maxOverhead * 1000))
        if let problem = outcome.reportProblem {
            say("no report: \(problem)")
            print(target.path)
            throw Failure.badInput("\(suite.name): nothing to compare in \(target.path): \(problem)")
        }
        say("reports: " + outcome.reports.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        print(target.path)
    }

    /// This binary, which every launch runs (`/proc/self/exe` on Linux).
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
