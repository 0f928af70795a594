import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way the host reads a file that an untrusted writer (a pod) may have put there. A pod
/// can swap its records file for a symbolic link to a host file, a FIFO that blocks a reader
/// forever, a device, or a file of gigabytes; none of these may make the host read what it did
/// not mean to, hang, or run out of memory. The last path component is never followed: every
/// folder above it must be one no pod can write (the suite's folders are).
public enum SafeFile {
    public struct Refused: Error, CustomStringConvertible, Equatable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
        public init(path: String, reason: String) { self.path = path; self.reason = reason }
    }

    /// The whole file, if it is a regular file of at most `limit` bytes reached without
    /// following a link. Nil when it does not exist (a launch that wrote nothing).
    public static func read(_ path: String, limit: Int) throws -> Data? {
        // O_NOFOLLOW: a link is refused (ELOOP), not followed. O_NONBLOCK: opening a FIFO with
        // no writer returns at once instead of waiting for one.
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            if code == ELOOP { throw Refused(path: path, reason: "is a symbolic link; refused (a pod may not point the host at other files)") }
            throw Refused(path: path, reason: "cannot open: \(String(cString: strerror(code)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Refused(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Refused(path: path, reason: "is not a regular file; refused") }
        guard status.st_size <= limit else { throw Refused(path: path, reason: "is \(status.st_size) bytes, above the \(limit)-byte limit; refused") }
        // Read at most limit + 1 bytes: a file that grows while being read is caught too.
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Refused(path: path, reason: "cannot read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            if data.count > limit { throw Refused(path: path, reason: "grew above the \(limit)-byte limit while read; refused") }
        }
        return data
    }
}
