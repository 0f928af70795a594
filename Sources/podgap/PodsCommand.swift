import Records
import ArgumentParser
import Foundation
import Pods
import RDMA
import Compute

/// `podgap pods`: Kubernetes-style pods on this machine (runc, netns, CNI bridge, VXLAN).
struct PodsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pods",
        abstract: "Emulated nodes and runc pods wired like a Kubernetes cluster; MPI Operator-style launch.",
        discussion: "See docs/pods.md.",
        subcommands: [PodsUp.self, PodsLaunch.self, PodsList.self, PodsProbe.self, PodsDown.self])
}

/// Maps the Pods module's errors onto the CLI's: bad input exits 2, what the machine lacks 3, anything else 1.
enum PodsFailure {
    static func map<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as PodsError {
            switch error {
            case .badInput(let message): throw Failure.badInput(message)
            case .unavailable(let message): throw Failure(message: message, code: .noDevice)
            case .failed(let message): throw Failure(message: message, code: .unverified)
            }
        }
    }

    /// Progress lines go to stderr only on a terminal.
    static func progress(_ line: String) {
        guard isatty(STDERR_FILENO) == 1 else { return }
        report(line)
    }

    /// A launch's reports (a dead pod, a timeout) always go to stderr.
    static func report(_ line: String) {
        FileHandle.standardError.write(Data("podgap: \(line)\n".utf8))
    }
}

