import Spawn
import Foundation

/// The environment for the mpirun launches podgap makes itself (suite steps, pods launches,
/// `run startup`): this process's own, plus what Open MPI needs before it starts ranks as root.
public enum MPIRunEnvironment {
    public static var current: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        return environment
    }
}
