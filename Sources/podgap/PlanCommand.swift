import ArgumentParser
import Foundation
import Launch
import Records
import Spawn

/// `podgap plan`: how podgap starts N ranks natively, from the one launch plan the suite and
/// `run startup` use too; `scripts/podgap-mpirun` execs what it prints.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print how podgap starts N ranks natively: mpirun, srun or an sbatch submission, with the binding, yield and transports, and why.",
        discussion: "Flags after -- are a user's own mpirun flags: a --bind-to, --oversubscribe or --mca mpi_yield_when_idle/btl/pml there wins, and the plan leaves it out. docs/launch.md has the rules.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        /// The argv to exec, one word per line (`env NAME=VALUE ...` first where variables are needed).
        case args
        /// One line to copy into a shell.
        case shell
        /// Everything the plan decided, with its reasons.
        case json
    }

    @Option(help: "A native environment of the catalog (\(EnvironmentCatalog.all.filter { if case .native = $0.launch { return true }; return false }.map(\.name).joined(separator: ", ")), or with --starter srun \(EnvironmentCatalog.nativeTwoNode.name) on Slurm's nodes); without it Open MPI picks the transports.")
    var environment: String?

    @Option(help: "Ranks.")
    var np: Int

    @Option(help: "mpirun, srun (--mpi=pmix), or sbatch (prints the sbatch line that submits \(LaunchPlan.jobScript), KERNEL [OPTIONS] to follow, then as a comment the srun line it runs).")
    var starter: LaunchPlan.NativeStarter = .mpirun

    @Option(help: "Judge the rules for a machine with this many cores (default: the cores this process may use).")
    var cores: Int?

    @Option(help: "args, shell or json.")
    var format: Format = .shell

    @Argument(parsing: .postTerminator, help: "The user's own mpirun flags (after --), which win over the plan's.")
    var userFlags: [String] = []

    func run() throws {
        let kind = try environment.map { name in
            guard let kind = EnvironmentCatalog.kind(named: name) else {
                throw Failure.badInput("--environment \(name) is not in the catalog: use one of \(EnvironmentCatalog.names.joined(separator: ", "))")
            }
            return kind
        }
        if let cores, cores < 1 { throw Failure.badInput("--cores \(cores) must be at least 1") }
        let machine = cores.map { Machine(cores: $0, isRoot: geteuid() == 0) } ?? .current
        let plan: LaunchPlan
        do { plan = try LaunchPlan.native(environment: kind, ranks: np, starter: starter, machine: machine).deferring(to: userFlags) } catch let error as LaunchError {
            throw Failure.badInput(error.description)
        }
        // Under sbatch: the job script beside this podgap, which the job runs too.
        let podgap = Executable.current
        var script: String?
        if plan.batch {
            guard let found = Executable.findAbove(podgap, LaunchPlan.jobScript) else {
                throw Failure.badInput("--starter sbatch submits \(LaunchPlan.jobScript), which is in no folder above \(podgap): use the podgap built in a checkout (or the GPU bundle)")
            }
            script = found
        }
        let submission = script.flatMap { plan.submission(script: $0, podgap: podgap) }
        switch format {
        case .args:
            let variables = plan.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            print(((variables.isEmpty ? [] : ["env"] + variables) + (submission ?? plan.command)).joined(separator: "\n"))
        case .shell: print(script.flatMap { plan.batchShellText(script: $0, podgap: podgap) } ?? plan.shellLine)
        case .json: print(plan.json(submission: submission))
        }
    }
}

extension LaunchPlan.NativeStarter: ExpressibleByArgument {}
