import Compute
import Probes
import Records

/// A rank's compute backend, made before MPI starts, and what its records say of it once MPI
/// runs: the one set-up of `run train` and `run gemm` on any registered device.
public struct BackendSetup {
    public let backend: any ComputeBackend
    /// The devices the backend used, added to the environment of every record (collective).
    public let amendment: KernelRun.EnvironmentAmendment

    /// The platform's launch settings, then this rank's backend. A device or library that is
    /// absent is one line and exit 3 (rank 0 speaks); a fault on one rank's own device is said by
    /// that rank.
    public init(device: ComputeDevice, precision: Precision, reduction: GradientReduction, context: LaunchContext) throws {
        let platform = device.platform
        platform.prepareLaunch(ranksOnNode: context.localSize, cores: LaunchContext.availableCores)
        do {
            backend = try platform.makeBackend(BackendRequest(precision: precision, reduction: reduction,
                                                              localRank: context.localRank, localSize: context.localSize))
        } catch let error as BackendUnavailable {
            if error.isMissing { throw RunFailure(message: error.description, code: .noDevice) }
            throw RunFailure(message: "rank \(context.rank): \(error.description)", code: .noDevice, everyRank: true)
        }
        let backend = backend
        amendment = { environment, world in
            try backend.describe(&environment, world: world, survey: GPUSurvey.devices)
        }
    }
}
