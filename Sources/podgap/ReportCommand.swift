import Statistics
import ArgumentParser
import Records
import Foundation
import Report

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Compare environments: gaps with 95% intervals, rank tests, attribution, charts.",
        discussion: """
        Pairs records by kernel, parameters and ranks across environments. FILES are results files \
        (.jsonl) or suite folders. Exit code 2 on bad input (a bad line is reported as FILE:LINE).
        """)

    @Argument(help: "Results files (.jsonl) or folders written by podgap suite.")
    var files: [String] = []

    @Option(help: "Environment every other is compared against (default: the environment catalog's choice among those present, the same one podgap model picks).")
    var baseline: String?

    @Option(help: "table, markdown, csv, html or osu.")
    var format = "table"

    @Option(help: "Write the report to this file instead of stdout.")
    var out: String?

    @Flag(help: "Report bad lines on stderr and go on without them.")
    var skipBad = false

    @Option(help: "Seed of the bootstrap's random generator (the same seed gives the same intervals).")
    var seed: UInt64 = 1

    @Option(help: "Bootstrap resamples per interval.")
    var resamples = 2000

    func run() throws {
        guard let format = ReportFormat(rawValue: format) else {
            throw Failure.badInput("--format '\(self.format)' is not one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard !files.isEmpty else { throw Failure.badInput("name at least one results file or suite folder") }
        guard resamples >= 100 else { throw Failure.badInput("--resamples \(resamples) is too few for a 95% interval; use at least 100") }
        let text = try ReportCommand.render(files: files, baseline: baseline, format: format, skipBad: skipBad,
                                            bootstrap: Bootstrap(resamples: resamples, seed: seed),
                                            colour: out == nil && isatty(STDOUT_FILENO) != 0)
        if let out {
            do { try text.write(toFile: out, atomically: true, encoding: .utf8) }
            catch { throw Failure.badInput("cannot write the report to \(out): \(error.localizedDescription)") }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// Loads, analyses and renders; every input problem becomes one `Failure.badInput` line.
    static func render(files: [String], baseline: String?, format: ReportFormat, skipBad: Bool,
                       bootstrap: Bootstrap = Bootstrap(), colour: Bool = false,
                       skipped extraSkipped: [SkippedEnvironment] = []) throws -> String {
        do {
            let inputs = try Inputs.load(files, skippingBad: skipBad)
            for problem in inputs.problems {
                FileHandle.standardError.write(Data("podgap: skipped \(problem.description)\n".utf8))
            }
            var analysis = try Analysis.build(inputs.facts, skipped: inputs.skipped + extraSkipped,
                                              options: Analysis.Options(baseline: baseline, bootstrap: bootstrap))
            if !inputs.problems.isEmpty {
                analysis.warnings.insert("\(inputs.problems.count) bad line(s) skipped (--skip-bad), first: \(inputs.problems[0].description)", at: 0)
            }
            return format.render(analysis, colour: colour)
        } catch let error as RecordError {
            throw Failure.badInput(error.description)
        } catch let error as AnalysisError {
            throw Failure.badInput(error.description)
        }
    }
}
