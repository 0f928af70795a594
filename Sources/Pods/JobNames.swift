/// The names of everything a job creates, all derived from the job's name so that `pods down`
/// finds every piece again, even after a launcher crashed and left no state behind.
///
/// A job name is any DNS-1123 label (a Kubernetes object name): up to 63 characters. Linux
/// interface names hold at most 15, so, as CNI plugins do, network namespaces and links are named
/// from a short hash of the job name (`pg1a2b3c4d-n0`); pods and nodes keep readable names
/// (`JOB-p0`, `JOB-n0`: container ids and hostnames), shortened with the same hash where the job
/// name leaves no room for the suffix in a hostname's 63 characters. `JobState.names` records the
/// mapping, and `pods list` shows it.
public struct JobNames: Sendable, Equatable {
    public static let maximumLength = 63
    public static let maximumIndex = 99
    /// Room a hostname leaves after its `-p99` suffix.
    static let hostStemLength = maximumLength - 4

    public let job: String
    /// 8 hex digits of a hash of the job name.
    public let key: String
    /// What every namespace and link name of the job starts with: `pg` and the key (10 characters,
    /// so that the longest link, `<stem>-ul0`, has 14).
    public let stem: String
    /// What pod and node hostnames start with: the job name, or its first characters and the key.
    public let hostStem: String

    /// Checks the name: a DNS-1123 label (lowercase letters, digits and inner dashes, starting and
    /// ending with a letter or digit), at most 63 characters.
    public init(_ job: String) throws {
        guard !job.isEmpty else { throw PodsError.badInput("--name is empty: give the job a name such as 'demo'") }
        guard job.count <= JobNames.maximumLength else {
            throw PodsError.badInput("--name '\(job)' has \(job.count) characters; a Kubernetes name (DNS-1123 label) has at most \(JobNames.maximumLength)")
        }
        let alphanumeric: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        let scalars = job.unicodeScalars
        guard scalars.allSatisfy({ alphanumeric($0) || $0 == "-" }), alphanumeric(scalars.first!), alphanumeric(scalars.last!) else {
            throw PodsError.badInput("--name '\(job)' is not a DNS-1123 label: use a-z, 0-9 and inner '-', starting and ending with a letter or digit")
        }
        self.job = job
        key = JobNames.hash(job)
        stem = "pg" + key
        hostStem = job.count <= JobNames.hostStemLength ? job : job.prefix(JobNames.hostStemLength - key.count - 1) + "-" + key
    }

    /// FNV-1a (64 bits) folded to 32, as 8 hex digits: stable across runs and builds (unlike
    /// Swift's seeded `Hasher`), so that `down` finds a crashed job's pieces again.
    static func hash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let folded = UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
        let digits = String(folded, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Node `index`'s hostname (an emulated node).
    public func node(_ index: Int) -> String { "\(hostStem)-n\(index)" }
    /// Pod `index`: container id and hostname.
    public func pod(_ index: Int) -> String { "\(hostStem)-p\(index)" }
    /// Node `index`'s network namespace.
    public func nodeNetns(_ index: Int) -> String { "\(stem)-n\(index)" }
    /// Pod `index`'s own network namespace (bridge, routed and overlay networks).
    public func podNetns(_ index: Int) -> String { "\(stem)-p\(index)" }
    /// The namespace holding the underlay bridge that joins the nodes.
    public var underlay: String { "\(stem)-ul" }
    /// The launcher's network namespace (attached to the pod network, or to the underlay).
    public var launcher: String { "\(stem)-l" }
    /// The underlay bridge, inside `underlay`.
    public var underlayBridge: String { "\(stem)-br" }
    /// Node `index`'s port on the underlay bridge, inside `underlay`.
    public func underlayPort(_ index: Int) -> String { "\(stem)-u\(index)" }
    /// The launcher's port on the underlay bridge (when pods share their nodes' namespaces).
    public var launcherPort: String { "\(stem)-ul0" }
    /// Node `index`'s link to the registry, inside the registry's namespace while it pulls.
    public func registryLink(_ index: Int) -> String { "\(stem)-r\(index)" }
    /// Per-pod cgroup, directly under each controller's root so that `runc delete` removes it whole.
    public func cgroup(_ pod: String) -> String { "/podgap-\(pod)" }

    /// True when `name` is a network namespace this job makes. Exact suffixes only.
    public func ownsNamespace(_ name: String) -> Bool {
        guard name.hasPrefix(stem + "-") else { return false }
        let rest = name.dropFirst(stem.count + 1)
        return rest == "ul" || rest == "l" || JobNames.isIndexed(rest, kinds: "np")
    }

    /// True when `name` (a container id, or a cgroup folder without its `podgap-` prefix) is one of
    /// this job's pods. Exact suffixes only: job `a` never claims job `a-b`'s `a-b-p0`.
    public func ownsPod(_ name: String) -> Bool {
        guard name.hasPrefix(hostStem + "-") else { return false }
        let rest = name.dropFirst(hostStem.count + 1)
        return JobNames.isIndexed(rest, kinds: "p")
    }

    /// A kind letter followed by one or two digits.
    private static func isIndexed(_ text: Substring, kinds: String) -> Bool {
        guard let kind = text.first, kinds.contains(kind) else { return false }
        let digits = text.dropFirst()
        return !digits.isEmpty && digits.count <= 2 && digits.allSatisfy(\.isNumber)
    }
}
