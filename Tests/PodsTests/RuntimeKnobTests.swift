import Foundation
import Testing
@testable import Pods
import Records

/// The `runtime` and `hugepages` knobs as the pods module applies them (issue 25): which binary
/// starts the pods and how, the hugetlbfs each pod mounts, and the refusals before anything is made.
@Suite struct RuntimeKnobTests {
    static let crunInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/crun")

    @Test func aMissingRuntimeIsBadInputInOneLineNamingIt() {
        for kind in Knobs.ContainerRuntime.allCases {
            let variable = "PODGAP_" + kind.rawValue.uppercased()
            let error = #expect(throws: PodsError.self) { try Runtime(kind, environment: [variable: "/nonexistent/\(kind.rawValue)"]) }
            #expect(error?.isBadInput == true)
            #expect(error?.description == "\(variable)=/nonexistent/\(kind.rawValue) is not an executable \(kind.rawValue): install \(kind.rawValue) (scripts/setup) or fix the path")
        }
    }

    @Test(.enabled(if: RuntimeKnobTests.crunInstalled, "crun is not installed"))
    func crunOnAHybridHostRunsWithTheUnifiedHierarchyHiddenAndRuncAsItIs() throws {
        let runc = try Runtime(.runc, environment: ["PODGAP_RUNC": "/bin/true"], unifiedControllers: "hugetlb\n")
        #expect(runc.command == ["/bin/true"] && runc.kind == .runc, "runc works on hybrid hosts as it is")
        let plain = try Runtime(.crun, environment: [:], unifiedControllers: "")
        #expect(plain.command == [plain.path] && plain.path.hasSuffix("/crun"), "v1-only and v2 hosts: crun itself")
        let hybrid = try Runtime(.crun, environment: [:], unifiedControllers: "hugetlb\n")
        #expect(hybrid.command.first == "/usr/bin/unshare" && hybrid.command.last == hybrid.path)
        #expect(hybrid.command.contains("umount \(Runtime.unifiedHierarchy) && exec \"$0\" \"$@\""))
        // The agent's line, read back by sh, is the same argv (quotes and all).
        let words = try Subprocess.run("/bin/sh", ["-c", "set -- \(hybrid.shellCommand) exec 'p o'; printf '%s\\n' \"$@\""]).stdout
        #expect(words.split(separator: "\n").map(String.init) == hybrid.command + ["exec", "p o"])
        #expect(JobLauncher.agentScript(runtime: hybrid.shellCommand).contains("exec \(hybrid.shellCommand) exec \"$pod\" /bin/sh -c \"$*\""))
    }

    @Test func hugePagesAreReadFromMeminfoAndRefusedWithHowToReserveThem() throws {
        let none = try #require(HugePages(meminfo: "MemTotal: 4000000 kB\nHugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n"))
        #expect(none == HugePages(total: 0, free: 0, pageKiB: 2048))
        #expect(HugePages.unavailable(none) == "hugepages: this host has no huge pages reserved (HugePages_Total 0, Hugepagesize 2048 kB): reserve some as root, e.g. `echo 64 > /proc/sys/vm/nr_hugepages` (and write the old value back after)")
        let few = HugePages(total: 16, free: 1, pageKiB: 2048)
        #expect(HugePages.unavailable(few, pods: 2)?.hasPrefix("hugepages: 1 huge page(s) free of 16 for 2 pod(s)") == true)
        #expect(HugePages.unavailable(HugePages(meminfo: "MemTotal: 1 kB\n")) != nil, "a kernel without hugetlbfs")
        let pool = HugePages(total: 16, free: 15, pageKiB: 2048)
        #expect(HugePages.unavailable(pool, pods: 2) == nil)
        #expect(pool.mount(pods: 2) == HugePages.Mount(bytes: 7 * 2 << 20, pageKiB: 2048), "whole pages, the pool shared equally")
    }

    @Test func aHugepagesJobIsRefusedBeforeAnythingWithoutPagesOrInAUserNamespace() throws {
        let knobs = Knobs(hugepages: true)
        let empty = #expect(throws: PodsError.self) {
            try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge, knobs: knobs, hugePagePool: HugePages(total: 0, free: 0, pageKiB: 2048))
        }
        #expect(empty?.isBadInput == true && empty?.description.contains("/proc/sys/vm/nr_hugepages") == true)
        let userns = #expect(throws: PodsError.self) {
            try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge, knobs: knobs, userNamespace: true,
                        hugePagePool: HugePages(total: 16, free: 16, pageKiB: 2048))
        }
        #expect(userns?.description.hasPrefix("hugepages: a pod in a user namespace") == true)
        let spec = try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge, knobs: knobs,
                               hugePagePool: HugePages(total: 16, free: 16, pageKiB: 2048))
        #expect(spec.hugePages == HugePages.Mount(bytes: 8 * 2 << 20, pageKiB: 2048))
        #expect(try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge).hugePages == nil)
    }

    @Test func aHugepagesPodMountsAFreshHugetlbfsOfItsShareAndTellsItsRanks() throws {
        var config = PodConfig(pod: "j-p1", job: "j", network: .bridge, netnsPath: "/var/run/netns/j-p1", rootfs: "/b/rootfs",
                               results: "/r", hosts: "/run/podgap/j/etc/hosts", mpiFolder: "/run/podgap/j/etc/mpi",
                               knobs: Knobs(runtime: .crun, hugepages: true), cpuset: nil, memoryBytes: nil, runtimeVersion: "1.8.1",
                               cgroupsPath: "/podgap-j-p1", seccomp: PodConfigTests.profile, pidsLimit: 4096, userNamespace: nil)
        config.hugePages = HugePages.Mount(bytes: 8 << 20, pageKiB: 2048)
        let rendered = try config.render(base: PodConfigTests.base)
        let mounts = try #require(rendered["mounts"] as? [[String: Any]])
        let huge = try #require(mounts.first { $0["destination"] as? String == "/dev/hugepages" })
        // Its own instance (source "hugetlbfs", not a host folder), limited to the pod's share.
        #expect(huge["type"] as? String == "hugetlbfs" && huge["source"] as? String == "hugetlbfs")
        #expect(huge["options"] as? [String] == ["nosuid", "nodev", "noexec", "mode=1777", "pagesize=2048k", "size=8388608"])
        let environment = try #require((rendered["process"] as? [String: Any])?["env"] as? [String])
        #expect(environment.contains("PODGAP_HUGEPAGES=/dev/hugepages"))
        #expect(environment.contains("PODGAP_CONTAINER_RUNTIME=crun"))
        #expect(environment.contains("PODGAP_KNOBS=runtime=crun,hugepages=true"))
        config.hugePages = nil
        let plain = try config.render(base: PodConfigTests.base)
        #expect(!((plain["mounts"] as? [[String: Any]]) ?? []).contains { $0["type"] as? String == "hugetlbfs" })
        #expect(!(((plain["process"] as? [String: Any])?["env"] as? [String]) ?? []).contains { $0.hasPrefix("PODGAP_HUGEPAGES=") })
    }
}
