import Foundation
import Records
import Spawn

/// How N ranks of a command start in an environment: the starter (mpirun on this host, srun, or
/// mpirun over pods the MPI Operator's way), where ranks are bound and why, yield-when-idle,
/// oversubscription, the Open MPI transports and the variables the ranks get. Built in one place
/// (`native`, `pods`) from the environment catalog and the machine, so that the suite, `podgap
/// run startup`, `pods launch` and `scripts/podgap-mpirun` (through `podgap plan`) start ranks
/// the same way. docs/launch.md explains the rules.
public struct LaunchPlan: Sendable, Equatable {
    public enum Starter: Sendable, Equatable {
        /// mpirun on this host.
        case mpirun
        /// Slurm's direct launch of Open MPI (`srun --mpi=pmix`), over `nodes` nodes.
        case srun(nodes: Int)
        /// mpirun over pods, or over emulated nodes' host processes without containers: a hostfile
        /// with `slots` per host and an rsh agent that starts orted in each (the MPI Operator's way).
        case pods(containers: Bool, hosts: Int, slots: Int, agent: String)
    }

    /// How the native environments start their ranks (a suite's `launcher`).
    public enum NativeStarter: String, Sendable, CaseIterable {
        /// mpirun on this host.
        case mpirun
        /// `srun --mpi=pmix` from here: Slurm allocates and starts the ranks in one step.
        case srun
        /// A batch job (`sbatch --wait`) whose script starts the ranks with the same srun: the
        /// queue wait is part of the launch, as a cluster's users pay it.
        case sbatch

        /// Slurm starts the ranks (srun or sbatch): it must answer here.
        public var usesSlurm: Bool { self != .mpirun }
    }

    /// Settings a user gave mpirun by hand (`podgap-mpirun`): the plan says them in its records
    /// but leaves the flags to the user's command line.
    public enum UserSetting: Sendable, Hashable {
        case binding, yield, btl, pml, oversubscribe
    }

    public var starter: Starter
    public var ranks: Int
    public var machine: Machine
    /// The most ranks any node runs: what binding and yield are judged by.
    public var ranksPerNode: Int
    public var binding: BindingPolicy
    /// Open MPI's `mpi_yield_when_idle`: idle ranks give their core away instead of busy-polling.
    public var yieldWhenIdle: Bool
    public var yieldReason: String
    /// More ranks than slots: mpirun refuses to start them without `--oversubscribe`.
    public var oversubscribe: Bool
    /// Open MPI's transports, from the environment catalog; nil leaves Open MPI's own choice.
    public var btl: String?
    public var pml: String?
    /// Settings left to the user's own flags.
    public var userSettings: Set<UserSetting> = []
    /// srun runs inside a batch job submitted with `sbatch --wait` (`argv(running:)`).
    public var batch = false

    /// Exported to the ranks without containers (emulated nodes), who otherwise would not know
    /// their job and network (pods have them in their own environment).
    static let nodeVariables = ["PODGAP_NETWORK", "PODGAP_JOB"]

    // MARK: building a plan

    /// Ranks as host processes: mpirun on this host, or srun (`--mpi=pmix`) over Slurm's nodes.
    /// `environment` is a native kind of the catalog (its transports are used), or a kind with
    /// nodes without containers under srun (Slurm's own nodes, over TCP); nil restricts no
    /// transport. Throws for kinds only pods can start.
    public static func native(environment: EnvironmentKind?, ranks: Int, starter: NativeStarter = .mpirun,
                              machine: Machine = .current) throws -> LaunchPlan {
        guard ranks >= 1 else { throw LaunchError("\(ranks) ranks: a launch needs at least 1") }
        var btl: String?, pml: String?, nodes = 1
        switch environment?.launch {
        case nil: break
        case .native(let b, let p)?: btl = b; pml = p
        case .nodes(let count, _, false)? where starter.usesSlurm:
            // Under Slurm the emulated nodes are Slurm's own nodes, which share no memory.
            nodes = count; btl = "tcp,self"
        case .nodes?:
            throw LaunchError("\(environment!.name) starts its ranks in pods or emulated nodes: use `podgap pods launch`, not a native launch")
        }
        let perNode = (ranks + nodes - 1) / nodes
        let binding = nodes > 1 ? Rules.slurmNodesBinding() : Rules.nativeBinding(ranksPerNode: perNode, cores: machine.cores)
        let (yield, yieldReason) = Rules.yield(ranksOnMachine: perNode, cores: machine.cores)
        var plan = LaunchPlan(starter: starter == .mpirun ? .mpirun : .srun(nodes: nodes), ranks: ranks, machine: machine,
                              ranksPerNode: perNode, binding: binding, yieldWhenIdle: yield, yieldReason: yieldReason,
                              oversubscribe: perNode > machine.cores, btl: btl, pml: pml)
        plan.batch = starter == .sbatch
        return plan
    }

