import Foundation

/// A developer's trace of where a command's own time goes, printed as it runs and never
/// recorded: one line on stderr per step with its milliseconds, when the command's variable is 1
/// (`PODGAP_PODS_TIMING=1 podgap pods up|down`, `PODGAP_REPORT_TIMES=1 podgap report`;
/// benchmarks/pods/steps reads the lines back). What a record holds is measured apart, by the
/// code that records it (the startup phases of a pods job: `StartupPhaseClock` in Pods). Off, a
/// step costs one clock read.
public struct TimingTrace: Sendable {
    /// Turns on the trace of `pods up` and `pods down`, step by step.
    public static let podsVariable = "PODGAP_PODS_TIMING"
    /// Turns on the trace of `podgap report`'s phases (reading, the analysis's parts, WHY ...).
    public static let reportVariable = "PODGAP_REPORT_TIMES"

    /// The command traced, the second word of each line (`up`, `down`, `report`).
    public let what: String
    public let enabled: Bool
    private let started: Date
    private var last: Date
    private let write: @Sendable (String) -> Void

    /// A trace of `what`, on when `variable` is 1 in `environment`; its lines go to `write`
    /// (stderr unless a test listens).
    public init(_ what: String, variable: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.what = what
        enabled = environment[variable] == "1"
        self.write = write
        started = Date()
        last = started
    }

    /// Ends the step `name`: the time since the previous mark (or the start).
    public mutating func mark(_ name: String) {
        let now = Date()
        defer { last = now }
        line(name, now.timeIntervalSince(last))
    }

    /// One of several pieces of work running side by side within the current step: `name` took
    /// from the step's start (the last mark) to now. Safe from any thread.
    public func note(_ name: String) {
        line("  " + name, Date().timeIntervalSince(last))
    }

    /// The whole command so far.
    public func total() {
        line("total", Date().timeIntervalSince(started))
    }

    private func line(_ name: String, _ seconds: Double) {
        guard enabled else { return }
        let padded = name.padding(toLength: max(name.count, 28), withPad: " ", startingAt: 0)
        write("podgap: \(what) \(padded) \(String(format: "%7.1f", seconds * 1000)) ms\n")
    }
}
