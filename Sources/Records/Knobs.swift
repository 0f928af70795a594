/// Kubernetes' knobs a pod environment can turn, as values: what a suite entry (`cpu-limit: 0.9`),
/// `pods up` (`--cpu-limit 0.9`) and every record's `environment.knobs` say, under the same names.
/// The one place that spells them, parses them and checks them; the pods module applies them.
public struct Knobs: Codable, Sendable, Equatable {
    /// A seccomp profile a pod can run under.
    public enum Seccomp: String, Codable, Sendable, CaseIterable {
        /// The shipped profile (Docker's default, containers/seccomp.json).
        case `default`
        /// No filter at all (Kubernetes' `Unconfined`).
        case unconfined
    }

    /// The OCI runtime that starts a pod's containers (Kubernetes' RuntimeClass handler).
    public enum ContainerRuntime: String, Codable, Sendable, CaseIterable {
        case runc
        /// Debian's crun: the same OCI configs, written in C; starts containers faster than runc.
        case crun
    }

    /// When a node pulls the pod image from the registry before creating its pods, as a kubelet's
    /// `imagePullPolicy` says. No pull at all (`never`, the knob unset) runs the image already
    /// unpacked on this host.
    public enum Pull: String, Codable, Sendable, CaseIterable {
        /// Empty the node's image store first, then pull: a cold node.
        case always
        /// Pull only what the node's image store lacks: a warm node.
        case ifNotPresent = "if-not-present"
        case never
    }

    /// CFS quota per pod in cores (a Burstable pod's CPU limit); nil for none.
    public var cpuLimit: Double?
    /// The static CPU Manager on a Guaranteed pod: an exclusive integer cpuset per pod, no quota.
    public var guaranteed: Bool?
    /// Ranks per pod (the MPI Operator's `slotsPerWorker`): they share the pod's IPC namespace and
    /// talk over shared memory; nil is one rank per pod, TCP between all of them.
    public var slots: Int?
    /// The underlay's MTU; the overlay's is 50 bytes less (VXLAN's headers). Nil keeps 1500.
    public var mtu: Int?
    public var seccomp: Seccomp?
    /// The OCI runtime the pods run under; nil is runc.
    public var runtime: ContainerRuntime?
    /// Message buffers from a hugetlbfs of the pod's own (a pod requesting `hugepages-2Mi`), where
    /// the host has huge pages reserved.
    public var hugepages: Bool?
    /// Image pull from the registry before the pods start; nil (or `never`) for none.
    public var pull: Pull?

    public init(cpuLimit: Double? = nil, guaranteed: Bool? = nil, slots: Int? = nil, mtu: Int? = nil, seccomp: Seccomp? = nil,
                runtime: ContainerRuntime? = nil, hugepages: Bool? = nil, pull: Pull? = nil) {
        self.cpuLimit = cpuLimit; self.guaranteed = guaranteed; self.slots = slots; self.mtu = mtu; self.seccomp = seccomp
        self.runtime = runtime; self.hugepages = hugepages
        self.pull = pull == .never ? nil : pull
    }

    enum CodingKeys: String, CodingKey {
        case cpuLimit = "cpu-limit", guaranteed, slots, mtu, seccomp, runtime, hugepages, pull
    }

    /// Every knob's name, as suites, flags (`--NAME`) and records spell it.
    public static let names = [CodingKeys.cpuLimit, .guaranteed, .slots, .mtu, .seccomp, .runtime, .hugepages, .pull].map(\.rawValue)
    /// What a pod's network may carry: IPv6's minimum to a common jumbo frame.
    public static let mtuRange = 1280...9000

    public var isEmpty: Bool { self == Knobs() }

    /// Whether a pod computes differently under these knobs (a CPU quota, an exclusive cpuset,
    /// huge pages): its computation then differs for a reason other than the machine's mode.
    public var changesCompute: Bool { cpuLimit != nil || guaranteed == true || hugepages == true }

