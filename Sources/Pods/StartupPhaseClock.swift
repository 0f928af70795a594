import Foundation
import Records

/// Measures the startup phases of `pods up` (`StartupPhase`: submit, image pulled, unpacked,
/// network ready, created, started) for the records: each phase ends where the last one did,
/// so that they add up to the time since `start` (the launch's submission), which the records'
/// check holds them to. The job state keeps them and a startup launch hands them to its ranks.
/// Not a developer's trace of `up`'s own steps: that is `TimingTrace`, printed and never kept.
struct StartupPhaseClock {
    private var last: Date
    private(set) var phases: [JobState.PhaseTime] = []

    init(start: Date) { last = start }

    /// Ends `phase` at `date` (now by default, never before the last phase's end); with `after`,
    /// that many seconds after the last phase ended instead (a phase measured inside a stage, the
    /// rest of which the next phase takes).
    mutating func end(_ phase: StartupPhase, at date: Date = Date(), after seconds: Double? = nil) {
        let now = max(last, seconds.map { last.addingTimeInterval($0) } ?? date)
        phases.append(.init(phase: phase, seconds: now.timeIntervalSince(last)))
        last = now
    }
}
