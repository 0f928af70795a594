import Records
import Foundation
import Launch
import Spawn

/// The MPI Operator's launch, with runc where the operator has kubectl: a hostfile at
/// /etc/mpi/hostfile (`POD slots=N`), OMPI_MCA_orte_default_hostfile pointing at it,
/// K_MPI_JOB_ROLE=launcher|worker, and a kubexec-style rsh agent at /etc/mpi/kubexec.sh that
/// mpirun uses to start orted inside each pod. mpirun runs in the launcher's network namespace,
/// so its out-of-band traffic crosses the pod network as it does in a cluster.
public enum JobLauncher {
    public static let hostfilePath = "/etc/mpi/hostfile"
    public static let agentPath = "/etc/mpi/kubexec.sh"

    /// `name slots=N` per line, as the operator writes it.
    public static func hostfile(hosts: [String], slots: Int) -> String {
        hosts.map { "\($0) slots=\(slots)\n" }.joined()
    }

    /// Slots per host so that `ranks` ranks fit on `hosts` hosts, spread evenly.
    public static func slots(ranks: Int, hosts: Int) -> Int {
        max(1, (ranks + max(hosts, 1) - 1) / max(hosts, 1))
    }

    /// /etc/hosts for pods and launcher: what a headless Service gives by DNS.
    public static func hostsFile(_ entries: [(name: String, address: String)]) -> String {
        "127.0.0.1 localhost\n" + entries.map { "\($0.address) \($0.name)\n" }.joined()
    }

    /// An emulated node as the rsh agent reaches it when there are no containers.
    public struct Node: Sendable, Equatable {
        /// The hostname mpirun knows it by (hostfile, /etc/hosts) and its ranks see.
        public var name: String
        public var netns: String
        /// Its own CPUs (`--split-cpus`), nil when it shares the machine's.
        public var cpus: String?

        public init(name: String, netns: String, cpus: String? = nil) { self.name = name; self.netns = netns; self.cpus = cpus }
    }

    /// The rsh agent for pods. mpirun calls it as `kubexec.sh POD orted ARGS...`, as ssh would be
    /// called, and it runs `RUNTIME exec POD /bin/sh -c ...` (the operator's v1 kubexec.sh ran
    /// `kubectl exec`); `runtime` is the runtime's command as one line of sh (`Runtime.shellCommand`).
    public static func agentScript(runtime: String) -> String {
        """
        #!/bin/sh
        # kubexec-style rsh agent (MPI Operator v1 kubexec.sh, the OCI runtime for kubectl): mpirun
        # runs `kubexec.sh POD orted ...`; orted starts inside the pod.
        pod="$1"; shift
        exec \(runtime) exec "$pod" /bin/sh -c "$*"

        """
    }

    /// The rsh agent for nodes without containers: nsenter into the node's network namespace with
    /// a UTS namespace of its own, so that each emulated node reports its own hostname, and with
    /// `taskset` on the node's CPUs where it has its own, so that orted and its ranks stay on
    /// them as a pod's cpuset keeps a pod's. A node the job does not have ends it with an error.
    public static func agentScript(nodes: [Node], nsenter: String, taskset: String?) -> String {
        let cases = nodes.map { node in
            "    \(node.name)) netns=\(node.netns)" + (node.cpus.map { "; cpus=\($0)" } ?? "") + " ;;\n"
        }.joined()
        let pin = taskset.map { "\($0) -c \"$cpus\" \\\n    " } ?? ""
        return """
        #!/bin/sh
        # podgap rsh agent for emulated nodes: mpirun runs `kubexec.sh NODE orted ...`.
        node="$1"; shift
        case "$node" in
        \(cases)    *) echo "kubexec.sh: unknown node $node" >&2; exit 1 ;;
        esac
        exec \(pin)\(nsenter) --net=\(LinkCommands.netnsFolder)/"$netns" unshare --uts /bin/sh -c 'hostname "$0" && exec /bin/sh -c "$1"' "$node" "$*"

        """
    }

    /// The command after `--`, with `podgap` resolved to the binary the ranks run (the image's,
    /// or without containers the host's), and without containers `/results` mapped to the job's folder.
    public static func application(_ command: [String], containers: Bool, hostBinary: String, results: String) -> [String] {
        guard let first = command.first else { return [] }
        var resolved = command
        if first == "podgap" { resolved[0] = containers ? Image.podgapPath : hostBinary }
        guard !containers else { return resolved }
        return resolved.map { argument in
            if argument == "/results" { return results }
            if argument.hasPrefix("/results/") { return results + argument.dropFirst("/results".count) }
            if let equals = argument.firstIndex(of: "="), argument[argument.index(after: equals)...].hasPrefix("/results/") {
                return argument[...equals] + results + argument[argument.index(after: equals)...].dropFirst("/results".count)
            }
            return argument
        }
    }

