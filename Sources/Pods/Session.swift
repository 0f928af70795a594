import Foundation

/// A child started in a session of its own (setsid), so that it and everything it starts (mpirun,
/// the rsh agents, runc exec) can be found and ended together, and none of them holds a terminal.
struct Session {
    let pid: pid_t

    /// Starts `argv` with `environment`; stdin is /dev/null, stdout and stderr are ours.
    init(_ argv: [String], environment: [String: String]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(0x80)) // POSIX_SPAWN_SETSID (glibc >= 2.26)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard result == 0 else { throw PodsError.failed("cannot start \(argv[0]): \(String(cString: strerror(result)))") }
        pid = child
    }

    /// The exit status when the leader has ended (128 + signal when killed), nil while it runs.
    func poll() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return result < 0 ? 1 : nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Waits at most `seconds` for the leader to end.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = poll() { return status }
            usleep(50_000)
        }
        return nil
    }

    /// Ends every process of the session: SIGTERM, a grace period, then SIGKILL.
    func end(grace: Double = 3) -> Int32 {
        Session.signal(session: pid, SIGTERM)
        if let status = wait(seconds: grace) {
            Session.signal(session: pid, SIGKILL)
            return status
        }
        Session.signal(session: pid, SIGKILL)
        return wait(seconds: 5) ?? 137
    }

    /// Sends `signal` to every process whose session id is `session` (field 6 of /proc/PID/stat).
    static func signal(session: pid_t, _ signal: Int32) {
        guard session > 1 else { return }
        for member in members(of: session) { kill(member, signal) }
    }

    static func members(of session: pid_t) -> [pid_t] {
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
