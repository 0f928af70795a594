/// How a launch placed its ranks on CPUs, and why: the rule podgap's launch plan applied (or the
/// user's own `--bind-to`), carried to the ranks in two environment variables and kept in every
/// record as `environment.bindingPolicy`. `environment.bindings` says where each rank really ran.
public struct BindingPolicy: Codable, Equatable, Sendable {
    /// `core` (each rank on a core of its own), `none` (ranks float over the CPUs they may use),
    /// `slurm` (Slurm's nodes, bound as the site configured), a user's own `--bind-to` value, or
    /// `unplanned` (started without a podgap launch plan).
    public var policy: String
    /// Why, in words a reader of the record can check against the machine.
    public var reason: String

    public init(policy: String, reason: String) { self.policy = policy; self.reason = reason }

    public static let policyVariable = "PODGAP_BINDING"
    public static let reasonVariable = "PODGAP_BINDING_REASON"

    /// What a launch exports to its ranks.
    public var variables: [String: String] { [Self.policyVariable: policy, Self.reasonVariable: reason] }

    /// The policy a launch exported, or nil where none did.
    public init?(variables: [String: String]) {
        guard let policy = variables[Self.policyVariable], !policy.isEmpty else { return nil }
        self.init(policy: policy, reason: variables[Self.reasonVariable] ?? "")
    }

    /// A launch that did not go through podgap's plan (a hand-written mpirun, srun, a singleton):
    /// its launcher's own default, whatever that was.
    public static func unplanned(launcher: String) -> BindingPolicy {
        BindingPolicy(policy: "unplanned",
                      reason: "started by \(launcher) without podgap's launch plan: the launcher's default binding (see bindings for each rank's CPUs)")
    }
}