struct PodsUp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Create emulated nodes, the pod network and the pods of a job.")

    @Option(help: "Job name: a Kubernetes name (DNS-1123 label: a-z, 0-9, inner '-', at most 63 characters).")
    var name: String
    @Option(help: "Emulated nodes (network namespaces on an underlay).")
    var nodes = 1
    @Option(help: "Pods per node.")
    var podsPerNode = 2
    @Option(help: "How pods are wired: host (hostNetwork), bridge (CNI bridge), routed (pod subnets routed between nodes), overlay (VXLAN).")
    var network: PodNetwork
    @Flag(name: .customLong("no-containers"), help: "No pods: the ranks run as host processes in the node namespaces (native-2node); needs --network host.")
    var noContainers = false
    @Option(name: [.customLong("cpu-limit"), .customLong("cpus")],
            help: "Knob: CPU limit per pod in cores, e.g. 0.5 (CFS quota, a Burstable pod); --cpus is the same.")
    var cpuLimit: String?
    @Flag(help: "Knob: Guaranteed pods under the static CPU Manager: each pod whole CPUs of its own, no quota.")
    var guaranteed = false
    @Option(help: "Knob: ranks per pod (the MPI Operator's slotsPerWorker), over shared memory within a pod, TCP between pods.")
    var slots: String?
    @Option(help: "Knob: the underlay's MTU, 1280-9000 (the overlay's is 50 less).")
    var mtu: String?
    @Option(help: "Knob: the pods' seccomp profile, default or unconfined.")
    var seccomp: String?
    @Option(help: "Knob: the OCI runtime the pods run under, runc (default) or crun.")
    var runtime: String?
    @Flag(help: "Knob: message buffers from a hugetlbfs of each pod's own (a pod requesting hugepages-2Mi); needs huge pages reserved on the host.")
    var hugepages = false
    @Option(help: "Knob: pull the image from the registry (podgap registry up, podgap image push) before the pods start: always (an emptied node store: cold), if-not-present (warm), never (the host's image, the default).")
    var pull: String?
    @Option(help: "CPUs every pod is pinned to, e.g. 0 or 0-1 (the CPU Manager's static policy).")
    var cpuset: String?
    @Flag(name: .customLong("split-cpus"), help: "Give each node its own equal share of this machine's CPUs, as separate machines have (pods: cpuset; without containers: taskset).")
    var splitCPUs = false
    @Option(help: "Memory limit per pod, e.g. 512M or 2G.")
    var memory: String?
    @Option(help: "Host folder for the records: each pod mounts its own DIR/POD/ read-write at /results, and sees nothing else of DIR (default results/JOB).")
    var results: String?
    @Flag(help: "Pass the host's RDMA devices into the pods (uverbs, rdma_cm, IPC_LOCK, unlimited memlock).")
    var rdma = false
    @Option(help: "GPUs per pod, all or a count, the Container Device Interface way: CDI specs from /etc/cdi and /var/run/cdi (nvidia-ctk cdi generate), else the host's /dev/nvidia* and driver libraries.")
    var gpus: GPURequest?
    @Option(help: "Processes (and threads) per pod, the cgroup's pids.max; a fork bomb stops there (default 4096).")
    var pids: Int?
    @Flag(help: "Run each pod in a user namespace of its own: root inside, uid 100000 outside (where the kernel allows it).")
    var userns = false

    func run() throws {
        Matrix.endThreads()  // no matrix work here: OpenBLAS's spinning workers would take a core from runc
        var knobs = Knobs()
        let given: [(String, String?)] = [("cpu-limit", cpuLimit), ("guaranteed", guaranteed ? "true" : nil), ("slots", slots),
                                          ("mtu", mtu), ("seccomp", seccomp), ("runtime", runtime),
                                          ("hugepages", hugepages ? "true" : nil), ("pull", pull)]
        do { for case let (name, value?) in given { try knobs.set(name, to: value) } } catch { throw Failure.badInput("--" + error.description) }
        let spec = try PodsFailure.map {
            try JobSpec(name: name, nodes: nodes, podsPerNode: podsPerNode, network: network, containers: !noContainers,
                        knobs: knobs, cpuset: cpuset, memory: memory, results: results, splitCPUs: splitCPUs,
                        pids: pids, userNamespace: userns)
        }
        // Checked before anything is created: without devices there is nothing to pass through.
        var devices: PodRDMA?
        if rdma {
            if !spec.containers { throw Failure.badInput("--rdma passes devices into pods; --no-containers makes none") }
            do {
                let discovery = Discovery()
                devices = try PodRDMA.host(devices: try discovery.devices(), connectionManager: discovery.connectionManagerNode(),
                                           deviceFolder: discovery.deviceFolder)
            } catch let error as RDMAError {
                throw Failure(message: error.description, code: .noDevice)
            }
        }
        var injection: GPUInjection?
        if let gpus {
            if !spec.containers { throw Failure.badInput("--gpus passes GPUs into pods; --no-containers makes none") }
            injection = try PodsFailure.map {
                var found = try GPUInjection.resolve(gpus)
                found.edits = try found.edits.resolvingDevices()
                return found
            }
        }
        let state = try PodsFailure.map { try PodJob.up(spec, rdma: devices, gpus: injection, progress: PodsFailure.progress) }
        let what = state.pods.isEmpty ? "\(state.nodes.count) node(s), no pods" : "\(state.pods.count) pod(s)"
        let written = state.pods.isEmpty ? state.results : "\(state.results)/POD/"
        print("\(state.spec.name): \(what) on \(state.spec.network.mode.rawValue) network; results in \(written)")
        for pod in state.pods { print("  \(pod.name)  \(pod.address)  node \(state.nodes[pod.node])  results \(pod.results)") }
        if let gpus = state.gpus {
            let edits = gpus.edits
            print("  GPUs: \(gpus.devices.joined(separator: ", ")) from \(gpus.source): \(edits.deviceNodes.count) device node(s), \(edits.mounts.count) mount(s), \(edits.hooks.count) hook(s), \(edits.env.count) variable(s) per pod")
        }
        for pull in state.pulls ?? [] {
            let how = pull.pulled ? "pulled \(pull.bytes) bytes in \(String(format: "%.2f", pull.pullSeconds)) s" : "in the node's store"
            let unpacked = pull.snapshot == .reused ? "its snapshot reused" : "unpacked into a new snapshot"
            print("  image on \(state.nodes[pull.node]): \(pull.digest.prefix(19)) \(how), \(unpacked) in \(String(format: "%.2f", pull.unpackSeconds)) s")
        }
        if let shares = state.spec.nodeCPUs {
            print("  CPUs: " + zip(state.nodes, shares).map { "\($0) \($1)" }.joined(separator: ", "))
        }
    }
}

struct PodsLaunch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Run an MPI job over a job's pods (mpirun with a kubexec-style rsh agent); exits with the job's status.")

    @Option(help: "Job name.")
    var name: String
    @Option(help: "Ranks.")
    var np = 2
    @Option(help: "End the launch after this long, e.g. 90s or 10m.")
    var timeout = "10m"
    @Argument(parsing: .captureForPassthrough, help: "-- podgap run KERNEL ... (podgap resolves to the image's binary)")
    var command: [String] = []

    func run() throws {
        guard let seconds = DurationText.seconds(timeout) else {
            throw Failure.badInput("--timeout '\(timeout)' is not a duration: use seconds, or a number with s, m or h")
        }
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        let outcome = try PodsFailure.map {
            guard geteuid() == 0 else { throw PodsError.badInput("pods need root: run podgap as root, e.g. with sudo") }
            let state = try JobState.load(Store(), job: name)
            return try PodLaunch(state: state, ranks: np, timeout: seconds, command: arguments)
                .run(report: PodsFailure.report)
        }
        if outcome.status != 0 { Foundation.exit(outcome.status) }
    }
}

