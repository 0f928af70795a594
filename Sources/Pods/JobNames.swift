/// The names of everything a job creates, all derived from the job's name so that `pods down`
/// finds every piece again, even after a launcher crashed and left no state behind.
///
/// Linux interface names hold at most 15 characters; the longest one a job makes is its underlay
/// port `<job>-u<NN>`, so a job name has at most 11 characters and a job at most 99 nodes and pods.
public struct JobNames: Sendable, Equatable {
    public static let maximumLength = 11
    public static let maximumIndex = 99

    public let job: String

    /// Checks the name: lowercase letters, digits and inner dashes, at most 11 characters.
    public init(_ job: String) throws {
        guard !job.isEmpty else { throw PodsError.badInput("--name is empty: give the job a name such as 'demo'") }
        guard job.count <= JobNames.maximumLength else {
            throw PodsError.badInput("--name '\(job)' has \(job.count) characters; at most \(JobNames.maximumLength) fit the interface names derived from it (e.g. '\(job)-u0' must fit 15)")
        }
        let allowed = job.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard allowed, job.first!.isLetter, job.last != "-" else {
            throw PodsError.badInput("--name '\(job)' must start with a lowercase letter and hold only a-z, 0-9 and inner '-'")
        }
        self.job = job
    }

    /// Node `index`'s network namespace (an emulated node).
    public func node(_ index: Int) -> String { "\(job)-n\(index)" }
    /// Pod `index`: container id, hostname and (unless host network) network namespace.
    public func pod(_ index: Int) -> String { "\(job)-p\(index)" }
    /// The namespace holding the underlay bridge that joins the nodes.
    public var underlay: String { "\(job)-ul" }
    /// The launcher's network namespace (attached to the pod network, or to the underlay).
    public var launcher: String { "\(job)-l" }
    /// The underlay bridge, inside `underlay`.
    public var underlayBridge: String { "\(job)-br" }
    /// Node `index`'s port on the underlay bridge, inside `underlay`.
    public func underlayPort(_ index: Int) -> String { "\(job)-u\(index)" }
    /// The launcher's port on the underlay bridge (host and bare networks).
    public var launcherPort: String { "\(job)-ul0" }
    /// Per-pod cgroup, directly under each controller's root so that `runc delete` removes it whole.
    public func cgroup(_ pod: String) -> String { "/podgap-\(pod)" }

    /// True when `name` (a netns, container id or cgroup folder without its prefix) is one this
    /// job makes. Exact suffixes only: job `a` never claims job `a-b`'s `a-b-n0`.
    public func owns(_ name: String) -> Bool {
        guard name.hasPrefix(job + "-") else { return false }
        let rest = name.dropFirst(job.count + 1)
        if rest == "ul" || rest == "l" || rest == "br" || rest == "ul0" { return true }
        guard let kind = rest.first, "npu".contains(kind) else { return false }
        let digits = rest.dropFirst()
        return !digits.isEmpty && digits.allSatisfy(\.isNumber) && digits.count <= 2
    }
}
