import Foundation
import Compute
import MPI
import Probes
import Records

/// OpenBLAS's threads per rank, sized by the ranks that share this rank's cores, once MPI runs.
///
/// Before MPI a rank knows only its node's ranks (`CPUPlatform.prepareLaunch`: cores / ranks on
/// the node). Emulated nodes and pods on one machine share its cores, yet each is a node of one
/// rank: two of them on 2 cores ran 2 threads each, and OpenBLAS's idle workers spin for a while
/// after every product, on the cores the other node's rank needed for its allreduce. On a real
/// cluster no node's threads take another's cores, so the emulation sizes them by the machine, as
/// it turns on yield-when-idle for the same reason: a 16-round demo's step interval went from
/// 10-12.5 points wide to about 5 (benchmarks/README.md, "OpenBLAS threads on a shared machine").
enum BLASThreads {
    /// The machine, as containers and their host share it: the kernel's boot id.
    static let machineFile = "/proc/sys/kernel/random/boot_id"

    /// Sets OpenBLAS's threads from the ranks that share this rank's cores. Collective.
    static func settle(on world: Communicator) throws {
        let machine = (try? String(contentsOfFile: machineFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let mine = CPUSet.current()
        let everyone = try world.allgather(describe(machine: machine, cpus: mine))
        // Without a machine id or a mask a rank cannot tell who shares its cores: as before MPI.
        guard !machine.isEmpty, !mine.isEmpty, let sharing = sharing(describe(machine: machine, cpus: mine), among: everyone) else { return }
        Matrix.threads = threads(cores: LaunchContext.availableCores, sharing: sharing)
    }

    static func describe(machine: String, cpus: CPUSet) -> String { "\(machine) \(cpus.listDescription)" }

    /// How many of `everyone` (each "MACHINE CPULIST") run on `mine`'s machine on CPUs that
    /// overlap its own, itself included; nil where `mine` does not parse.
    static func sharing(_ mine: String, among everyone: [String]) -> Int? {
        func parse(_ text: String) -> (machine: Substring, cpus: Set<Int>)? {
            let parts = text.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let cpus = CPUSet(parsing: String(parts[1])) else { return nil }
            return (parts[0], Set(cpus.cpus))
        }
        guard let me = parse(mine) else { return nil }
        return everyone.compactMap(parse).filter { $0.machine == me.machine && !$0.cpus.isDisjoint(with: me.cpus) }.count
    }

    static func threads(cores: Int, sharing: Int) -> Int { max(1, cores / max(sharing, 1)) }
}
