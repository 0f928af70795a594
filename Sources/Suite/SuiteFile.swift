import Config
import Foundation
import Launch
import Pods
import Records

/// A suite: which kernels with which parameters, in which environments, on how many ranks, for
/// how many rounds. Parsed from YAML and checked whole, kernel values included, before anything
/// runs.
public struct SuiteFile: Sendable {
    public struct Kernel: Sendable, Equatable {
        public struct Parameter: Sendable, Equatable {
            public var key: String
            /// Nil for a flag that is set (`--key` alone).
            public var value: String?
        }

        public var name: String
        /// Options passed to `podgap run NAME`, in file order.
        public var parameters: [Parameter]

        /// The arguments after `podgap run`.
        public var arguments: [String] {
            [name] + parameters.flatMap { parameter in ["--" + parameter.key] + (parameter.value.map { [$0] } ?? []) }
        }
    }

    public struct EnvironmentEntry: Sendable, Equatable {
        public var kind: EnvironmentKind
        /// The name recorded and compared; the kind's name unless `label` is given.
        public var label: String
        public var nodes: Int?
        public var podsPerNode: Int?
        /// Kubernetes' knobs on a pods environment (`cpu-limit: 0.9`, `slots: 2` ...).
        public var knobs = Knobs()
        public var cpuset: String?
        /// Each emulated node on its own share of the CPUs (`pods up --split-cpus`).
        public var splitCPUs = false
        public var memory: String?
        /// How this environment's kernels are launched; nil: the suite's `launch`.
        public var launchShape: LaunchShape?
        /// What starts this environment's native ranks (`launcher:` under the entry); nil: the suite's.
        public var launcher: Launcher?
        /// Where the file set `launcher` (FILE:LINE), for refusals that point at it.
        public var launcherSetAt: String?

        /// The emulated nodes and pods per node `pods up` makes for `ranks` ranks (the kind's
        /// `defaultNodes` unless `nodes` is set). With `slots` each pod runs that many ranks:
        /// fewer pods, as slotsPerWorker makes fewer workers. Rounded up: every rank needs a slot
        /// (6 ranks, 2 slots, 2 nodes: 2 pods per node).
        func placement(ranks: Int, defaultNodes: Int) -> (nodes: Int, podsPerNode: Int) {
            let nodes = self.nodes ?? defaultNodes
            let slots = (knobs.slots ?? 1) * nodes
            return (nodes, podsPerNode ?? max(1, (ranks + slots - 1) / slots))
        }
    }

    /// How a round's kernels start in an environment (`launch:`).
    public enum LaunchShape: String, Sendable, CaseIterable {
        /// One MPI job per kernel (and one for the startup probe).
        case perKernel = "per-kernel"
        /// One MPI job running the startup probe and every kernel one after another
        /// (`podgap run sequence`): one start-up per environment and round.
        case combined
    }

    /// How native environments start their ranks: mpirun on this host, or srun or sbatch through Slurm.
    public typealias Launcher = LaunchPlan.NativeStarter

    public var name: String
    public var description: String?
    /// Rounds to run: every environment once per round, in a seeded random order.
    public var rounds: Int
    /// The seed of the rounds' orders; nil: a fresh one per results folder (kept in its journal).
    public var seed: UInt64?
    public var ranks: Int
    public var baseline: String?
    public var timeout: String
    /// What starts the native environments' ranks where an environment does not say (`launcher:`).
    public var launcher: Launcher
    /// Where the file set the suite-wide `launcher` (FILE:LINE); nil where it is the default.
    public var launcherSetAt: String?
    /// Also time one tiny launch per environment and round (kernel "launch" in the records).
    public var startup: Bool
    /// `startup: phases`: that launch is `podgap run startup`'s probe, so each also leaves a
    /// "startup" record with its phases, submit to first allreduce (docs/startup.md).
    public var phases = false
    /// How kernels are launched in environments that do not say (`launch:`).
    public var launchShape: LaunchShape
    public var environments: [EnvironmentEntry]
    public var kernels: [Kernel]

