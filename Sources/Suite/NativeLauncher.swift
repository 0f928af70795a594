import Foundation
import Records
import Spawn
import Launch

/// Native environments: `mpirun ... podgap run KERNEL` (or `srun`) as a child in a session of its
/// own, its ranks host processes writing in the suite's own folder.
final class NativeLauncher: EnvironmentLauncher {
    let suite: SuiteFile
    let folder: SuiteFolder
    /// The podgap binary the ranks run (this one).
    let podgap: String
    /// The machine the plan's rules read (cores, root); injected by tests.
    let machine: Machine

    init(suite: SuiteFile, folder: SuiteFolder, podgap: String, machine: Machine = .current) {
        self.suite = suite; self.folder = folder; self.podgap = podgap; self.machine = machine
    }

    func setUp(_ environment: SuiteFile.EnvironmentEntry, interrupted: () -> Bool) -> SetUpResult { .ready }

    func launch(_ request: LaunchRequest) throws -> LaunchResult {
        let out = folder.hostOutput(request.outName)
        let plan = try plan(for: request.environment)
        // Slurm's name for the job: unique per attempt, so that a timed-out one can be cancelled.
        let job = "podgap-" + request.outName.replacingOccurrences(of: ".jsonl", with: "")
        // The node is the host: its softirqs only (its interfaces carry the machine's other traffic).
        let gates = folder.hostOutput(request.gateName)
        let counting = NodeCounting(NodeCounters(namespaces: []), kernels: request.kernels.count, hostFolder: gates, log: request.log)
        // A startup probe's launch is submitted as the launcher starts (nothing comes before it).
        let submitted = Date().timeIntervalSince1970
        let probe = StartupHandover(launched: submitted).arguments(start: submitted, launch: suite.launcher(of: request.environment).rawValue)
        let application = [podgap, "run"] + request.arguments(out: out, gate: counting.hostFolder, probe: probe)
        let argv = plan.argv(running: application, job: job, output: request.log)
        let outcome: ChildOutcome
        do {
            outcome = try Child.run(argv, environment: MPIRunEnvironment.current.merging(plan.environment) { $1 }, output: .log(request.log),
                                    timeout: request.timeout, interrupted: request.interrupted)
        } catch let error as SpawnError {
            _ = counting.finish()
            throw SuiteError(error.description)
        }
        // A killed srun or sbatch leaves its job to Slurm: end it, or it holds the cores.
        if outcome.timedOut || outcome.interrupted { plan.cancel(job: job) }
        let counted = counting.finish()
        return LaunchResult(outcome: outcome, records: [out], podWritten: false, launchCounters: counted.launch, kernelCounters: counted.parts)
    }

    func tearDown() {}

    // MARK: the native command line

    /// The launch plan for the suite's ranks in `entry`: the same rules, flags and variables as
    /// `scripts/podgap-mpirun` (through `podgap plan`) and `podgap run startup`.
    func plan(for entry: SuiteFile.EnvironmentEntry) throws -> LaunchPlan {
        guard case .native = suite.launch(of: entry) else {
            throw SuiteError("\(entry.label) starts its ranks in pods or emulated nodes, not natively")
        }
        do { return try LaunchPlan.native(environment: entry.kind, ranks: suite.ranks, starter: suite.launcher(of: entry), machine: machine) } catch let error as LaunchError {
            throw SuiteError("\(entry.label): \(error.description)")
        }
    }

    /// mpirun, srun or sbatch starting the suite's ranks of `application` in `entry`, and the
    /// variables it needs; Slurm names the job `job`, and a batch job's output goes to `output`.
    func command(for entry: SuiteFile.EnvironmentEntry, application: [String], job: String? = nil,
                 output: String = "/dev/null") throws -> (argv: [String], environment: [String: String]) {
        let plan = try plan(for: entry)
        return (plan.argv(running: application, job: job, output: output), plan.environment)
    }
}
