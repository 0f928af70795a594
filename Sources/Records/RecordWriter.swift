import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Appends records to a JSON Lines file, one `write(2)` per record, so that each point reaches the
/// kernel the moment it is measured and a rank that dies later loses nothing already written.
public final class RecordWriter {
    public let path: String
    private let descriptor: Int32
    private let encoder: JSONEncoder

    /// Opens (creating if needed) `path` for appending. Throws `RecordError.unwritable` with the
    /// system's reason, so a bad `--out` is caught before any measuring starts.
    public init(appendingTo path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw RecordError.unwritable(path: path, reason: "cannot create folder \(directory)")
            }
        }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RecordError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        self.path = path
        self.descriptor = descriptor
        self.encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    public func append(_ record: Record) throws {
        var line = try encoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        try line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
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
