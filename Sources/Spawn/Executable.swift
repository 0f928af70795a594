import Foundation

/// Programs podgap starts by name (mpirun, runc, ip, srun ...), found the way a shell finds them.
public enum Executable {
    /// Folders searched after PATH: root's tools (ip, runc, ldconfig) live in sbin folders that a
    /// non-login shell's PATH may lack.
    public static let fallbackFolders = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"]

    /// The first executable file called `name` in `path`'s folders, then in `fallbackFolders`; nil
    /// when there is none. A `name` with a slash is taken as a path and only checked.
    public static func find(_ name: String,
                            path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let folders = (path ?? "").split(separator: ":").map(String.init) + fallbackFolders
        for folder in folders where !folder.isEmpty {
            let candidate = folder + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

extension Executable {
    /// `name` found as `find` finds it; its absence is a `MissingExecutable` that names the
    /// package to install.
    public static func require(_ name: String, package: String) throws -> String {
        guard let path = find(name) else { throw MissingExecutable(name: name, package: package) }
        return path
    }
}

extension Executable {
    /// This process's own executable, resolved (`/proc/self/exe` on Linux): the podgap that
    /// launches, pods and batch jobs run.
    public static var current: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// `relative` (such as `scripts/podgap.sbatch`) in the first folder above `binary` that has
    /// it, up to 8 folders up: the checkout or bundle the binary came with. nil when none has.
    public static func findAbove(_ binary: String, _ relative: String) -> String? {
        var folder = URL(fileURLWithPath: binary).deletingLastPathComponent()
        for _ in 0..<8 {
            let candidate = folder.appendingPathComponent(relative).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }
}

/// A program podgap needs is not installed.
public struct MissingExecutable: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var package: String
    public init(name: String, package: String) { self.name = name; self.package = package }
    public var description: String { "\(name) is not installed: run scripts/setup (or apt-get install \(package))" }
}
