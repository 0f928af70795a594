import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a child could not be started.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// A child started as the leader of a session of its own (setsid), so that it and everything it
/// starts (mpirun, orteds, rsh agents, runc exec) can be found and ended together, and none of
/// them holds a terminal. Its group id is its pid, so `kill(-pid, ...)` reaches the group too.
public struct Session: Sendable {
    /// Where the child's stdout and stderr go; stdin is always /dev/null.
    public enum Output: Sendable {
        case inherited
        /// Both appended to one file (created when absent).
        case log(String)
        /// Each to its own file (created when absent).
        case files(stdout: String, stderr: String)
    }

    public let pid: pid_t
    public let started: Date

    /// Starts `argv` (argv[0] a path) with exactly `environment`, in `directory` when given, its
    /// stdin read from `input` (a file). The child gets SIGINT, SIGTERM and SIGPIPE at their
    /// defaults and no blocked signals, whatever the caller set up for itself.
    public init(_ argv: [String], environment: [String: String], output: Output = .inherited,
                directory: String? = nil, input: String = "/dev/null") throws {
        guard !argv.isEmpty else { throw SpawnError(description: "nothing to start") }
        // Swift does not import posix_spawn_file_actions_addchdir_np: a shell changes folder, then execs.
        let argv = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + argv } ?? argv
        let executable = argv[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        switch output {
        case .inherited: break
        case .log(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .files(let stdout, let stderr):
            posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_APPEND | O_CREAT, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID is 0x80 in glibc >= 2.26; Swift does not import the macro.
        posix_spawnattr_setflags(&attributes, Int16(0x80 | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, number) }
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var child: pid_t = 0
        let started = Date()
        let result = posix_spawn(&child, executable, &actions, &attributes, cArguments, cEnvironment)
        guard result == 0 else { throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))") }
        pid = child
        self.started = started
    }

    /// The exit status once the leader has ended (128 + signal when killed), nil while it runs.
    /// Reaps the leader: call it until it answers, and not after.
    public func poll() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return result < 0 && errno != EINTR ? 1 : nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Waits at most `seconds` for the leader to end; nil when it still runs. Sleeps on a pidfd,
    /// which the kernel wakes the moment the child exits: a short tool is timed to its exit, and
    /// a thread waiting on one costs no wake-ups (polling every 2 ms, a dozen waiting threads of
    /// `pods up` took CPU from the tools they waited for). Polls where there is no pidfd.
    public func wait(seconds: Double) -> Int32? {
        if let status = poll() { return status }
        let deadline = Date().addingTimeInterval(seconds)
        // The leader is not reaped before `poll` answers, so its pid still names it here.
        if let descriptor = Session.openPIDFD?(pid, 0), descriptor >= 0 {
            defer { close(descriptor) }
            while true {
                let left = deadline.timeIntervalSinceNow
                var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let ready = Glibc.poll(&entry, 1, Int32((max(0, left) * 1000).rounded(.up)))
                if let status = poll() { return status }
                if ready == 0 || left <= 0 { return nil }
                if ready < 0 && errno != EINTR { break }
                // Readable before the exit can be reaped (its threads still ending): not a spin.
                if ready > 0 { usleep(1_000) }
            }
        }
        while true {
            if let status = poll() { return status }
            let now = Date()
            guard now < deadline else { return nil }
            let step = now.timeIntervalSince(started) < 1 ? 0.002 : 0.02
            usleep(UInt32(min(step, deadline.timeIntervalSince(now)) * 1e6))
        }
    }

    /// glibc's `pidfd_open` (2.36, Linux 5.3), looked up at run time: Swift imports neither
    /// <sys/pidfd.h> nor the variadic `syscall`. nil on an older system.
    private static let openPIDFD: (@convention(c) (pid_t, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (pid_t, UInt32) -> Int32).self)
    }()

    /// Sends `signal` to every process of the session.
    public func signal(_ signal: Int32) { Session.signal(session: pid, signal) }

    /// Ends every process of the session: SIGTERM, up to `grace` seconds for the leader, then
    /// SIGKILL to whatever is left. The leader's status, or 137 when even SIGKILL did not end it.
    public func end(grace: Double = 3) -> Int32 {
        signal(SIGTERM)
        let status = wait(seconds: grace)
        signal(SIGKILL)
        return status ?? wait(seconds: 5) ?? 137
    }

    /// Sends `signal` to every process whose session id is `session` (field 6 of /proc/PID/stat),
    /// which finds members that moved to process groups of their own.
    public static func signal(session: pid_t, _ signal: Int32) {
        guard session > 1 else { return }
        kill(-session, signal)
        for member in members(of: session) { kill(member, signal) }
    }

    /// The pids whose session id is `session`.
    public static func members(of session: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After "pid (comm)": state ppid pgrp session ...
            return fields.count > 3 && pid_t(fields[3]) == session ? pid : nil
        }
    }
}
