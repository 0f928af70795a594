import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pod's root mapped to unprivileged host ids: root inside, an ordinary user outside.
///
/// runc 1.1 joins a container's user namespace before its other namespaces when it execs into
/// it (`runc exec`, the MPI Operator's path to start orted), so a pod in a user namespace must
/// have a network namespace owned by that user namespace, or the join fails. podgap therefore
/// makes both together, the user namespace pinned by a bind mount in the job's folder and the
/// network namespace under its usual name, and runc joins both by path.
public struct UserNamespace: Codable, Sendable, Equatable {
    /// The first host uid (and gid) the pod's ids map to, and how many are mapped.
    public var hostID: Int
    public var size: Int

    /// Docker's `userns-remap` default range (its `dockremap` user: 100000, 65536 ids).
    public static let standard = UserNamespace(hostID: 100_000, size: 65_536)

    /// `/proc/PID/uid_map` and `gid_map` text: container id 0 onwards to `hostID` onwards.
    var mapText: String { "0 \(hostID) \(size)\n" }

    /// Makes a user namespace with this mapping pinned at `pin` (a file path), and a network
    /// namespace it owns named `netns`, through a short-lived holder process.
    func create(pin: String, netns: String, ip: String) throws {
        let unshare = try Subprocess.require("unshare", package: "util-linux")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: unshare)
        holder.arguments = ["--user", "--net", "/bin/sleep", "30"]
        holder.standardInput = FileHandle.nullDevice
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        // SIGKILL, not terminate()'s SIGTERM: a caller that ignores SIGTERM (a test runner) passes
        // that on to the holder, and up waited out its 30 s sleep for every pod.
        defer {
            kill(holder.processIdentifier, SIGKILL)
            holder.waitUntilExit()
        }
        let pid = holder.processIdentifier
        // Ready once unshare has made the namespaces and become sleep.
        let deadline = Date().addingTimeInterval(5)
        while (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) != "sleep\n" {
            guard holder.isRunning, Date() < deadline else {
                throw PodsError.failed("could not make a user namespace for \(netns): unshare --user --net did not start")
            }
            usleep(2_000)
        }
        for map in ["uid_map", "gid_map"] {
            guard let handle = FileHandle(forWritingAtPath: "/proc/\(pid)/\(map)") else {
                throw PodsError.failed("cannot open /proc/\(pid)/\(map) to map the pods' ids")
            }
            defer { try? handle.close() }
            do { try handle.write(contentsOf: Data(mapText.utf8)) } catch {
                throw PodsError.failed("cannot map the pods' ids (\(mapText.dropLast())) in /proc/\(pid)/\(map): \(error.localizedDescription)")
            }
        }
        guard FileManager.default.createFile(atPath: pin, contents: nil),
              mount("/proc/\(pid)/ns/user", pin, nil, UInt(MS_BIND), nil) == 0 else {
            throw PodsError.failed("cannot pin the user namespace of \(netns) at \(pin): \(String(cString: strerror(errno)))")
        }
        try Subprocess.run(ip, ["netns", "attach", netns, String(pid)])
    }

    /// Unpins a user namespace made by `create` (quiet when there is none).
    static func release(pin: String) {
        umount2(pin, Int32(MNT_DETACH))
        unlink(pin)
    }
}
