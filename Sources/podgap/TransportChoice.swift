import Probes
import Records
import Foundation
import RDMA

extension Job {
    /// Applies `--transport` before MPI_Init reads the variables: discovers this node's RDMA
    /// devices, decides (TransportSelection), and sets OMPI_MCA_pml / OMPI_MCA_btl /
    /// UCX_NET_DEVICES. Returns the decision for the record's environment.transport.note.
    static func applyTransport(_ text: String, context: LaunchContext) throws -> TransportDecision {
        guard let request = TransportRequest(rawValue: text) else {
            throw Failure.badInput("--transport '\(text)' is not one of \(TransportRequest.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // A device that cannot be listed is treated as none: the run still works over TCP.
        let devices = (try? Discovery().devices()) ?? []
        let decision: TransportDecision
        do {
            decision = try TransportSelection.select(request, devices: devices, singleNode: context.localSize >= context.size,
                                                     environment: ProcessInfo.processInfo.environment)
        } catch let error as RDMAError {
            throw Failure(message: error.description, code: .noDevice)
        }
        for (name, value) in decision.variables { setenv(name, value, 1) }
        return decision
    }

    /// The decision, and what Open MPI's own settings say when podgap left them alone.
    static func transportNote(_ decision: TransportDecision, detected: String?) -> String {
        guard decision.variables.isEmpty, let detected else { return decision.note }
        return "\(decision.note); \(detected)"
    }
}