    /// Ranks over a pods job's hosts (pods, or emulated nodes without containers), all on this
    /// machine: `hosts` hosts of `slots` slots each, started through the rsh `agent`.
    public static func pods(containers: Bool, ranks: Int, hosts: Int, slots: Int, agent: String, sharedMemoryInPods: Bool = false,
                            machine: Machine = .current) throws -> LaunchPlan {
        guard ranks >= 1, hosts >= 1, slots >= 1 else {
            throw LaunchError("\(ranks) ranks on \(hosts) host(s) of \(slots) slot(s): each must be at least 1")
        }
        // Every pod and emulated node is on this one machine: their ranks share its cores.
        let (yield, yieldReason) = Rules.yield(ranksOnMachine: ranks, cores: machine.cores)
        return LaunchPlan(starter: .pods(containers: containers, hosts: hosts, slots: slots, agent: agent), ranks: ranks,
                          machine: machine, ranksPerNode: (ranks + hosts - 1) / hosts,
                          binding: Rules.podBinding(containers: containers), yieldWhenIdle: yield, yieldReason: yieldReason,
                          oversubscribe: ranks > slots * hosts,
                          btl: containers ? podTransports(sharedMemory: sharedMemoryInPods).btl : nil, pml: nil)
    }

    /// Open MPI's transports in pods, and why, as every record's transport note says it. Pods
    /// have separate IPC namespaces and /dev/shm, so vader cannot work between them; ranks of
    /// one pod (the `slots` knob, the MPI Operator's slotsPerWorker) share its IPC namespace.
    public static func podTransports(sharedMemory: Bool) -> (btl: String, note: String) {
        sharedMemory
            ? ("self,vader,tcp", "vader (shared memory) between ranks of one pod, which share its IPC namespace (slots); tcp between pods")
            : ("tcp,self", "shared memory (vader) excluded by the launcher: pods have separate IPC namespaces")
    }

    /// The plan with the settings `flags` (a user's own mpirun flags) already make left to them:
    /// `--bind-to`, `--mca mpi_yield_when_idle`, `--mca btl`, `--mca pml`, `--oversubscribe`.
    /// The user's binding is what the records then say, with the flag as its reason.
    public func deferring(to flags: [String]) -> LaunchPlan {
        var plan = self
        var index = 0
        func value(_ offset: Int) -> String? { index + offset < flags.count ? flags[index + offset] : nil }
        while index < flags.count {
            let flag = flags[index]
            if flag == "--bind-to" || flag == "-bind-to", let policy = value(1) {
                plan.userSettings.insert(.binding)
                plan.binding = BindingPolicy(policy: policy, reason: "--bind-to \(policy) given on the command line")
                index += 2; continue
            }
            if flag == "--mca" || flag == "-mca", let name = value(1), let setting = value(2) {
                switch name {
                case "mpi_yield_when_idle":
                    plan.userSettings.insert(.yield)
                    plan.yieldWhenIdle = setting != "0" && setting != "false"
                    plan.yieldReason = "--mca mpi_yield_when_idle \(setting) given on the command line"
                case "btl": plan.userSettings.insert(.btl); plan.btl = setting
                case "pml": plan.userSettings.insert(.pml); plan.pml = setting
                default: break
                }
                index += 3; continue
            }
            if flag == "--oversubscribe" || flag == "-oversubscribe" { plan.userSettings.insert(.oversubscribe); plan.oversubscribe = true }
            index += 1
        }
        return plan
    }

    // MARK: what it starts

