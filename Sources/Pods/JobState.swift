import Foundation
import Records

/// What `pods up` made, saved as `/run/podgap/<job>/state.json` for `launch`, `list` and `down`.
/// `down` does not need it: every piece is also found by its name.
public struct JobState: Codable, Sendable {
    public struct Pod: Codable, Sendable, Equatable {
        /// Container id, hostname, and (unless host network) network namespace.
        public var name: String
        public var node: Int
        public var address: String
        /// Network namespace the pod's processes live in.
        public var netns: String
        /// The pod's own host folder, mounted read-write at /results: `<results>/<pod>`.
        public var results: String
    }

    public var spec: JobSpec
    public var pods: [Pod]
    /// Emulated nodes' hostnames, node 0 first.
    public var nodes: [String]
    /// Each node's network namespace, in the order of `nodes`: a short hash of the job name
    /// stands for the job in namespace and link names (see `JobNames`).
    public var nodeNetns: [String]
    /// Namespace holding the underlay bridge that joins the nodes.
    public var underlayNetns: String
    /// The underlay's links, inside `underlayNetns`: its bridge, then each node's port, then the launcher's where it has one.
    public var underlayLinks: [String]
    /// Namespace mpirun runs in.
    public var launcherNetns: String
    public var launcherAddress: String
    public var bundle: String?
    public var runtimeVersion: String?
    /// Absolute host folder holding each pod's results folder (and, without containers, where
    /// the ranks write `/results` paths).
    public var results: String
    public var created: String
    /// PID (and session id) of a launch in progress, so that `down` can end it.
    public var launchPID: Int32?
    /// The GPUs every pod got (`pods up --gpus`): the CDI devices, where their edits came from, and the edits.
    public var gpus: GPUInjection?
    /// Each node's image pull (`pull` knob), node 0 first; nil when the pods run the host's image.
    public var pulls: [PulledImage]?
    /// How long each phase of `pods up` took, in order (`StartupPhase.pods` up to `started`).
    public var phases: [PhaseTime]?

    public struct PhaseTime: Codable, Sendable, Equatable {
        public var phase: StartupPhase
        public var seconds: Double
    }

    /// `phases` as a startup launch hands them to its ranks (none where `up` did not time them).
    public var startupPhases: [(StartupPhase, Double)] { (phases ?? []).map { ($0.phase, $0.seconds) } }
    /// What the nodes' pulls moved, all nodes together; nil without a pull.
    public var pulledBytes: Int64? { pulls.map { $0.reduce(0) { $0 + $1.bytes } } }
    /// What the nodes unpacked into fresh snapshots, all nodes together (0 where each reused its
    /// own); nil without a pull, or in the state of an older podgap.
    public var unpackedBytes: Int64? {
        pulls.flatMap { pulls in pulls.allSatisfy { $0.unpackedBytes != nil } ? pulls.reduce(0) { $0 + ($1.unpackedBytes ?? 0) } : nil }
    }

    /// This state as JSONSerialization objects, each pod with its runtime status (`pods list --json`).
    public func jsonObject(podStatuses: [String]) throws -> [String: Any] {
        guard var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any],
              var pods = object["pods"] as? [[String: Any]] else { throw PodsError.failed("job state did not encode as an object") }
        for index in pods.indices where index < podStatuses.count { pods[index]["status"] = podStatuses[index] }
        object["pods"] = pods
        return object
    }

    static func path(_ store: Store, _ job: String) -> String { store.jobFolder(job) + "/state.json" }

    public static func load(_ store: Store, job: String) throws -> JobState {
        guard let data = FileManager.default.contents(atPath: path(store, job)) else {
            throw PodsError.badInput("no pods job '\(job)': see `podgap pods list`, or start it with `podgap pods up --name \(job) ...`")
        }
        do { return try JSONDecoder().decode(JobState.self, from: upgraded(data)) } catch {
            throw PodsError.failed("\(path(store, job)) is unreadable (\(error)): run `podgap pods down --name \(job)`")
        }
    }

    /// State an older podgap saved, in today's shape. Pods outlive an upgrade, and `down` (the
    /// launch it ends), `list`, `launch` and the image prune (the bundles in use) read this file.
    /// Before knobs (97d55fc) the spec held the CPU limit as `cpus`: now the `cpu-limit` knob.
    static func upgraded(_ data: Data) -> Data {
        guard var state = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              var spec = state["spec"] as? [String: Any], spec["knobs"] == nil,
              let knobs = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(Knobs(cpuLimit: spec["cpus"] as? Double)))
        else { return data }
        spec["cpus"] = nil
        spec["knobs"] = knobs
        state["spec"] = spec
        return (try? JSONSerialization.data(withJSONObject: state)) ?? data
    }

    func save(_ store: Store) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let target = JobState.path(store, spec.name)
        let temporary = target + ".new"
        try data.write(to: URL(fileURLWithPath: temporary))
        _ = rename(temporary, target)
    }
}
