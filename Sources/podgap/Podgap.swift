import Probes
import ArgumentParser
import Records
import Runner
import Foundation

@main
struct Podgap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podgap",
        abstract: "Measures what running MPI and AI workloads in pods costs against bare metal.",
        discussion: "Start with README.md; each command's --help names its page in docs/.",
        version: Environment.podgapBuild,
        subcommands: [Run.self, EnvCommand.self, PodsCommand.self, ImageCommand.self, RegistryCommand.self, ReportCommand.self, ExplainCommand.self, RecommendCommand.self, ExportCommand.self, SuiteCommand.self, ModelCommand.self, PlanCommand.self])

    /// Exit codes users and scripts can rely on (Runner's, which the run loop leaves with too).
    typealias ExitCode = ExitStatus

    /// Parses and runs, turning every failure into one line on stderr and a documented exit code;
    /// under a launcher only rank 0 speaks, so a bad flag is reported once, not once per rank.
    static func main() {
        let context = LaunchContext()
        let speaks = context.rank == 0
        // mpirun ends the whole job at the first non-zero exit: a silent rank leaves a moment
        // later, so that rank 0's one line is out before then.
        func leave(_ code: Int32, spoke: Bool) -> Never {
            if !spoke && context.size > 1 { usleep(500_000) }
            Foundation.exit(code)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as Failure {
            if speaks || failure.everyRank { FileHandle.standardError.write(Data("podgap: \(failure.message)\n".utf8)) }
            leave(failure.code.rawValue, spoke: speaks || failure.everyRank)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if speaks {
                let text = oneLine(message(for: error))
                FileHandle.standardError.write(Data("podgap: \(text)\n".utf8))
            }
            // Usage errors of every kind share exit code 2, as documented.
            leave(Podgap.ExitCode.badInput.rawValue, spoke: speaks)
        }
    }
}

extension Podgap {
    /// The first line of a parser message; a list of valid values that swift-argument-parser puts
    /// on lines of its own (six or more choices) is folded into it, so the one line names them.
    static func oneLine(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lines.first else { return message }
        let values = lines.dropFirst().prefix { $0.hasPrefix("- ") }.map { "'\($0.dropFirst(2))'" }
        guard first.hasSuffix("one of the following:"), let last = values.last else { return first }
        return first.dropLast("the following:".count) + values.dropLast().joined(separator: ", ") + " or \(last)."
    }
}

/// A failure with the words to show and the exit code to leave with: the run loop's, so that the
/// CLI and Runner speak one type.
typealias Failure = RunFailure