struct PodsList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List pods jobs, their pods, and the namespaces and links each stands for.")

    @Flag(help: "One JSON array: each job's saved state, every pod with its runc status.")
    var json = false

    func run() throws {
        var listed: [Any] = []
        for job in PodJob.jobs() {
            guard let state = try? JobState.load(Store(), job: job) else {
                if json { listed.append(["name": job, "incomplete": true]) } else {
                    print("\(job)  (incomplete: run podgap pods down --name \(job))")
                }
                continue
            }
            let runtime = try? Runtime(state.spec.knobs.runtime)
            let statuses = state.pods.map { runtime?.state($0.name)?.status ?? "missing" }
            if json {
                listed.append(try state.jsonObject(podStatuses: statuses))
                continue
            }
            let cpus = state.spec.nodeCPUs.map { " node-cpus=" + $0.joined(separator: "/") } ?? ""
            let containers = state.spec.containers ? "" : " no-containers"
            let knobs = state.spec.knobs.isEmpty ? "" : " knobs=" + state.spec.knobs.variable
            print("\(job)  network=\(state.spec.network.mode.rawValue)\(containers) nodes=\(state.nodes.count) pods=\(state.pods.count)\(cpus)\(knobs) results=\(state.results)")
            let nodes = zip(state.nodes, state.nodeNetns).map { "\($0) \($1)" }.joined(separator: ", ")
            print("  netns: \(nodes), underlay \(state.underlayNetns), launcher \(state.launcherNetns); links \(state.underlayLinks.joined(separator: " "))")
            for (pod, status) in zip(state.pods, statuses) {
                print("  \(pod.name)  \(pod.address)  \(state.nodes[pod.node])  \(status)  netns \(pod.netns)  results \(pod.results)")
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: listed, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

struct PodsProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Try, inside a pod, what every pod must be refused; exits 1 if anything went through.",
        discussion: "User namespaces (unshare and clone), mounting, ptrace of PID 1, writing /proc/sys, reading masked /proc files, and a fork bomb, which the pod's pids limit must stop.")

    @Option(help: "Job name.")
    var name: String?
    @Option(help: "Which of the job's pods, counted from 0.")
    var pod = 0
    @Flag(help: "One JSON object per check.")
    var json = false
    @Flag(help: .hidden)
    var inside = false

    func run() throws {
        if inside {
            for check in ConfinementProbe.run() { print(String(decoding: try JSONEncoder().encode(check), as: UTF8.self)) }
            return
        }
        guard let name else { throw Failure.badInput("give --name JOB") }
        let checks = try PodsFailure.map {
            guard geteuid() == 0 else { throw PodsError.badInput("pods need root: run podgap as root, e.g. with sudo") }
            let store = Store()
            let state = try JobState.load(store, job: name)
            guard state.pods.indices.contains(pod) else {
                throw PodsError.badInput("--pod \(pod): job \(name) has \(state.pods.count) pod(s), counted from 0")
            }
            return try ConfinementProbe.run(inside: state.pods[pod].name, runtime: try Runtime(state.spec.knobs.runtime),
                                            log: store.jobFolder(name) + "/probe.log")
        }
        for check in checks {
            if json {
                print(String(decoding: try JSONEncoder().encode(check), as: UTF8.self))
            } else {
                print("\(check.refused ? "refused " : "ALLOWED ")  \(check.name): \(check.detail)")
            }
        }
        let allowed = checks.filter { !$0.refused }.map(\.name)
        if !allowed.isEmpty {
            throw Failure(message: "pod \(name) #\(pod) was allowed: \(allowed.joined(separator: "; "))", code: .unverified)
        }
    }
}

struct PodsDown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Remove everything a job made (containers, namespaces, links, cgroups, state); idempotent.")

    @Option(help: "Job name.")
    var name: String?
    @Flag(help: "Every job.")
    var all = false

    func run() throws {
        guard (name == nil) != !all else { throw Failure.badInput("give --name JOB or --all (one of them)") }
        guard geteuid() == 0 else { throw Failure.badInput("pods need root: run podgap as root, e.g. with sudo") }
        let jobs: [String]
        if let name {
            _ = try PodsFailure.map { try JobNames(name) }
            jobs = [name]
        } else {
            jobs = PodJob.jobs()
        }
        Matrix.endThreads()  // as in `up`
        for job in jobs {
            let removed = PodJob.down(job: job)
            print("\(job): removed \(removed.count) item(s)")
        }
    }
}