    /// A knob that cannot be taken as written, in words that say what to write instead.
    public struct Problem: Error, CustomStringConvertible, Sendable, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Sets knob `name` from its text (`--cpu-limit 0.5`, `cpu-limit: 0.5`).
    public mutating func set(_ name: String, to text: String) throws(Problem) {
        switch name {
        case CodingKeys.cpuLimit.rawValue:
            guard let value = Double(text), value.isFinite, value > 0 else {
                throw Problem("cpu-limit '\(text)' is not a CPU count: use a positive number of cores such as 0.5")
            }
            cpuLimit = value
        case CodingKeys.guaranteed.rawValue:
            guaranteed = try Knobs.flag(name, text)
        case CodingKeys.hugepages.rawValue:
            hugepages = try Knobs.flag(name, text)
        case CodingKeys.slots.rawValue:
            guard let value = Int(text), value >= 1 else { throw Problem("slots '\(text)' is not a rank count: use a whole number of at least 1") }
            slots = value
        case CodingKeys.mtu.rawValue:
            guard let value = Int(text), Knobs.mtuRange.contains(value) else {
                throw Problem("mtu '\(text)' must be a whole number from \(Knobs.mtuRange.lowerBound) to \(Knobs.mtuRange.upperBound) (9000 for jumbo frames)")
            }
            mtu = value
        case CodingKeys.seccomp.rawValue:
            guard let value = Seccomp(rawValue: text) else {
                throw Problem("seccomp '\(text)' is unknown; allowed: \(Seccomp.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            seccomp = value
        case CodingKeys.runtime.rawValue:
            guard let value = ContainerRuntime(rawValue: text) else {
                throw Problem("runtime '\(text)' is unknown; allowed: \(ContainerRuntime.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            runtime = value
        case CodingKeys.pull.rawValue:
            guard let value = Pull(rawValue: text) else {
                throw Problem("pull '\(text)' is unknown; allowed: \(Pull.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            // `never` is today's behaviour: no knob at all, so its records pair with the unset ones.
            pull = value == .never ? nil : value
        default:
            throw Problem("unknown knob '\(name)'; knobs: \(Knobs.names.joined(separator: ", "))")
        }
    }

    private static func flag(_ name: String, _ text: String) throws(Problem) -> Bool {
        switch text {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw Problem("\(name) '\(text)' is not true or false")
        }
    }

    /// Checks the knobs together against the machine (`cores` CPUs) and, where known, the ranks
    /// and the job's pods (`pods` of them; `pinned` when the job names its CPUs, with a cpuset or
    /// split-cpus): a suite file at `--dry-run` and `pods up` refuse the same.
    public func validate(cores: Int, ranks: Int? = nil, pods: Int? = nil, pinned: Bool = false) throws(Problem) {
        if let cpuLimit, cpuLimit > Double(cores) {
            throw Problem("cpu-limit \(NumberWords.plain(cpuLimit)) is more than this machine's \(cores) CPU(s): a limit above the machine limits nothing")
        }
        if guaranteed == true, cpuLimit != nil {
            throw Problem("guaranteed gives each pod whole CPUs of its own without a quota; drop cpu-limit (or guaranteed for a Burstable pod)")
        }
        if let slots, let ranks, ranks % slots != 0 {
            throw Problem("slots \(slots) do not divide the \(ranks) ranks: every pod runs the same number of ranks")
        }
        if let slots, let ranks, let pods, ranks > slots * pods {
            throw Problem("slots \(slots) on \(pods) pod(s) hold \(slots * pods) ranks, fewer than the \(ranks) ranks: add pods (pods-per-node) or slots")
        }
        if guaranteed == true, pinned {
            throw Problem("guaranteed gives each pod CPUs of its own; drop cpuset and split-cpus (--cpuset, --split-cpus)")
        }
        if guaranteed == true, let pods, pods > cores {
            throw Problem("guaranteed gives each pod a whole CPU of its own: \(pods) pods need \(pods) CPUs, and there are \(cores) here; use fewer pods (slots) or drop guaranteed")
        }
    }

    /// The knobs as pods tell their ranks (PODGAP_KNOBS), `name=value` by name, comma-separated.
    public var variable: String {
        var parts: [String] = []
        if let cpuLimit { parts.append("cpu-limit=\(NumberWords.plain(cpuLimit))") }
        if let guaranteed { parts.append("guaranteed=\(guaranteed)") }
        if let slots { parts.append("slots=\(slots)") }
        if let mtu { parts.append("mtu=\(mtu)") }
        if let seccomp { parts.append("seccomp=\(seccomp.rawValue)") }
        if let runtime { parts.append("runtime=\(runtime.rawValue)") }
        if let hugepages { parts.append("hugepages=\(hugepages)") }
        if let pull { parts.append("pull=\(pull.rawValue)") }
        return parts.joined(separator: ",")
    }

    /// The knobs a pod's PODGAP_KNOBS says; nil where it says something this build does not know.
    public init?(variable: String) {
        self.init()
        for part in variable.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, (try? set(pair[0], to: pair[1])) != nil else { return nil }
        }
    }
}

/// A number as people write it: no trailing ".0".
enum NumberWords {
    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
