import Foundation

extension SafeFile {
    /// Appends what a pod wrote at `podFile` (read as `read` reads, at most `limit` bytes) to the
    /// host's own `file`, creating it; nothing when the pod wrote nothing. The records a pod
    /// writes in its own results folder join the host's files this way.
    public static func collect(_ podFile: String, into file: String, limit: Int) throws {
        guard let data = try read(podFile, limit: limit), !data.isEmpty else { return }
        if !FileManager.default.fileExists(atPath: file) { FileManager.default.createFile(atPath: file, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
    }
}
