import Foundation

/// Appends records to a JSON Lines file, one `write(2)` per record, so that each point reaches the
/// kernel the moment it is measured and a rank that dies later loses nothing already written.
public final class RecordWriter {
    public let path: String
    private let file: AppendingFile
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
        self.file = try AppendingFile(path)
        self.path = path
        self.encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    public func append(_ record: Record) throws {
        var line = try encoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        try file.write(line)
    }
}