    /// The starter's program, found on PATH (then the usual folders).
    public var program: String {
        switch starter {
        case .srun: return Executable.find("srun") ?? "/usr/bin/srun"
        case .mpirun, .pods: return Executable.find("mpirun") ?? "/usr/bin/mpirun"
        }
    }

    /// The starter's arguments, between its program and the command it starts.
    public var arguments: [String] {
        if case .srun(let nodes) = starter {
            // srun takes no MCA flags and hands its environment to the tasks (`environment`);
            // yield-when-idle is left to each rank's run loop, which applies the same rule.
            return ["--mpi=\(LaunchPlan.slurmMPI)", "-n", String(ranks), "-N", String(nodes)] + (cpuBind.map { ["--cpu-bind=\($0)"] } ?? [])
        }
        var arguments = ["--np", String(ranks)]
        if case .pods(let containers, _, _, let agent) = starter {
            arguments += [
                // Open MPI falls back to its local-only `isolated` launcher where no ssh client is
                // installed, even with an agent set ("No nodes are available for this job"): the rsh
                // launcher is asked for by name. Not for mpirun on this host, which it would break.
                "--mca", "plm", "rsh",
                "--mca", "plm_rsh_agent", agent,
                // orteds cannot start further orteds: the agent exists only where runc does.
                "--mca", "plm_rsh_no_tree_spawn", "1",
                // mpirun's cwd does not exist in the pods.
                "--wdir", "/"]
            if !containers { for name in LaunchPlan.nodeVariables { arguments += ["-x", name] } }
        }
        if !userSettings.contains(.binding) { arguments += ["--bind-to", binding.policy] }
        if oversubscribe && !userSettings.contains(.oversubscribe) { arguments.append("--oversubscribe") }
        if yieldWhenIdle && !userSettings.contains(.yield) { arguments += ["--mca", "mpi_yield_when_idle", "1"] }
        if let btl, !userSettings.contains(.btl) { arguments += ["--mca", "btl", btl] }
        if let pml, !userSettings.contains(.pml) { arguments += ["--mca", "pml", pml] }
        // The rule and its reason reach every rank, in pods too, and every record keeps them.
        for (name, value) in binding.variables.sorted(by: { $0.key < $1.key }) { arguments += ["-x", "\(name)=\(value)"] }
        return arguments
    }

    /// The program and its arguments: the argv before the command the ranks run (under
    /// sbatch, the srun line its batch script runs).
    public var command: [String] { [program] + arguments }

    /// srun's PMI plugin: the only one Debian's Open MPI works with (it has none of Slurm's PMI
    /// libraries).
    public static let slurmMPI = "pmix"

    /// srun's `--cpu-bind` type for the plan's binding; nil leaves it to Slurm (several nodes).
    var cpuBind: String? {
        switch binding.policy {
        case "core": return "cores"
        case "none": return "none"
        default: return nil
        }
    }

    static var sbatchProgram: String { Executable.find("sbatch") ?? "/usr/bin/sbatch" }

    /// The batch script's variable holding when it started (seconds since 1970, from `date
    /// +%s.%N`): the end of the queue wait, which srun hands on to the ranks.
    public static let allocatedVariable = "PODGAP_ALLOCATED"

    /// The argv that starts `application` on the plan's ranks: `command` and the application,
    /// or under sbatch `sbatch --wait` of a batch script that stamps its start and runs them
    /// with srun, its output appended to `output`. Slurm names the job (or srun's) `job`, for
    /// `cancel(job:)`.
    public func argv(running application: [String], job: String? = nil, output: String = "/dev/null") -> [String] {
        guard case .srun(let nodes) = starter else { return command + application }
        let name = job.map { ["--job-name=\($0)"] } ?? []
        guard batch else { return [program] + name + arguments + application }
        let script = "export \(LaunchPlan.allocatedVariable)=$(date +%s.%N); exec " + (command + application).map(LaunchPlan.quoted).joined(separator: " ")
        return [LaunchPlan.sbatchProgram, "--wait", "--quiet"] + name + ["--output=\(output)", "--open-mode=append",
                "-n", String(ranks), "-N", String(nodes), "--wrap", script]
    }