    static let defaultRounds = 10
    /// The `startup:` value that times each start-up in phases.
    static let startupPhases = "phases"
    static let defaultLaunchShape = LaunchShape.perKernel
    static let topFields = ["name", "description", "rounds", "seed", "ranks", "baseline", "timeout", "launcher", "startup",
                            "launch", "environments", "kernels"]
    static let environmentFields = ["label", "launch", "launcher", "nodes", "pods-per-node", "cpus", "cpuset", "split-cpus", "memory"] + Knobs.names
    /// Options of `podgap run KERNEL` the suite sets itself.
    public static let reservedOptions: Set<String> = ["out", "label", "run-id", "trial", "round", "position", "timeout", "transport", "help", "version"]

    /// Parses and validates. Kernels, their options and their values are checked by `kernels`
    /// (what `podgap run` itself accepts); everything else against the fixed vocabulary.
    public static func parse(_ text: String, file: String, kernels: some KernelRegistry) throws -> SuiteFile {
        do { return try read(text, file: file, kernels: kernels) } catch let error as ConfigError {
            throw SuiteError(error.description)
        }
    }

    private static func read(_ text: String, file: String, kernels: some KernelRegistry) throws -> SuiteFile {
        func allowed(_ values: some Sequence<String>) -> String { "allowed: " + values.sorted().joined(separator: ", ") }
        guard let top = try ConfigValue.document(text, file: file) else {
            throw ConfigError(file: file, line: nil, path: "", problem: "the file is empty; a suite needs at least environments and kernels")
        }
        guard top.isMapping else { throw top.problem("the top level must be a mapping of \(topFields.joined(separator: ", "))") }
        if let trials = top.field("trials") {
            throw trials.problem("is now 'rounds' (every environment once per round, in a seeded order)")
        }
        try top.onlyFields(topFields)

        var suite = SuiteFile(name: "", description: nil, rounds: defaultRounds, seed: nil, ranks: 2, baseline: nil, timeout: "10m",
                              launcher: .mpirun, startup: true, launchShape: defaultLaunchShape, environments: [], kernels: [])
        if let value = top.field("name") {
            suite.name = try value.text()
            guard suite.name.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$", options: .regularExpression) != nil else {
                throw value.problem("'\(suite.name)' must be letters, digits, '.', '_' or '-' (it names the results folder)")
            }
        } else {
            suite.name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        }
        suite.description = try top.field("description")?.text()
        if let value = top.field("rounds") { suite.rounds = try value.integer(atLeast: 1) }
        if let value = top.field("seed") { suite.seed = UInt64(try value.integer(atLeast: 0)) }
        if let value = top.field("ranks") { suite.ranks = try value.integer(atLeast: 1) }
        if let value = top.field("timeout") {
            suite.timeout = try value.text()
            guard DurationText.seconds(suite.timeout) != nil else { throw value.problem("'\(suite.timeout)' is not a duration: use seconds, or a number with s, m or h") }
        }
        if let value = top.field("launcher") {
            suite.launcher = try launcher(value)
            suite.launcherSetAt = location(value)
        }
        if let value = top.field("startup") {
            if (try? value.text()) == startupPhases {
                suite.startup = true
                suite.phases = true
            } else {
                do { suite.startup = try value.flag() } catch { throw value.problem("'\(try value.text())' must be true, false or \(startupPhases)") }
            }
        }
        if let value = top.field("launch") { suite.launchShape = try launchShape(value) }

        guard let environments = top.field("environments") else {
            throw top.problem("environments: missing; list the environments to compare, \(allowed(EnvironmentCatalog.names))")
        }
        guard let list = try? environments.list(), !list.isEmpty else {
            throw environments.problem("must be a non-empty list of environments; \(allowed(EnvironmentCatalog.names))")
        }
        for item in list {
            let entry = try environment(item, ranks: suite.ranks)
            guard !suite.environments.contains(where: { $0.label == entry.label }) else {
                throw item.problem("environment '\(entry.label)' is listed twice; give the second a different label")
            }
            suite.environments.append(entry)
        }

        // A suite of start-ups alone (`startup: phases`) needs no kernel.
        if let kernelList = top.field("kernels") {
            guard let items = try? kernelList.list(), !items.isEmpty else { throw kernelList.problem("must be a non-empty list of kernels; \(allowed(kernels.names))") }
            for item in items { suite.kernels.append(try kernel(item, registry: kernels)) }
        } else if !suite.phases {
            throw top.problem("kernels: missing; list the kernels to run, \(allowed(kernels.names))")
        }
        if suite.phases, let combined = suite.environments.first(where: { suite.launchShape(of: $0) == .combined }) {
            throw top.field("startup")!.problem("startup: \(startupPhases) times each start-up in a launch of its own, which \(combined.label)'s launch: combined has not; use launch: per-kernel")
        }

