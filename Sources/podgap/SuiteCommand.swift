import ArgumentParser
import Foundation
import Probes
import Records
import Spawn
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

    @Option(help: "How rounds are laid out: paired (the baseline in the middle, the others beside it; with --budget, only the environments whose intervals are still widest) or shuffled (every environment, in a seeded random order).")
    var layout: RoundPlan.Layout?

    @Flag(help: "Check the suite file and print the launch plan without running anything.")
    var dryRun = false

    func run() throws {
        let registry = RunKernels()
        let request = SuiteSession.Request(file: file, resume: resume, results: results, rounds: rounds, budget: budget,
                                           targetCI: targetCI, seed: seed, layout: layout)
        do {
            let session = try SuiteSession(request, kernels: registry)
            if dryRun {
                try session.checkSlurm(HostAvailability())
                session.plan.forEach { print($0) }
                return
            }
            let folder = try session.prepareFolder { Environment.local(label: nil) }
            let kernels = session.suite.kernels.map(\.name) + [SuiteRunner.probe[0]]
            let finished = try session.run(into: folder, podgap: Executable.current,
                                           passesRound: kernels.allSatisfy { registry.options(of: $0)["round"] == false },
                                           availability: HostAvailability(),
                                           say: { FileHandle.standardError.write(Data("podgap suite: \($0)\n".utf8)) })
            print(finished.folder.path)
            if let failure = finished.reportFailure {
                throw Failure.badInput("\(session.suite.name): nothing to compare in \(finished.folder.path): \(failure)")
            }
        } catch let error as SuiteError {
            guard error.interrupted else { throw Failure.badInput(error.description) }
            // 128 + SIGINT, as shells report a command ended by Ctrl-C.
            FileHandle.standardError.write(Data("podgap: \(error.description)\n".utf8))
            Foundation.exit(Podgap.ExitCode.interrupted.rawValue)
        }
    }
}

extension RoundPlan.Layout: ExpressibleByArgument {}
