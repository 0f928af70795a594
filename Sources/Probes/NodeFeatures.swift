import Foundation
import MPI
import Records

/// What a node offers an MPI job, as Kubernetes node labels: `podgap env --format nfd` prints
/// them as `name=value` lines for Node Feature Discovery's local feature source, which reads the
/// files in /etc/kubernetes/node-feature-discovery/features.d/ and labels the node with them. So
/// every name and value follows Kubernetes' label syntax (`NodeFeatures.isLabelName`, `isLabelValue`).
public struct NodeFeatures: Equatable, Sendable {
    /// The labels' namespace. nfd-master publishes every namespace but kubernetes.io and its
    /// subdomains by default (its denyLabelNs option), so this one needs no configuration.
    public static let prefix = "podgap.io"

    public struct Label: Equatable, Sendable {
        public var name: String
        public var value: String
    }

    public private(set) var labels: [Label] = []

    /// - Parameters:
    ///   - transports: the MPI transports this node can use (`MPITransports.available()`).
    ///   - cgroupVersion: "v1", "v2" or "hybrid" (`CgroupVersion.detect()`); nil where unknown.
    public init(environment: Environment, transports: [String], cgroupVersion: String?) {
        let (library, version) = NodeFeatures.mpi(environment.mpiLibrary)
        add("mpi.library", library)
        if let version { add("mpi.version", version) }
        for transport in Set(transports.map(NodeFeatures.labelText)).sorted() { add("mpi.transport.\(transport)", "true") }
        add("rdma", environment.rdma.isEmpty ? "false" : "true")
        let gpus = environment.gpus ?? []
        add("gpu.count", String(gpus.count))
        if let model = NodeFeatures.mostCommon(gpus.map(\.name)) { add("gpu.model", model) }
        add("cpu.cores", String(environment.cores))
        if let topology = environment.topology { add("numa.nodes", String(topology.numaNodes)) }
        if let cgroupVersion { add("cgroup.version", cgroupVersion) }
        add("container", environment.container == nil ? "false" : "true")
        add("version", Environment.podgapVersion)
    }

    /// What this process sees: its environment, the MPI library's transports, the cgroup hierarchy.
    public static func local(environment: Environment) -> NodeFeatures {
        NodeFeatures(environment: environment, transports: MPITransports.available(), cgroupVersion: CgroupVersion.detect())
    }

    /// The feature file: one `name=value` line per label.
    public var text: String { labels.map { "\($0.name)=\($0.value)\n" }.joined() }

    private mutating func add(_ name: String, _ value: String) {
        labels.append(Label(name: "\(NodeFeatures.prefix)/\(NodeFeatures.labelText(name))", value: NodeFeatures.labelText(value)))
    }

    /// "Open MPI v4.1.4" -> ("openmpi", "4.1.4"): the name is the words before the first one with
    /// a digit (a "Version" word left out), lowercased to letters and digits; the version is that
    /// first word without a leading "v".
    static func mpi(_ description: String) -> (library: String, version: String?) {
        let words = description.split(whereSeparator: { $0.isWhitespace || $0 == "," })
        let versionIndex = words.firstIndex { $0.contains(where: \.isNumber) }
        let nameWords = words[..<(versionIndex ?? words.endIndex)].filter { !$0.lowercased().hasPrefix("version") }
        let name = nameWords.joined().lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        let version = versionIndex.map { index -> String in
            let word = words[index]
            return String(word.first == "v" || word.first == "V" ? word.dropFirst() : word)
        }
        return (name.isEmpty ? "unknown" : name, version)
    }

