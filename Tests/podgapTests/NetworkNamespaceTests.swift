import Foundation
import Testing
@testable import Pods

/// Work `pods up` does from its own threads inside a job's network namespace (issue 27, item 3):
/// children born there (the CNI plugins, without nsenter) and `lo` set up by one netlink message.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root (network namespaces)"))
struct NetworkNamespaceTests {
    static func links(_ netns: String) throws -> String {
        try Subprocess.run("/usr/sbin/ip", ["-n", netns, "-o", "link", "show"]).stdout
    }

    @Test func childrenAreBornInTheNamespaceAndLoopbackComesUp() throws {
        let netns = "pgnstest-\(getpid())"
        try Subprocess.run("/usr/sbin/ip", ["netns", "add", netns])
        defer { _ = try? Subprocess.run("/usr/sbin/ip", ["netns", "delete", netns], check: false) }
        let before = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")

        // A fresh namespace holds only lo, down; `ip` without -n started inside sees just that.
        let inside = try NetworkNamespace.inside(netns) { try Subprocess.run("/usr/sbin/ip", ["-o", "link", "show"]).stdout }
        #expect(inside.split(separator: "\n").count == 1 && inside.contains(": lo: <LOOPBACK>"), "\(inside)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net") == before,
                "the thread is back in the namespace it was in")

        try NetworkNamespace.setLoopbackUp(netns)
        let after = try Self.links(netns)
        #expect(after.contains(": lo: <LOOPBACK,UP,LOWER_UP>"), "\(after)")
        // Setting it up again is no error (as `ip link set lo up`).
        try NetworkNamespace.setLoopbackUp(netns)
    }

    @Test func aMissingNamespaceIsAnErrorNamingIt() {
        let error = #expect(throws: PodsError.self) { try NetworkNamespace.setLoopbackUp("pgnstest-missing") }
        #expect(error?.description.contains("pgnstest-missing") == true)
    }
}
