import Foundation
import Records
import Spawn

/// Native environments: `mpirun ... podgap run KERNEL` (or `srun`) as a child in a session of its
/// own, its ranks host processes writing in the suite's own folder.
final class NativeLauncher: EnvironmentLauncher {
    let suite: SuiteFile
    let folder: SuiteFolder
    /// The podgap binary the ranks run (this one).
    let podgap: String

    init(suite: SuiteFile, folder: SuiteFolder, podgap: String) {
        self.suite = suite; self.folder = folder; self.podgap = podgap
    }

    func setUp(_ environment: SuiteFile.EnvironmentEntry, interrupted: () -> Bool) -> SetUpResult { .ready }

    func launch(_ request: LaunchRequest) throws -> LaunchResult {
        let out = folder.hostOutput(request.outName)
        let argv = command(for: request.environment, application: [podgap, "run"] + request.run + ["--out", out])
        let outcome: ChildOutcome
        do {
            outcome = try Child.run(argv, environment: MPIRunEnvironment.current, output: .log(request.log),
                                    timeout: request.timeout, interrupted: request.interrupted)
        } catch let error as SpawnError {
            throw SuiteError(error.description)
        }
        return LaunchResult(outcome: outcome, records: [out], podWritten: false)
    }

    func tearDown() {}

    // MARK: the native command line
    // LaunchPlan goes here: this one function is what the Launch module's plan replaces (issue 23
    // item 1); nothing else in the suite builds mpirun or srun arguments.

    /// mpirun (or srun) starting the suite's ranks of `application` in `entry`.
    func command(for entry: SuiteFile.EnvironmentEntry, application: [String]) -> [String] {
        guard case .native(let btl, let pml) = suite.launch(of: entry) else { return application }
        if suite.launcher == .srun {
            var nodes = ["-N", "1"]
            if case .nodes(let count, _, false) = entry.kind.launch { nodes = ["-N", "\(count)"] }
            return [Executable.find("srun") ?? "/usr/bin/srun", "--mpi=pmix", "-n", "\(suite.ranks)"] + nodes + application
        }
        var mpirun = [Executable.find("mpirun") ?? "/usr/bin/mpirun", "-np", "\(suite.ranks)", "--bind-to", "none"]
        if suite.ranks > ProcessInfo.processInfo.activeProcessorCount { mpirun.append("--oversubscribe") }
        mpirun += ["--mca", "btl", btl]
        if let pml { mpirun += ["--mca", "pml", pml] }
        return mpirun + application
    }
}