        if let value = top.field("baseline") {
            let baseline = try value.text()
            guard suite.environments.contains(where: { $0.label == baseline }) else {
                throw value.problem("'\(baseline)' is not one of the suite's environments (\(suite.environments.map(\.label).joined(separator: ", ")))")
            }
            suite.baseline = baseline
        }
        return suite
    }

    /// How `entry`'s kernels are launched in this suite.
    public func launchShape(of entry: EnvironmentEntry) -> LaunchShape { entry.launchShape ?? launchShape }

    /// What starts `entry`'s native ranks in this suite: its own `launcher`, else the suite's.
    public func launcher(of entry: EnvironmentEntry) -> Launcher { entry.launcher ?? launcher }

    /// Where the file chose `entry`'s launcher (FILE:LINE of the `launcher` key); nil for the default.
    public func launcherSetAt(of entry: EnvironmentEntry) -> String? { entry.launcher != nil ? entry.launcherSetAt : launcherSetAt }

    private static func launcher(_ value: ConfigValue) throws -> Launcher {
        let name = try value.text()
        guard let launcher = Launcher(rawValue: name) else {
            throw value.problem("'\(name)' is unknown; allowed: \(Launcher.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return launcher
    }

    private static func location(_ value: ConfigValue) -> String { value.line.map { "\(value.file):\($0)" } ?? value.file }

    private static func launchShape(_ value: ConfigValue) throws -> LaunchShape {
        let name = try value.text()
        guard let shape = LaunchShape(rawValue: name) else {
            throw value.problem("'\(name)' is unknown; allowed: \(LaunchShape.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return shape
    }

    /// One list item, `NAME` or `NAME: VALUE`: the name, and the value unless it is empty.
    private static func listItem(_ item: ConfigValue, _ what: String, _ options: String) throws -> (name: ConfigValue, value: ConfigValue?) {
        guard item.isMapping else { return (item, nil) }
        let entries = try item.entries()
        guard entries.count == 1, let only = entries.first else { throw item.problem("write one \(what) per item: NAME or NAME: {\(options)}") }
        return (only.key, only.value.isNull ? nil : only.value)
    }

    private static func environment(_ item: ConfigValue, ranks: Int, cores: Int = CPUSet.current().count) throws -> EnvironmentEntry {
        func allowed(_ values: some Sequence<String>) -> String { "allowed: " + values.sorted().joined(separator: ", ") }
        let (kindValue, options) = try listItem(item, "environment", "options")
        let name = try kindValue.text()
        guard let kind = EnvironmentCatalog.kind(named: name) else {
            throw ConfigError(file: item.file, line: kindValue.line, path: item.path, problem: "unknown environment '\(name)'; \(allowed(EnvironmentCatalog.names))")
        }
        var entry = EnvironmentEntry(kind: kind, label: name)
        if let options {
            guard options.isMapping else { throw options.problem("options must be a mapping; \(allowed(environmentFields))") }
            try options.onlyFields(environmentFields)
            for (option, _, value) in try options.entries() {
                switch option {
                case "label": entry.label = try value.text()
                case "launch": entry.launchShape = try launchShape(value)
                case "launcher":
                    entry.launcher = try launcher(value)
                    entry.launcherSetAt = location(value)
                case "nodes": entry.nodes = try value.integer(atLeast: 1)
                case "pods-per-node": entry.podsPerNode = try value.integer(atLeast: 1)
                case "cpuset": entry.cpuset = try value.text()
                case "split-cpus": entry.splitCPUs = try value.flag()
                case "memory": entry.memory = try value.text()
                default:
                    // A knob (onlyFields refused anything else); `cpus` is what `cpu-limit` was called before it was one.
                    do { try entry.knobs.set(option == "cpus" ? "cpu-limit" : option, to: try value.text()) } catch let problem as Knobs.Problem {
                        throw value.problem(problem.description)
                    }
                    // A runtime this machine lacks is refused here, where the file names it, not when pods come up.
                    if option == "runtime" {
                        do { _ = try Runtime(entry.knobs.runtime) } catch { throw value.problem("\(error)") }
                    }
                }
            }
        }
        switch kind.launch {
        case .native:
            if !entry.knobs.isEmpty {
                throw item.problem("\(name) runs on the host: knobs (\(Knobs.names.joined(separator: ", "))) apply to pod environments only")
            }
            if entry.nodes != nil || entry.podsPerNode != nil || entry.memory != nil || entry.cpuset != nil || entry.splitCPUs {
                throw item.problem("\(name) runs on the host: nodes, pods-per-node, cpus, cpuset, split-cpus and memory apply to pods environments only")
            }
        case .nodes(let defaultNodes, _, let containers):
            if containers && entry.launcher != nil {
                throw item.problem("\(name) starts its ranks in pods (mpirun over the pods): launcher (\(Launcher.allCases.map(\.rawValue).joined(separator: ", "))) applies to native environments and native-2node")
            }
            if !containers && !entry.knobs.isEmpty {
                throw item.problem("\(name) runs its ranks as host processes: knobs (\(Knobs.names.joined(separator: ", "))) apply to pod environments only")
            }
            // What `pods up` and the launches would refuse (slots too few for the ranks, guaranteed
            // pods beyond the CPUs), refused here at the entry's line, at --dry-run too.
            let (nodes, perNode) = entry.placement(ranks: ranks, defaultNodes: defaultNodes)
            do {
                try entry.knobs.validate(cores: cores, ranks: ranks, pods: containers ? nodes * perNode : nil,
                                         pinned: containers && (entry.cpuset != nil || entry.splitCPUs))
            } catch { throw item.problem(error.description) }
            let slots = entry.knobs.slots ?? 1
            if entry.podsPerNode == nil, ranks % nodes != 0, slots == 1 {
                throw item.problem("\(ranks) ranks do not spread evenly over \(nodes) nodes; set ranks or pods-per-node")
            }
        }
        return entry
    }

    private static func kernel(_ item: ConfigValue, registry: some KernelRegistry) throws -> Kernel {
        func allowed(_ values: some Sequence<String>) -> String { "allowed: " + values.sorted().joined(separator: ", ") }
        let (nameValue, parameters) = try listItem(item, "kernel", "parameters")
        let name = try nameValue.text()
        guard registry.names.contains(name) else {
            throw ConfigError(file: item.file, line: nameValue.line, path: item.path, problem: "unknown kernel '\(name)'; \(allowed(registry.names))")
        }
        var kernel = Kernel(name: name, parameters: [])
        var values: [ConfigValue] = []
        if let parameters {
            guard parameters.isMapping else { throw parameters.problem("parameters must be a mapping") }
            let usable = registry.options(of: name).filter { !reservedOptions.contains($0.key) }
            for (parameter, key, value) in try parameters.entries() {
                guard let isFlag = usable[parameter] else {
                    let why = reservedOptions.contains(parameter) ? "is set by the suite itself; " : "unknown parameter; "
                    throw key.problem(why + allowed(usable.keys))
                }
                if isFlag {
                    if try value.flag() { kernel.parameters.append(.init(key: parameter, value: nil)) }
                } else {
                    kernel.parameters.append(.init(key: parameter, value: try value.text()))
                }
                values.append(value)
            }
        }
        try validate(kernel, registry: registry) { index, problem in
            guard let index else { return ConfigError(file: item.file, line: nameValue.line, path: item.path, problem: problem) }
            return values[index].problem("'\(kernel.parameters[index].value ?? "true")': \(problem)")
        }
        return kernel
    }

    /// Asks `registry` whether `podgap run` would take `kernel`'s parameters. A refusal is laid at
    /// the first parameter refused on its own (so the message names its line and value), else at
    /// the kernel (values that only clash together).
    static func validate(_ kernel: Kernel, registry: some KernelRegistry,
                         fail: (_ parameter: Int?, _ problem: String) -> ConfigError) throws {
        func problem(_ arguments: [String]) -> String? {
            do { try registry.validate(kernel: kernel.name, arguments: arguments); return nil } catch {
                return String(describing: error).split(separator: "\n").first.map(String.init) ?? "refused"
            }
        }
        guard let whole = problem(Array(kernel.arguments.dropFirst())) else { return }
        for (index, parameter) in kernel.parameters.enumerated() {
            let alone = Kernel(name: kernel.name, parameters: [parameter])
            if let reason = problem(Array(alone.arguments.dropFirst())) { throw fail(index, reason) }
        }
        throw fail(nil, whole)
    }
}
