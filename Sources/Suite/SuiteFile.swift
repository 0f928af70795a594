import Records
import Foundation
import Yams

/// A suite: which kernels with which parameters, in which environments, on how many ranks, how
/// many times. Parsed from YAML and checked whole before anything runs.
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
        public var cpus: String?
        public var cpuset: String?
        /// Each emulated node on its own share of the CPUs (`pods up --split-cpus`).
        public var splitCPUs = false
        public var memory: String?
    }

    public var name: String
    public var description: String?
    public var trials: Int
    public var ranks: Int
    public var baseline: String?
    public var timeout: String
    /// mpirun or srun, for the native environments.
    public var launcher: String
    /// Also time one tiny launch per environment and trial (kernel "launch" in the records).
    public var startup: Bool
    public var environments: [EnvironmentEntry]
    public var kernels: [Kernel]

    static let topFields = ["name", "description", "trials", "ranks", "baseline", "timeout", "launcher", "startup",
                            "environments", "kernels"]
    static let environmentFields = ["label", "nodes", "pods-per-node", "cpus", "cpuset", "split-cpus", "memory"]
    /// Options of `podgap run KERNEL` the suite sets itself.
    public static let reservedOptions: Set<String> = ["out", "label", "run-id", "trial", "round", "position", "timeout", "transport", "help", "version"]

    /// Parses and validates. Kernels, their options and their values are checked by `kernels`
    /// (what `podgap run` itself accepts); everything else against the fixed vocabulary.
    public static func parse(_ text: String, file: String, kernels: some KernelRegistry) throws -> SuiteFile {
        if let problem = YAMLNesting.problem(in: text) { throw SuiteError.at(file, nil, "", "\(problem); a suite nests a handful") }
        let node: Node
        do {
            guard let parsed = try Yams.compose(yaml: text) else { throw SuiteError.at(file, nil, "", "the file is empty; a suite needs at least environments and kernels") }
            node = parsed
        } catch let error as SuiteError {
            throw error
        } catch let error as YamlError {
            throw SuiteError("\(file): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        func line(_ node: Node) -> Int? { node.mark.map { $0.line } }
        func fail(_ node: Node, _ path: String, _ problem: String) -> SuiteError { SuiteError.at(file, line(node), path, problem) }
        func allowed(_ values: some Sequence<String>) -> String { "allowed: " + values.sorted().joined(separator: ", ") }
        guard let top = node.mapping else { throw fail(node, "", "the top level must be a mapping of \(topFields.joined(separator: ", "))") }

        func string(_ value: Node, _ path: String) throws -> String {
            guard let scalar = value.scalar else { throw fail(value, path, "must be a single value") }
            return scalar.string
        }
        func integer(_ value: Node, _ path: String, minimum: Int) throws -> Int {
            guard let number = value.scalar.flatMap({ Int($0.string) }), number >= minimum else {
                throw fail(value, path, "'\(value.scalar?.string ?? "(not a value)")' must be a whole number of at least \(minimum)")
            }
            return number
        }
        /// One list item, `NAME` or `NAME: VALUE`: the name's node and the value's, if any.
        func listItem(_ item: Node, _ path: String, _ what: String, _ options: String) throws -> (name: Node, value: Node?) {
            guard let mapping = item.mapping else { return (item, nil) }
            guard mapping.count == 1, let only = mapping.first else { throw fail(item, path, "write one \(what) per item: NAME or NAME: {\(options)}") }
            return (only.key, only.value)
        }
        func bool(_ value: Node, _ path: String) throws -> Bool {
            switch value.scalar?.string.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw fail(value, path, "'\(value.scalar?.string ?? "(not a value)")' must be true or false")
            }
        }

        var suite = SuiteFile(name: "", description: nil, trials: 3, ranks: 2, baseline: nil, timeout: "10m",
                              launcher: "mpirun", startup: true, environments: [], kernels: [])
        var sawEnvironments: Node?, sawKernels = false, baselineNode: Node?
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "name":
                suite.name = try string(value, key)
                guard suite.name.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$", options: .regularExpression) != nil else {
                    throw fail(value, key, "'\(suite.name)' must be letters, digits, '.', '_' or '-' (it names the results folder)")
                }
            case "description": suite.description = try string(value, key)
            case "trials": suite.trials = try integer(value, key, minimum: 1)
            case "ranks": suite.ranks = try integer(value, key, minimum: 1)
            case "baseline": suite.baseline = try string(value, key); baselineNode = value
            case "timeout":
                suite.timeout = try string(value, key)
                guard DurationText.seconds(suite.timeout) != nil else { throw fail(value, key, "'\(suite.timeout)' is not a duration: use seconds, or a number with s, m or h") }
            case "launcher":
                suite.launcher = try string(value, key)
                guard ["mpirun", "srun"].contains(suite.launcher) else { throw fail(value, key, "'\(suite.launcher)' is unknown; allowed: mpirun, srun") }
            case "startup": suite.startup = try bool(value, key)
            case "environments":
                sawEnvironments = value
                guard let list = value.sequence, !list.isEmpty else { throw fail(value, key, "must be a non-empty list of environments; \(allowed(EnvironmentCatalog.names))") }
                for (index, item) in list.enumerated() {
                    let path = "environments[\(index)]"
                    let (kindNode, value) = try listItem(item, path, "environment", "options")
                    var options: Node.Mapping?
                    if let value {
                        guard let map = value.mapping else { throw fail(value, "\(path).\(kindNode.string ?? "")", "options must be a mapping; \(allowed(environmentFields))") }
                        options = map
                    }
                    let kind = try string(kindNode, path)
                    guard let environmentKind = EnvironmentCatalog.kind(named: kind) else { throw fail(kindNode, path, "unknown environment '\(kind)'; \(allowed(EnvironmentCatalog.names))") }
                    var entry = EnvironmentEntry(kind: environmentKind, label: kind)
                    for (optionKey, optionValue) in options ?? [:] {
                        let option = optionKey.string ?? ""
                        let optionPath = "\(path).\(kind).\(option)"
                        switch option {
                        case "label": entry.label = try string(optionValue, optionPath)
                        case "nodes": entry.nodes = try integer(optionValue, optionPath, minimum: 1)
                        case "pods-per-node": entry.podsPerNode = try integer(optionValue, optionPath, minimum: 1)
                        case "cpus": entry.cpus = try string(optionValue, optionPath)
                        case "cpuset": entry.cpuset = try string(optionValue, optionPath)
                        case "split-cpus": entry.splitCPUs = try bool(optionValue, optionPath)
                        case "memory": entry.memory = try string(optionValue, optionPath)
                        default: throw fail(optionKey, optionPath, "unknown field; \(allowed(environmentFields))")
                        }
                    }
                    if case .native = environmentKind.launch, entry.nodes != nil || entry.podsPerNode != nil || entry.cpus != nil || entry.memory != nil || entry.cpuset != nil || entry.splitCPUs {
                        throw fail(item, path, "\(kind) runs on the host: nodes, pods-per-node, cpus, cpuset, split-cpus and memory apply to pods environments only")
                    }
                    guard !suite.environments.contains(where: { $0.label == entry.label }) else {
                        throw fail(item, path, "environment '\(entry.label)' is listed twice; give the second a different label")
                    }
                    suite.environments.append(entry)
                }
            case "kernels":
                sawKernels = true
                guard let list = value.sequence, !list.isEmpty else { throw fail(value, key, "must be a non-empty list of kernels; \(allowed(kernels.names))") }
                for (index, item) in list.enumerated() {
                    let path = "kernels[\(index)]"
                    let (nameNode, value) = try listItem(item, path, "kernel", "parameters")
                    // `NAME:` alone (an empty value) is NAME without parameters.
                    if let value, value.scalar?.string.isEmpty == false || value.sequence != nil {
                        throw fail(value, "\(path).\(nameNode.string ?? "")", "parameters must be a mapping")
                    }
                    let parameters = value?.mapping
                    let name = try string(nameNode, path)
                    guard kernels.names.contains(name) else { throw fail(nameNode, path, "unknown kernel '\(name)'; \(allowed(kernels.names))") }
                    var kernel = Kernel(name: name, parameters: [])
                    var parameterNodes: [Node] = []
                    let usable = kernels.options(of: name).filter { !reservedOptions.contains($0.key) }
                    for (parameterKey, parameterValue) in parameters ?? [:] {
                        let parameter = parameterKey.string ?? ""
                        let parameterPath = "\(path).\(name).\(parameter)"
                        guard let isFlag = usable[parameter] else {
                            let why = reservedOptions.contains(parameter) ? "is set by the suite itself; " : "unknown parameter; "
                            throw fail(parameterKey, parameterPath, why + allowed(usable.keys))
                        }
                        if isFlag {
                            if try bool(parameterValue, parameterPath) { kernel.parameters.append(.init(key: parameter, value: nil)) }
                        } else {
                            kernel.parameters.append(.init(key: parameter, value: try string(parameterValue, parameterPath)))
                        }
                        parameterNodes.append(parameterValue)
                    }
                    try validate(kernel, registry: kernels) { index, problem in
                        guard let index else { return fail(nameNode, path, problem) }
                        let parameter = kernel.parameters[index]
                        return fail(parameterNodes[index], "\(path).\(name).\(parameter.key)", "'\(parameter.value ?? "true")': \(problem)")
                    }
                    suite.kernels.append(kernel)
                }
            default:
                throw fail(keyNode, key, "unknown field; \(allowed(topFields))")
            }
        }
        guard let environmentsNode = sawEnvironments else { throw fail(node, "environments", "missing; list the environments to compare, \(allowed(EnvironmentCatalog.names))") }
        guard sawKernels else { throw fail(node, "kernels", "missing; list the kernels to run, \(allowed(kernels.names))") }
        if suite.name.isEmpty {
            suite.name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        }
        if let baseline = suite.baseline, !suite.environments.contains(where: { $0.label == baseline }) {
            throw fail(baselineNode ?? environmentsNode, "baseline", "'\(baseline)' is not one of the suite's environments (\(suite.environments.map(\.label).joined(separator: ", ")))")
        }
        for (index, entry) in suite.environments.enumerated() {
            if case .nodes(let defaultNodes, _, _) = entry.kind.launch, entry.podsPerNode == nil {
                let nodes = entry.nodes ?? defaultNodes
                guard suite.ranks % nodes == 0 else {
                    throw fail(environmentsNode, "environments[\(index)]", "\(suite.ranks) ranks do not spread evenly over \(nodes) nodes; set ranks or pods-per-node")
                }
            }
        }
        return suite
    }

    /// Asks `registry` whether `podgap run` would take `kernel`'s parameters. A refusal is laid at
    /// the first parameter refused on its own (so the message names its line and value), else at
    /// the kernel (values that only clash together).
    static func validate(_ kernel: Kernel, registry: some KernelRegistry,
                         fail: (_ parameter: Int?, _ problem: String) -> SuiteError) throws {
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
