import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file opened for appending, written a whole line (or record) per `write(2)`: each reaches the
/// kernel the moment it is written, and a writer that dies later loses nothing written before.
public final class AppendingFile {
    public let path: String
    private let descriptor: Int32

    /// Opens (creating if needed) `path`. With `followingLinks: false` a symbolic link in its place
    /// is refused rather than followed, so an append can never land in another file.
    public init(_ path: String, followingLinks: Bool = true) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW), 0o644)
        guard descriptor >= 0 else {
            throw RecordError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        self.path = path
        self.descriptor = descriptor
    }

    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw RecordError.unwritable(path: path, reason: String(cString: strerror(errno)))
                }
                offset += written
            }
        }
    }

    deinit { close(descriptor) }
}
