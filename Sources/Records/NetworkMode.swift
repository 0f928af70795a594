/// How ranks reach each other: the one place network modes are named. Records carry the raw
/// value in `environment.network`; Pods gives each mode its wiring (`PodNetwork`).
public enum NetworkMode: String, CaseIterable, Codable, Sendable {
    /// One host and no namespaces of podgap's: ranks talk over loopback or shared memory.
    case loopback
    /// The node's own network namespace: pods with hostNetwork, or ranks without containers in
    /// emulated nodes, which reach other nodes over the underlay that joins them.
    case host
    /// Pods on one node's Linux bridge, attached by the CNI `bridge` plugin.
    case bridge
    /// Per-node pod subnets routed over the underlay, no encapsulation (flannel host-gw, Calico
    /// without IPIP).
    case routed
    /// A flannel-style VXLAN overlay over the underlay.
    case overlay
}
