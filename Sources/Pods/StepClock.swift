import Foundation

/// Per-step timing of `pods up` and `pods down`, on stderr when PODGAP_PODS_TIMING=1: one line
/// per step with its milliseconds, so that where a pod's start-up goes can be read off a run
/// (benchmarks/README.md, "Fast pods"). Off, it costs one clock read per step.
struct StepClock: Sendable {
    static let variable = "PODGAP_PODS_TIMING"

    let what: String
    let enabled: Bool
    private let started: Date
    private var last: Date

    init(_ what: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.what = what
        enabled = environment[StepClock.variable] == "1"
        started = Date()
        last = started
    }

    /// Ends the step `name` (the time since the previous mark).
    mutating func mark(_ name: String) {
        let now = Date()
        defer { last = now }
        guard enabled else { return }
        write(name, now.timeIntervalSince(last))
    }

    /// One of several pieces of work running side by side within the current step: `name` took
    /// from the step's start (the last mark) to now. Safe from any thread.
    func note(_ name: String) {
        guard enabled else { return }
        write("  " + name, Date().timeIntervalSince(last))
    }

    /// The whole command so far.
    func total() {
        guard enabled else { return }
        write("total", Date().timeIntervalSince(started))
    }

    private func write(_ name: String, _ seconds: Double) {
        let padded = name.padding(toLength: max(name.count, 28), withPad: " ", startingAt: 0)
        FileHandle.standardError.write(Data("podgap: \(what) \(padded) \(String(format: "%7.1f", seconds * 1000)) ms\n".utf8))
    }
}