    /// Ends a Slurm job or step named `job` that outlived its starter (killed at a timeout);
    /// nothing for mpirun.
    public func cancel(job: String) {
        guard case .srun = starter, let scancel = Executable.find("scancel") else { return }
        _ = try? Child.capture([scancel, "--name=\(job)"], timeout: 30)
    }

    /// Variables the starter needs set: Open MPI's consent to run as root, and under srun the
    /// binding (srun passes its environment to the tasks; mpirun gets it as `-x` flags).
    public var environment: [String: String] {
        var variables: [String: String] = [:]
        if machine.isRoot {
            variables["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            variables["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        }
        if case .srun = starter { variables.merge(binding.variables) { $1 } }
        return variables
    }

    /// The whole command line, variables first, quoted for a POSIX shell: what to copy.
    public var shellLine: String { shellLine(command) }

    /// `argv` after the plan's variables, quoted for a POSIX shell.
    func shellLine(_ argv: [String]) -> String {
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=" + LaunchPlan.quoted($0.value) }
        return (assignments + argv.map(LaunchPlan.quoted)).joined(separator: " ")
    }

    // MARK: a batch job a user submits

    /// The podgap job script in a checkout (and in the GPU bundle): what a user submits with
    /// sbatch (docs/slurm.md).
    public static let jobScript = "scripts/podgap.sbatch"

    /// What a user types to run the plan's ranks as a batch job of the job script at `script`:
    /// `sbatch -n N -N NODES SCRIPT --mpi pmix [--cpu-bind TYPE] --podgap PODGAP`, the kernel
    /// and its options to follow. Inside the allocation the script starts the ranks with srun,
    /// which takes the tasks and nodes from it: `command` is that srun. `environment` goes
    /// before the line (`batchShellText`): sbatch hands the variables to the job and srun to the
    /// ranks. nil unless the plan's starter is sbatch.
    public func submission(script: String, podgap: String) -> [String]? {
        guard batch, case .srun(let nodes) = starter else { return nil }
        return [LaunchPlan.sbatchProgram, "-n", String(ranks), "-N", String(nodes), script, "--mpi", LaunchPlan.slurmMPI]
            + (cpuBind.map { ["--cpu-bind", $0] } ?? []) + ["--podgap", podgap]
    }

    /// The submission as one line to copy (variables first; the kernel and its options go after
    /// it), then, as a shell comment, the srun line the job script runs inside the allocation.
    /// nil unless the starter is sbatch.
    public func batchShellText(script: String, podgap: String) -> String? {
        guard let submission = submission(script: script, podgap: podgap) else { return nil }
        let inside = (command + [podgap, "run"]).map(LaunchPlan.quoted).joined(separator: " ")
        return shellLine(submission) + "\n# append KERNEL [OPTIONS] to submit; inside the allocation the job script runs: \(inside) KERNEL [OPTIONS]"
    }

    /// The plan as JSON (`podgap plan --format json`), with the batch job's `submission` (its
    /// argv, without the variables) under sbatch.
    public func json(submission: [String]? = nil) -> String {
        let description = Description(
            starter: starterName, program: program, arguments: arguments, submission: submission, environment: environment, ranks: ranks,
            cores: machine.cores, ranksPerNode: ranksPerNode, binding: binding, yieldWhenIdle: yieldWhenIdle,
            yieldReason: yieldReason, oversubscribe: oversubscribe, btl: btl, pml: pml)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(description)) ?? Data(), as: UTF8.self)
    }

    /// mpirun, srun, pods or nodes (the launch over emulated nodes without containers).
    public var starterName: String {
        switch starter {
        case .mpirun: return "mpirun"
        case .srun: return batch ? "sbatch" : "srun"
        case .pods(let containers, _, _, _): return containers ? "pods" : "nodes"
        }
    }

    private struct Description: Encodable {
        var starter: String, program: String, arguments: [String], submission: [String]?, environment: [String: String], ranks: Int, cores: Int
        var ranksPerNode: Int, binding: BindingPolicy, yieldWhenIdle: Bool, yieldReason: String, oversubscribe: Bool
        var btl: String?, pml: String?
    }

    static func quoted(_ word: String) -> String {
        let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,:=+@%")
        if !word.isEmpty && word.unicodeScalars.allSatisfy(plain.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// A plan that cannot be made, in words that say what to do instead.
public struct LaunchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
