import Foundation
import Records

/// The machine a plan starts ranks on, as the plan's rules need it. A value, so that tests ask
/// for 2 or 16 cores without owning such a machine.
public struct Machine: Sendable, Equatable {
    /// Cores the ranks may use on each node: this process's CPU affinity, which is also what
    /// Open MPI counts as slots and `nproc` prints.
    public var cores: Int
    /// Open MPI refuses to start ranks as root unless told that it is meant.
    public var isRoot: Bool

    public init(cores: Int, isRoot: Bool = false) {
        self.cores = max(cores, 1); self.isRoot = isRoot
    }

    /// This machine, now.
    public static var current: Machine {
        let mask = CPUSet.current()
        let cores = mask.isEmpty ? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) : mask.count
        return Machine(cores: cores, isRoot: geteuid() == 0)
    }
}