    private static func mostCommon(_ names: [String]) -> String? {
        let counts = Dictionary(names.map { ($0, 1) }, uniquingKeysWith: +)
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    /// Text made a label name or value: characters outside letters, digits, '-', '_' and '.' become
    /// '-', runs of them one, at most 63 characters, beginning and ending with a letter or digit
    /// ("NVIDIA H200" -> "NVIDIA-H200"); "unknown" when nothing is left.
    public static func labelText(_ text: String) -> String {
        var scalars: [Unicode.Scalar] = []
        for scalar in text.unicodeScalars {
            if isAlphanumeric(scalar) || scalar == "_" || scalar == "." || scalar == "-" {
                scalars.append(scalar)
            } else if scalars.last != "-" {
                scalars.append("-")
            }
        }
        func trimmed(_ part: ArraySlice<Unicode.Scalar>) -> ArraySlice<Unicode.Scalar> {
            guard let first = part.firstIndex(where: isAlphanumeric), let last = part.lastIndex(where: isAlphanumeric) else { return [] }
            return part[first...last]
        }
        let fitted = trimmed(trimmed(scalars[...]).prefix(63))
        return fitted.isEmpty ? "unknown" : String(String.UnicodeScalarView(fitted))
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
    }

    /// Kubernetes' label name: an optional DNS subdomain prefix (at most 253 characters) and '/',
    /// then at most 63 characters of letters, digits, '-', '_', '.', beginning and ending
    /// alphanumeric (k8s.io/apimachinery validation.IsQualifiedName).
    public static func isLabelName(_ text: String) -> Bool {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard parts[0].count <= 253, parts[0].range(of: subdomain, options: .regularExpression) != nil else { return false }
        }
        guard let name = parts.last, name.count <= 63 else { return false }
        return name.range(of: "^" + qualified + "$", options: .regularExpression) != nil
    }

    /// Kubernetes' label value: empty, or at most 63 characters as a name's last part (IsValidLabelValue).
    public static func isLabelValue(_ text: String) -> Bool {
        text.isEmpty || (text.count <= 63 && text.range(of: "^" + qualified + "$", options: .regularExpression) != nil)
    }

    private static let qualified = "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
    private static let subdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
}

/// Which MPI point-to-point transports this node can use, read from the MPI library itself.
public enum MPITransports {
    /// The library's installed BTL components that its `btl` selection allows (but `self`, which
    /// only reaches the rank's own process), and `ucx` where its UCX PML is installed and the
    /// `pml` selection allows it. Open MPI registers every installed component's parameters in
    /// MPI_T; each BTL has `btl_NAME_exclusivity`, each PML `pml_NAME_priority`.
    public static func available() -> [String] {
        available(registered: MPI.controlVariableNames(), btl: MPI.controlVariable(named: "btl"),
                  pml: MPI.controlVariable(named: "pml"))
    }

    static func available(registered: [String], btl: String?, pml: String?) -> [String] {
        func components(_ framework: String, _ suffix: String) -> [String] {
            registered.compactMap { name in
                guard name.hasPrefix(framework + "_"), name.hasSuffix("_" + suffix) else { return nil }
                let component = name.dropFirst(framework.count + 1).dropLast(suffix.count + 1)
                return component.isEmpty || component == "base" ? nil : String(component)
            }
        }
        var transports = components("btl", "exclusivity").filter { $0 != "self" && allows(btl, $0) }
        if components("pml", "priority").contains("ucx") && allows(pml, "ucx") { transports.append("ucx") }
        return Array(Set(transports)).sorted()
    }

    /// Whether an MCA selection (`tcp,self`, `^openib,ofi`, or empty/unset for all) allows `component`.
    public static func allows(_ selection: String?, _ component: String) -> Bool {
        guard let selection, !selection.isEmpty else { return true }
        let excluding = selection.hasPrefix("^")
        let listed = (excluding ? selection.dropFirst() : Substring(selection)).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return listed.contains(component) != excluding
    }
}

/// The cgroup hierarchy this process sees: "v2" (unified), "hybrid" (v1 controllers and a
/// unified tree beside them) or "v1"; nil where /sys/fs/cgroup holds neither.
public enum CgroupVersion {
    public static func detect(root: String = "/sys/fs/cgroup") -> String? {
        let files = FileManager.default
        if files.fileExists(atPath: "\(root)/cgroup.controllers") { return "v2" }
        let v1 = ["cpu", "memory", "cpuset"].contains { files.fileExists(atPath: "\(root)/\($0)") }
        if v1 && files.fileExists(atPath: "\(root)/unified/cgroup.controllers") { return "hybrid" }
        return v1 ? "v1" : nil
    }
}
