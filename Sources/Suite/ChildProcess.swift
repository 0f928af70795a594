import Collector
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child the suite starts: its own process group (so a timeout or Ctrl-C ends mpirun and
/// everything under it), output into a log file, a hard time limit.
final class ChildProcess: @unchecked Sendable {
    struct Outcome {
        var status: Int32
        var seconds: Double
        var timedOut: Bool
        var interrupted: Bool
        /// The last non-empty line of the log: usually the reason a launch failed.
        var lastLine: String
    }

    /// The group being waited for, so that a signal handler can end it.
    private static let current = Locked<pid_t>(0)

    static func terminateCurrent() {
        let group = current.value
        if group > 0 { kill(-group, SIGTERM) }
    }

    /// Runs `arguments[0]` (a path) with the rest as its arguments; never throws for a failing
    /// child, only when it cannot be started.
    static func run(_ arguments: [String], environment: [String: String], log: String, timeout: Double,
                    interrupted: () -> Bool) throws -> Outcome {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults); sigaddset(&defaults, SIGINT); sigaddset(&defaults, SIGTERM); sigaddset(&defaults, SIGPIPE)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let started = Date()
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw SuiteError("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
        current.value = pid
        defer { current.value = 0 }

        var status: Int32 = 0, timedOut = false, killedAt: Date?
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { break }
            let elapsed = Date().timeIntervalSince(started)
            if killedAt == nil && (elapsed > timeout || interrupted()) {
                timedOut = elapsed > timeout
                kill(-pid, SIGTERM)
                killedAt = Date()
            } else if let killedAt, Date().timeIntervalSince(killedAt) > 5 {
                kill(-pid, SIGKILL)
            }
            usleep(elapsed < 1 ? 2_000 : 20_000)
        }
        let seconds = Date().timeIntervalSince(started)
        // Make sure nothing of the group outlives the launch (orted, stray ranks).
        kill(-pid, SIGKILL)
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let last = text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init) ?? ""
        return Outcome(status: exit, seconds: seconds, timedOut: timedOut, interrupted: interrupted(), lastLine: last)
    }
}

