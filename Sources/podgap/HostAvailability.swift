import Foundation
import Pods
import RDMA
import Spawn
import Suite

/// What this machine can run, asked of the modules that know: RDMA discovery (libibverbs lists a
/// device with an active port; a bare /dev/infiniband holding only rdma_cm is no adapter), Slurm
/// (sinfo answers), pods (root and runc), huge pages (reserved in /proc/meminfo).
struct HostAvailability: EnvironmentAvailability {
    var discovery = Discovery()

    func rdmaUnavailable() -> String? {
        do { return discovery.absenceReason(try discovery.devices()) } catch { return "\(error)" }
    }

    func slurmUnavailable() -> String? {
        guard let sinfo = Executable.find("sinfo") else { return "sinfo is not installed: run scripts/slurm-local up" }
        guard let answer = try? Child.capture([sinfo], timeout: 30), answer.status == 0 else {
            return "sinfo does not answer: run scripts/slurm-local up"
        }
        return nil
    }

    func podsUnavailable() -> String? {
        guard geteuid() == 0 else { return "pods need root (namespaces, runc, cgroups): run podgap as root, e.g. with sudo" }
        do { _ = try Runtime() } catch { return "\(error)" }
        return nil
    }

    func hugePagesUnavailable() -> String? { HugePages.unavailable(HugePages.current()) }
}
