import Foundation

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
        // Once a rank fails, mpirun sends the others SIGTERM and waits this long before SIGKILL:
        // 1 s by default, and 1.7 s against 0.35 s per failing launch here (docs/tests.md). podgap's
        // ranks take no SIGTERM of their own, so the wait changes nothing a test checks (exit
        // status, stderr, records). Set it in the environment to try another value.
        environment["OMPI_MCA_odls_base_sigkill_timeout"] = environment["OMPI_MCA_odls_base_sigkill_timeout"] ?? "0"
        return environment
    }

    /// Starts `executable` with `arguments` without waiting (stdin empty, stdout discarded, stderr
    /// into `errors`), for tests that signal or race a running command.
    static func start(_ executable: String, _ arguments: [String], errors: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = mpiEnvironment
        process.standardInput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `executable` with `arguments`, killing its whole process group after `timeout` seconds.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    timeout: Double = 120, workingDirectory: URL? = nil) throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment ?? mpiEnvironment
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let outURL = temporary.appendingPathComponent("out"), errURL = temporary.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        try out.close(); try err.close()
        return Finished(status: process.terminationStatus,
                        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
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