    /// How `ranks` ranks start over the job's hosts: the launch plan's rules for pods (or emulated
    /// nodes without containers), with this launcher's hostfile slots and rsh agent.
    /// `sharedMemory`: ranks of a pod share it (the `slots` knob).
    public static func plan(ranks: Int, containers: Bool, slots: Int, hosts: Int, sharedMemory: Bool = false,
                            machine: Machine = .current) throws -> LaunchPlan {
        do {
            return try LaunchPlan.pods(containers: containers, ranks: ranks, hosts: hosts, slots: slots, agent: agentPath,
                                       sharedMemoryInPods: sharedMemory, machine: machine)
        } catch let error as LaunchError {
            throw PodsError.badInput(error.description)
        }
    }
}

/// One `pods launch`: mpirun over the job's pods, watched until it ends, a pod dies, or time runs out.
public struct PodLaunch {
    public var state: JobState
    public var store: Store
    public var ranks: Int
    public var timeout: Double
    public var command: [String]
    /// The machine the plan's rules judge (cores): this one, or a test's.
    public var machine: Machine

    public init(state: JobState, store: Store = Store(), ranks: Int, timeout: Double, command: [String], machine: Machine = .current) {
        self.state = state; self.store = store; self.ranks = ranks; self.timeout = timeout; self.command = command
        self.machine = machine
    }

    public struct Outcome: Sendable {
        /// mpirun's exit status (the job's), 124 on timeout.
        public var status: Int32
        /// A pod found stopped during the launch.
        public var deadPod: String?
        public var timedOut: Bool
        /// Ended because the caller's `interrupted` said so (Ctrl-C in a suite).
        public var interrupted = false
    }

    /// Runs the launch to its end: mpirun's output goes to `output`, and once `interrupted()`
    /// is true the launch is ended as a timeout would end it.
    public func run(output: Session.Output = .inherited, interrupted: () -> Bool = { false },
                    report: (String) -> Void) throws -> Outcome {
        guard ranks >= 1 else { throw PodsError.badInput("--np \(ranks) must be at least 1") }
        guard !command.isEmpty else { throw PodsError.badInput("nothing to launch: add `-- podgap run allreduce ...`") }
        let runtime = try Runtime(state.spec.knobs.runtime)
        let containers = state.spec.containers
        if containers, let stopped = stoppedPod(runtime) {
            throw PodsError.failed("pod \(stopped) is not running: run `podgap pods down --name \(state.spec.name)` and up again")
        }
        let hosts = containers ? state.pods.map(\.name) : state.nodes
        let knobs = state.spec.knobs
        if let slots = knobs.slots, ranks % slots != 0 || ranks > slots * hosts.count {
            throw PodsError.badInput("--np \(ranks) on \(hosts.count) pod(s) of slots \(slots): the ranks must be a multiple of the slots and at most \(slots * hosts.count)")
        }
        // With the `slots` knob each pod runs that many ranks, as the MPI Operator's slotsPerWorker.
        let slots = knobs.slots ?? JobLauncher.slots(ranks: ranks, hosts: hosts.count)
        let folder = store.jobFolder(state.spec.name)
        try JobLauncher.hostfile(hosts: hosts, slots: slots).write(toFile: folder + "/etc/mpi/hostfile", atomically: false, encoding: .utf8)

        let application = JobLauncher.application(command, containers: containers, hostBinary: Executable.current, results: state.results)
        let plan = try JobLauncher.plan(ranks: ranks, containers: containers, slots: slots, hosts: hosts.count,
                                        sharedMemory: (knobs.slots ?? 1) > 1, machine: machine)
        let mpirun = try Subprocess.require("mpirun", package: "openmpi-bin")
        let nsenter = try Subprocess.require("nsenter", package: "util-linux")
        let unshare = try Subprocess.require("unshare", package: "util-linux")
        let setup = "mount -t overlay podgap-\(state.spec.name) -o lowerdir=\(folder)/etc:/etc /etc && exec \"$@\""
        // The launcher sees the job's /etc/hosts and /etc/mpi through an overlay on /etc in a
        // mount namespace of its own; the host's /etc is untouched. nsenter keeps /sys/fs/cgroup
        // visible, which runc exec needs (ip netns exec would hide it).
        let argv = [nsenter, "--net=\(LinkCommands.path(state.launcherNetns))", unshare, "--mount", "--propagation", "private",
                    "/bin/sh", "-c", setup, "launcher", mpirun] + plan.arguments + application
        var environment = MPIRunEnvironment.current.merging(plan.environment) { $1 }
        environment["OMPI_MCA_orte_default_hostfile"] = JobLauncher.hostfilePath
        // Ranks without containers inherit this environment through nsenter; only pods have MPI Operator roles.
        if containers { environment["K_MPI_JOB_ROLE"] = "launcher" } else { environment.removeValue(forKey: "K_MPI_JOB_ROLE") }
        environment["PODGAP_JOB"] = state.spec.name
        environment["PODGAP_NETWORK"] = state.spec.network.mode.rawValue
        environment.removeValue(forKey: "PODGAP_POD")

        // What runs in each pod before the launch (its init and the entrypoint's sleep) is all
        // that may run there after it.
        let podsBefore = containers ? podProcesses() : [:]
        let session: Session
        do { session = try Session(argv, environment: environment, output: output) } catch let error as SpawnError {
            throw PodsError.failed(error.description)
        }
        var saved = state
        saved.launchPID = session.pid
        try? saved.save(store)
        defer {
            saved.launchPID = nil
            try? saved.save(store)
        }
        // However the launch ends, no rank, orted or agent of the job outlives it (runs before
        // the state forgets the launch, so that `down` could still find a straggler).
        defer { endJobProcesses(session: session, podsBefore: podsBefore) }
        let deadline = Date().addingTimeInterval(timeout)
        var nextCheck = Date().addingTimeInterval(1)
        while true {
            if let status = session.poll() {
                let dead = status == 0 || !containers ? nil : stoppedPod(runtime)
                if let dead { report("pod \(dead) stopped during the launch; mpirun exited with \(status)") }
                return outcome(status: status, deadPod: dead, report: report)
            }
            if interrupted() {
                report("launch of \(state.spec.name) interrupted; ending mpirun and its agents")
                return Outcome(status: session.end(), deadPod: nil, timedOut: false, interrupted: true)
            }
            if Date() > deadline {
                report("launch of \(state.spec.name) timed out after \(Int(timeout))s; ending mpirun and its agents")
                _ = session.end()
                return Outcome(status: 124, deadPod: nil, timedOut: true)
            }
            if containers, Date() > nextCheck {
                nextCheck = Date().addingTimeInterval(1)
                if let dead = stoppedPod(runtime) {
                    report("pod \(dead) stopped during the launch; ending mpirun (records written so far are kept)")
                    return outcome(status: session.end(), deadPod: dead, report: report)
                }
            }
            usleep(100_000)
        }
    }

