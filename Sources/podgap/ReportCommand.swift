import Statistics
import ArgumentParser
import Records
import Foundation
import Report

/// `--format` takes exactly the report's formats; swift-argument-parser lists them in the help and
/// in the error for any other value.
extension ReportFormat: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Compare environments: gaps paired by round with 95% intervals, verdicts, attribution, charts.",
        discussion: """
        Pairs records by kernel, parameters and ranks across environments, and within a suite round \
        where the records carry one (else unpaired, and the line says so). FILES are results files \
        (.jsonl) or suite folders. Exit code 2 on bad input (a bad line is reported as FILE:LINE). \
        See docs/suite-and-report.md.
        """)

    @OptionGroup var inputs: ReportInputs

    @Option(help: "How to print it: the terminal table, Markdown, CSV, one HTML page, OSU's or nccl-tests' layout, or OpenMetrics text.")
    var format: ReportFormat = .table

    @Option(help: "Write the report to this file instead of stdout.")
    var out: String?

    @Flag(help: "Only the WHY section (what the system counters say about each gap): with --format csv one row per pair, point and figure; table or markdown otherwise.")
    var why = false

    @Flag(help: "Only the WHAT TO CHANGE section (how much of a pod's gap each Kubernetes knob recovers): with --format csv one row per knob and headline; table or markdown otherwise.")
    var whatToChange = false

    func run() throws {
        let options = try inputs.analysisOptions()
        if let out { try ReportCommand.checkWritable(out) }
        let section: Section? = why ? .why : whatToChange ? .whatToChange : nil
        if why && whatToChange { throw Failure.badInput("--why and --what-to-change each print one section: give one of them") }
        if let section, ![.table, .markdown, .csv].contains(format) {
            throw Failure.badInput("\(section.flag) prints the \(section.heading) section as table, markdown or csv, not \(format.rawValue); the full \(format.rawValue) report has it already")
        }
        let text = try ReportCommand.render(files: inputs.files, format: format, skipBad: inputs.skipBad, options: options,
                                            colour: out == nil && isatty(STDOUT_FILENO) != 0, only: section)
        if let out {
            try ReportCommand.write(text, to: out)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// Says in one line what is wrong with `--out` before any reading: a folder, a missing folder.
    static func checkWritable(_ path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw Failure.badInput("--out \(path) is a folder: name a file, e.g. \((path as NSString).appendingPathComponent("report.txt"))")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
            throw Failure.badInput("--out \(path): folder \(folder) does not exist")
        }
    }

    /// Writes the report with the system's reason on failure (not Foundation's error number).
    static func write(_ text: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Failure.badInput("cannot write the report to \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure.badInput("cannot write the report to \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Loads, analyses and renders; every input problem becomes one `Failure.badInput` line.
    static func render(files: [String], format: ReportFormat, skipBad: Bool, options: Analysis.Options,
                       colour: Bool = false, skipped extraSkipped: [SkippedEnvironment] = [], only section: Section? = nil) throws -> String {
        do {
            let (analysis, problems) = try Inputs.analyse(files, skippingBad: skipBad, details: format.needsDetails,
                                                          options: options, skipped: extraSkipped)
            for problem in problems {
                FileHandle.standardError.write(Data("podgap: skipped \(problem.description)\n".utf8))
            }
            switch section {
            case nil: return format.render(analysis, colour: colour)
            case .why:
                let why = analysis.why ?? Why.build(analysis, counters: [])
                switch format {
                case .csv: return WhyCSVRenderer().render(analysis)
                case .markdown: return MarkdownRenderer().markdown(why)
                default: return why.section()
                }
            case .whatToChange:
                let report = analysis.whatToChange ?? WhatToChange.build(analysis, counters: [])
                switch format {
                case .csv: return WhatToChangeCSVRenderer().render(analysis)
                case .markdown: return report.markdown()
                default: return report.section()
                }
            }
        } catch let error as RecordError {
            throw Failure.badInput(error.description)
        } catch let error as AnalysisError {
            throw Failure.badInput(error.description)
        }
    }
}

extension ReportCommand {
    /// A section printed alone (`--why`, `--what-to-change`, `podgap explain`).
    enum Section {
        case why, whatToChange
        var flag: String { self == .why ? "--why" : "--what-to-change" }
        var heading: String { self == .why ? "WHY" : WhatToChange.heading }
    }
}

/// What a report reads and how it compares: `podgap report`'s inputs, shared with `podgap export`
/// so that both analyse the same records the same way.
struct ReportInputs: ParsableArguments {
    @Argument(help: "Results files (.jsonl) or folders written by podgap suite.")
    var files: [String] = []

    @Option(help: "Environment every other is compared against (default: the environment catalog's choice among those present, the same one podgap model picks).")
    var baseline: String?

    @Flag(help: "Report bad lines on stderr and go on without them.")
    var skipBad = false

    @Option(help: "Seed of the bootstrap's random generator (the same seed gives the same intervals).")
    var seed: UInt64 = 1

    @Option(help: "Bootstrap resamples per interval.")
    var resamples = 2000

    @Option(help: "E in percent: a point is \"equivalent within ±E%\" when its whole 95% interval lies inside ±E.")
    var equivalence = 5.0

    @Flag(help: "Leave out rounds whose environment and baseline ran in different machine modes (their probes more than 1.5x apart).")
    var excludeMixed = false

    @Flag(help: "Pair rounds without the mode adjustment (each round's ratio as measured, not corrected by the two launches' probe rates).")
    var unadjusted = false

    /// The analysis settings, after checking the values in one line each.
    func analysisOptions() throws -> Analysis.Options {
        guard !files.isEmpty else { throw Failure.badInput("name at least one results file or suite folder") }
        guard resamples >= 100 else { throw Failure.badInput("--resamples \(resamples) is too few for a 95% interval; use at least 100") }
        guard equivalence.isFinite, equivalence > 0, equivalence < 100 else {
            throw Failure.badInput("--equivalence \(String(format: "%g", equivalence)) is not a margin: give a percentage above 0 and below 100, e.g. 5")
        }
        return Analysis.Options(baseline: baseline, bootstrap: Bootstrap(resamples: resamples, seed: seed),
                                equivalence: equivalence / 100, excludeMixed: excludeMixed, adjustForMode: !unadjusted)
    }
}
