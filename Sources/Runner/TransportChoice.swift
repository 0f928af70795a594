import Foundation
import Probes
import RDMA

extension TransportSelection {
    /// Applies `request` before MPI_Init reads the variables: discovers this node's RDMA devices,
    /// decides, and sets OMPI_MCA_pml / OMPI_MCA_btl / UCX_NET_DEVICES. Returns the decision for
    /// the record's environment.transport.note. A missing device for `ucx` is exit 3.
    static func apply(_ request: TransportRequest, context: LaunchContext) throws -> TransportDecision {
        // A device that cannot be listed is treated as none: the run still works over TCP.
        let devices = (try? Discovery().devices()) ?? []
        let decision: TransportDecision
        do {
            decision = try select(request, devices: devices, singleNode: context.localSize >= context.size,
                                  environment: ProcessInfo.processInfo.environment)
        } catch let error as RDMAError {
            throw RunFailure(message: error.description, code: .noDevice)
        }
        for (name, value) in decision.variables { setenv(name, value, 1) }
        return decision
    }

    /// The decision, and what Open MPI's own settings say when podgap left them alone.
    static func note(_ decision: TransportDecision, detected: String?) -> String {
        guard decision.variables.isEmpty, let detected else { return decision.note }
        return "\(decision.note); \(detected)"
    }
}