    /// Statuses `launch` passes on as they are: the job's own, as podgap documents them.
    public static let documentedStatuses: Set<Int32> = [0, 1, 2, 3, 124]

    /// What `launch` exits with. A lost pod is a failed pod job (1), whatever mpirun returned on
    /// its way out (Open MPI 4.1 segfaults in PMIx_Finalize after losing an orted: 139); so is
    /// any status podgap does not document, which `report` names.
    func outcome(status: Int32, deadPod: String?, report: (String) -> Void) -> Outcome {
        if deadPod == nil, !PodLaunch.documentedStatuses.contains(status) {
            report("mpirun ended with status \(status); the launch failed")
        }
        let mapped = deadPod != nil || !PodLaunch.documentedStatuses.contains(status) ? 1 : status
        return Outcome(status: mapped, deadPod: deadPod, timedOut: false)
    }

    /// Host pids in each pod's cgroup, by pod.
    func podProcesses() -> [String: Set<pid_t>] {
        guard let names = try? JobNames(state.spec.name) else { return [:] }
        var found: [String: Set<pid_t>] = [:]
        for pod in state.pods { found[pod.name] = Set(PodJob.processes(inCgroup: names.cgroup(pod.name))) }
        return found
    }

    /// Ends whatever of the job still runs: every process of mpirun's session (agents, `runc
    /// exec` clients, and without containers the orteds and ranks themselves), and in each pod
    /// every process that was not there before the launch (orteds and ranks started through
    /// `runc exec`, which live in the pod's cgroup, not in the session, and are reparented to
    /// the pod's init when their orted dies). Waits until they are gone, at most 5 s.
    func endJobProcesses(session: Session, podsBefore: [String: Set<pid_t>]) {
        func stragglers() -> [pid_t] {
            var pids = Session.members(of: session.pid)
            for (pod, now) in podProcesses() { pids += now.subtracting(podsBefore[pod] ?? []) }
            return pids.filter { $0 > 1 && !PodJob.isZombie($0) }
        }
        let deadline = Date().addingTimeInterval(5)
        var left = stragglers()
        while !left.isEmpty && Date() < deadline {
            for pid in left { kill(pid, SIGKILL) }
            usleep(20_000)
            left = stragglers()
        }
    }

    /// The first pod that is not running, if any.
    func stoppedPod(_ runtime: Runtime) -> String? {
        state.pods.first { runtime.state($0.name)?.status != "running" }?.name
    }
}
