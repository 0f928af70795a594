import Foundation
import Spawn

/// What a finished child process left behind.
struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
}

/// Runs the built binaries the way users do, with a hard time limit so that no test can hang.
enum Shell {
    /// The folder holding the built products (podgap, mpi-conformance): the test bundle's own folder.
    static var productsFolder: URL {
        if let override = ProcessInfo.processInfo.environment["PODGAP_PRODUCTS"] {
            return URL(fileURLWithPath: override)
        }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // XCTest bundles on Linux are files next to the products; on macOS they are folders inside it.
        while folder.path != "/" && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("podgap").path) {
            folder = folder.deletingLastPathComponent()
        }
        return folder
    }

    static var podgap: String { productsFolder.appendingPathComponent("podgap").path }

    /// The repository root, for scripts and fixtures.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Open MPI refuses root without these; tests run as root in CI.
    static var mpiEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        return environment
    }

    /// Runs `executable` with `arguments`, ending its whole session (mpirun, orteds, ranks) after
    /// `timeout` seconds.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    timeout: Double = 120, workingDirectory: URL? = nil) throws -> Finished {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let outPath = temporary.appendingPathComponent("out").path, errPath = temporary.appendingPathComponent("err").path
        let child = try Session([executable] + arguments, environment: environment ?? mpiEnvironment,
                                output: .files(stdout: outPath, stderr: errPath), directory: workingDirectory?.path)
        var status = child.wait(seconds: timeout)
        let timedOut = status == nil
        if timedOut { status = child.end(grace: 0) }
        return Finished(status: status ?? 137,
                        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                        timedOut: timedOut)
    }

    /// `mpirun -np N` on the built podgap, with the arguments users pass through.
    static func mpirun(ranks: Int, mca: [String: String] = [:], _ arguments: [String], timeout: Double = 180) throws -> Finished {
        var launch = ["-np", String(ranks), "--oversubscribe"]
        for (name, value) in mca.sorted(by: { $0.key < $1.key }) { launch += ["--mca", name, value] }
        return try run("/usr/bin/mpirun", launch + [podgap] + arguments, timeout: timeout)
    }

    /// A fresh temporary folder, removed by the caller.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
