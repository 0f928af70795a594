import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a child run to its end by `Child.run` ended.
public struct ChildOutcome: Sendable, Equatable {
    /// The exit status (128 + signal when killed).
    public var status: Int32
    /// Wall seconds from spawn to exit.
    public var seconds: Double
    public var timedOut: Bool
    /// Ended because `interrupted` said so (Ctrl-C), not by itself.
    public var interrupted: Bool
    /// The last non-empty line of the log: usually the reason a child failed.
    public var lastLine: String

    public init(status: Int32, seconds: Double, timedOut: Bool = false, interrupted: Bool = false, lastLine: String = "") {
        self.status = status; self.seconds = seconds; self.timedOut = timedOut; self.interrupted = interrupted; self.lastLine = lastLine
    }
}

/// What a tool printed, read back once it ended.
public struct CapturedOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
}

/// The one way podgap runs a child to its end: in a session of its own (so a timeout or Ctrl-C
/// ends it and everything it started), output to files, a time limit, and a question asked
/// while it runs of whether to stop. Pods' tools, suite launches and tests all come through here.
public enum Child {
    /// The child `run` is waiting for, so that a signal handler can end it at once.
    private static let current = PIDBox()

    /// Ends the child `run` is waiting for, if any (from a signal handler: `run` then answers
    /// with `interrupted` as its caller's flag says).
    public static func terminateCurrent() {
        let leader = current.value
        if leader > 0 { Session.signal(session: leader, SIGTERM) }
    }

    /// Runs `argv` (argv[0] a path) to its end with its output in `output`; after `timeout`
    /// seconds, or once `interrupted()` is true, ends its session (SIGTERM, `grace` seconds,
    /// SIGKILL). Throws only when the child cannot be started, never for a failing child.
    /// `endingSurvivors`: once it has ended, kill whatever of its session is left (a launch's
    /// orteds and stray ranks); false for a child that leaves something running on purpose
    /// (`runc run --detach`). `ctrlC`: whether `terminateCurrent()` (Ctrl-C) ends it; false for
    /// children that run side by side and must finish (a pod's start), which only one slot cannot hold.
    public static func run(_ argv: [String], environment: [String: String], output: Session.Output,
                           timeout: Double?, grace: Double = 5, input: String = "/dev/null", endingSurvivors: Bool = true,
                           ctrlC: Bool = true, interrupted: () -> Bool = { false }) throws -> ChildOutcome {
        try run(argv, environment: environment, output: output, timeout: timeout, grace: grace, input: input,
                current: ctrlC, survivors: endingSurvivors, interrupted: interrupted)
    }

    private static func run(_ argv: [String], environment: [String: String], output: Session.Output, timeout: Double?,
                            grace: Double, input: String, current registers: Bool, survivors: Bool,
                            interrupted: () -> Bool) throws -> ChildOutcome {
        for path in output.paths { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let child = try Session(argv, environment: environment, output: output, input: input)
        if registers { current.value = child.pid }
        defer { if registers { current.value = 0 } }
        var status: Int32?, timedOut = false, stopped = false
        while status == nil {
            status = child.wait(seconds: 0.2)
            let elapsed = Date().timeIntervalSince(child.started)
            if status == nil, let timeout, elapsed > timeout { timedOut = true }
            if status == nil && !timedOut && interrupted() { stopped = true }
            if status == nil && (timedOut || stopped) { status = child.end(grace: grace) }
        }
        let seconds = Date().timeIntervalSince(child.started)
        // Nothing of the session outlives the child (orted, stray ranks).
        if survivors { child.signal(SIGKILL) }
        return ChildOutcome(status: status!, seconds: seconds, timedOut: timedOut, interrupted: stopped || interrupted(),
                            lastLine: output.diagnostics.map(lastLine(of:)) ?? "")
    }

    /// Runs a tool to its end and reads what it printed; `input` is written to its stdin.
    /// Throws only when it cannot be started. Tools run side by side (pods start concurrently),
    /// so none of them is the one `terminateCurrent` ends.
    public static func capture(_ argv: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                               input: String? = nil, timeout: Double? = nil) throws -> CapturedOutput {
        let stem = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-child-\(getpid())-\(UUID().uuidString)").path
        let (stdout, stderr, stdin) = (stem + ".out", stem + ".err", stem + ".in")
        defer { for path in [stdout, stderr, stdin] { unlink(path) } }
        if let input { try Data(input.utf8).write(to: URL(fileURLWithPath: stdin)) }
        let outcome = try run(argv, environment: environment, output: .files(stdout: stdout, stderr: stderr), timeout: timeout,
                              grace: 2, input: input == nil ? "/dev/null" : stdin, current: false, survivors: false,
                              interrupted: { false })
        func text(_ path: String) -> String { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        return CapturedOutput(status: outcome.status, stdout: text(stdout), stderr: text(stderr), timedOut: outcome.timedOut)
    }

    /// The last non-empty line of a log file, "" when there is none.
    public static func lastLine(of path: String) -> String {
        let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init) ?? ""
    }
}

extension Session.Output {
    /// The files this output writes to.
    var paths: [String] {
        switch self {
        case .inherited: return []
        case .log(let path): return [path]
        case .files(let stdout, let stderr): return [stdout, stderr]
        }
    }

    /// Where a failing child says why: the log, or its stderr.
    var diagnostics: String? {
        switch self {
        case .inherited: return nil
        case .log(let path): return path
        case .files(_, let stderr): return stderr
        }
    }
}

/// A pid shared between the waiting thread and a signal handler's queue.
private final class PIDBox: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t = 0
    var value: pid_t {
        get { lock.lock(); defer { lock.unlock() }; return pid }
        set { lock.lock(); pid = newValue; lock.unlock() }
    }
}
