import ArgumentParser
import Foundation
import Report

/// `podgap explain DIR`: the report's WHY section alone, for a results folder.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say why environments differ: the system counters that moved on each rung, and those ruled out.",
        discussion: "The WHY section of `podgap report` alone (docs/counters.md). Exit code 2 on bad input.")

    @OptionGroup var inputs: ReportInputs

    @Option(help: "table, markdown or csv.")
    var format: ReportFormat = .table

    func run() throws {
        guard [.table, .markdown, .csv].contains(format) else {
            throw Failure.badInput("--format \(format.rawValue): explain prints table, markdown or csv")
        }
        let text = try ReportCommand.render(files: inputs.files, format: format, skipBad: inputs.skipBad,
                                            options: try inputs.analysisOptions(), only: .why)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
