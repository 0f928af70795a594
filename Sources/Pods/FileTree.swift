import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Removing a job's folder with the system calls themselves: Foundation's `removeItem` took
/// 25-100 ms for the dozen files of a 2-pod job (most of `pods down` after the pods were gone).
enum FileTree {
    /// Removes `path` and everything under it; true when it is gone. Never follows a link: one
    /// is removed as the link it is, each folder opened with O_NOFOLLOW and its entries removed
    /// relative to it, so nothing swapped in during the walk leads outside the tree.
    @discardableResult
    static func remove(_ path: String) -> Bool {
        remove(parent: AT_FDCWD, name: path)
        return access(path, F_OK) != 0 && errno == ENOENT
    }

    private static func remove(parent: Int32, name: String) {
        // unlinkat answers EISDIR (Linux) for a folder, which is then emptied and removed.
        guard unlinkat(parent, name, 0) != 0, errno == EISDIR || errno == EPERM else { return }
        let folder = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { return }
        defer { close(folder) }
        for entry in entries(folder) { remove(parent: folder, name: entry) }
        unlinkat(parent, name, AT_REMOVEDIR)
    }

    /// The names in the open folder `descriptor` (not "." and ".."), read before any is removed.
    private static func entries(_ descriptor: Int32) -> [String] {
        // fdopendir takes the descriptor over: hand it a duplicate, closed with the stream.
        guard let stream = fdopendir(dup(descriptor)) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
