import Records
import Foundation
import Spawn
#if canImport(Glibc)
import Glibc
#endif

/// A child the suite starts: a session of its own (so a timeout or Ctrl-C ends mpirun and
/// everything under it), output into a log file, a hard time limit.
enum ChildProcess {
    struct Outcome {
        var status: Int32
        var seconds: Double
        var timedOut: Bool
        var interrupted: Bool
        /// The last non-empty line of the log: usually the reason a launch failed.
        var lastLine: String
    }

    /// The session being waited for, so that a signal handler can end it.
    private static let current = Locked<pid_t>(0)

    static func terminateCurrent() {
        let leader = current.value
        if leader > 0 { kill(-leader, SIGTERM) }
    }

    /// Runs `arguments[0]` (a path) with the rest as its arguments, its output in `log` (its
    /// standard output apart in `stdout` when given); never throws for a failing child, only when
    /// it cannot be started.
    static func run(_ arguments: [String], environment: [String: String], log: String, stdout: String? = nil, timeout: Double,
                    interrupted: () -> Bool) throws -> Outcome {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        if let stdout { _ = FileManager.default.createFile(atPath: stdout, contents: nil) }
        let child: Session
        let output: Session.Output = stdout.map { .files(stdout: $0, stderr: log) } ?? .log(log)
        do { child = try Session(arguments, environment: environment, output: output) } catch let error as SpawnError {
            throw SuiteError(error.description)
        }
        current.value = child.pid
        defer { current.value = 0 }

        var status: Int32?, timedOut = false
        while status == nil {
            status = child.wait(seconds: 0.2)
            let elapsed = Date().timeIntervalSince(child.started)
            if status == nil && (elapsed > timeout || interrupted()) {
                timedOut = elapsed > timeout
                status = child.end(grace: 5)
            }
        }
        let seconds = Date().timeIntervalSince(child.started)
        // Make sure nothing of the session outlives the launch (orted, stray ranks).
        child.signal(SIGKILL)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let last = text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init) ?? ""
        return Outcome(status: status!, seconds: seconds, timedOut: timedOut, interrupted: interrupted(), lastLine: last)
    }
}
