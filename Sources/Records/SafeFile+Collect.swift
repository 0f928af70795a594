import Foundation

extension SafeFile {
    /// Appends what a pod wrote at `podFile` (read as `read` reads, at most `limit` bytes) to the
    /// host's own `file`, creating it; nothing when the pod wrote nothing. The records a pod
    /// writes in its own results folder join the host's files this way.
    public static func collect(_ podFile: String, into file: String, limit: Int) throws {
        guard let data = try read(podFile, limit: limit), !data.isEmpty else { return }
        try AppendingFile(file, followingLinks: false).write(data)
    }
}
