import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Work done from podgap's own process inside a job's network namespace, where a helper process
/// per call (`nsenter`, `ip -n NS link set lo up`) cost more than the work: a thread enters the
/// namespace (setns affects only the calling thread), and children it starts are born there.
enum NetworkNamespace {
    /// setns(2), behind _GNU_SOURCE in <sched.h>, which Swift does not import; and its flag.
    private static let setns = ConfinementProbe.libc("setns", as: (@convention(c) (Int32, Int32) -> Int32).self)
    private static let cloneNewNet: Int32 = 0x4000_0000

    /// Runs `body` on this thread inside the network namespace `netns` (a name under
    /// /var/run/netns), then puts the thread back in the namespace it was in.
    static func inside<T>(_ netns: String, _ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw PodsError.failed("cannot open this thread's network namespace: \(String(cString: strerror(errno)))") }
        defer { close(original) }
        let target = open(LinkCommands.path(netns), O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw PodsError.failed("cannot open network namespace \(netns): \(String(cString: strerror(errno)))") }
        defer { close(target) }
        guard let setns else { throw PodsError.failed("this C library has no setns: cannot enter network namespace \(netns)") }
        guard setns(target, cloneNewNet) == 0 else {
            throw PodsError.failed("cannot enter network namespace \(netns): \(String(cString: strerror(errno)))")
        }
        // A thread left in a job's namespace would run whatever comes next there: never carry on so.
        defer { precondition(setns(original, cloneNewNet) == 0, "cannot return to the host's network namespace") }
        return try body()
    }

    /// Sets the loopback device of `netns` up, as `ip link set lo up` (and the CNI `loopback`
    /// plugin) does: one RTM_NEWLINK for interface 1, which `lo` is in every network namespace
    /// (the kernel's LOOPBACK_IFINDEX), with IFF_UP set; the kernel's answer is checked.
    static func setLoopbackUp(_ netns: String) throws {
        try inside(netns) {
            // NETLINK_ROUTE is 0; a netlink socket made here belongs to this namespace.
            let socket = Glibc.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard socket >= 0 else { throw PodsError.failed("cannot open a netlink socket in \(netns): \(String(cString: strerror(errno)))") }
            defer { close(socket) }
            var message: [UInt8] = []
            func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { message += $0 } }
            // struct nlmsghdr: length, RTM_NEWLINK (16), NLM_F_REQUEST | NLM_F_ACK (1 | 4), sequence, port.
            put(UInt32(32)); put(UInt16(16)); put(UInt16(1 | 4)); put(UInt32(1)); put(UInt32(0))
            // struct ifinfomsg: family AF_UNSPEC, padding, type, index 1, flags IFF_UP, change IFF_UP.
            put(UInt8(0)); put(UInt8(0)); put(UInt16(0)); put(Int32(1)); put(UInt32(IFF_UP)); put(UInt32(IFF_UP))
            // Unconnected, a netlink socket sends to the kernel (port 0).
            guard send(socket, message, message.count, 0) == message.count else {
                throw PodsError.failed("cannot send to netlink in \(netns): \(String(cString: strerror(errno)))")
            }
            // The answer is an NLMSG_ERROR (2) whose error is 0 for success, else -errno.
            var answer = [UInt8](repeating: 0, count: 256)
            let count = recv(socket, &answer, answer.count, 0)
            guard count >= 20 else { throw PodsError.failed("no answer from netlink in \(netns) setting lo up") }
            let type = UInt16(answer[4]) | UInt16(answer[5]) << 8
            let error = answer[16..<20].reversed().reduce(Int32(0)) { $0 << 8 | Int32($1) }
            guard type == 2, error == 0 else {
                throw PodsError.failed("setting lo up in \(netns) failed: \(type == 2 ? String(cString: strerror(-error)) : "answer of type \(type)")")
            }
        }
    }
}
