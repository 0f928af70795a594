import Foundation
import Records

/// The host's huge page pool as /proc/meminfo says it, and the hugetlbfs each pod of a
/// `hugepages` job mounts: a fresh instance per pod (never a host folder a pod could write), as
/// the kubelet mounts /dev/hugepages for a pod requesting `hugepages-2Mi`, limited to the pod's
/// share of the free pool.
public struct HugePages: Sendable, Equatable {
    public var total: Int
    public var free: Int
    public var pageKiB: Int

    public init(total: Int, free: Int, pageKiB: Int) { self.total = total; self.free = free; self.pageKiB = pageKiB }

    /// nil where meminfo names no huge pages at all (a kernel without hugetlbfs).
    public init?(meminfo: String) {
        var fields: [String: Int] = [:]
        for line in meminfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let number = parts[1].split(separator: " ").first.flatMap({ Int($0) }) else { continue }
            fields[String(parts[0])] = number
        }
        guard let total = fields["HugePages_Total"], let free = fields["HugePages_Free"], let size = fields["Hugepagesize"] else { return nil }
        self.total = total; self.free = free; pageKiB = size
    }

    public static func current() -> HugePages? {
        (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)).flatMap(HugePages.init(meminfo:))
    }

    /// Why `pods` pods cannot each get huge pages here (none reserved, or fewer free than pods);
    /// nil when they can. Says how to reserve them.
    public static func unavailable(_ pool: HugePages?, pods: Int = 1) -> String? {
        guard let pool else { return "hugepages: this kernel has no huge pages (no HugePages_Total in /proc/meminfo)" }
        let reserve = "reserve some as root, e.g. `echo 64 > /proc/sys/vm/nr_hugepages` (and write the old value back after)"
        if pool.total == 0 {
            return "hugepages: this host has no huge pages reserved (HugePages_Total 0, Hugepagesize \(pool.pageKiB) kB): \(reserve)"
        }
        if pool.free < pods {
            return "hugepages: \(pool.free) huge page(s) free of \(pool.total) for \(pods) pod(s), each needing at least one: \(reserve)"
        }
        return nil
    }

    /// Each of `pods` pods' mount: an equal share of the free pool, in whole pages.
    public func mount(pods: Int) -> Mount {
        Mount(bytes: Int64(free / max(pods, 1)) * Int64(pageKiB) * 1024, pageKiB: pageKiB)
    }

    /// A pod's own hugetlbfs, its size the pod's limit (`hugepages-2Mi: SIZE`).
    public struct Mount: Codable, Sendable, Equatable {
        /// Where the pod sees it, as Kubernetes mounts it.
        public static let destination = "/dev/hugepages"
        public var bytes: Int64
        public var pageKiB: Int

        /// The OCI mount: a fresh hugetlbfs instance, mounted by the runtime inside the pod.
        var oci: [String: Any] {
            ["destination": Mount.destination, "type": "hugetlbfs", "source": "hugetlbfs",
             "options": ["nosuid", "nodev", "noexec", "mode=1777", "pagesize=\(pageKiB)k", "size=\(bytes)"]]
        }
    }
}
