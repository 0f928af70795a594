import Foundation
import Records
import Testing
@testable import Pods

/// The startup phases a pods job keeps for its records: each from where the last ended, so they
/// add up to the time from the submission to the last phase's end, whatever order the ends come in.
@Suite struct StartupPhaseClockTests {
    @Test func phasesFollowEachOtherAndAddUpToTheTimeSinceTheStart() {
        let start = Date(timeIntervalSince1970: 1_000)
        var clock = StartupPhaseClock(start: start)
        clock.end(.submit, at: start.addingTimeInterval(1.0))
        // Measured inside a stage: 0.25 s after the last end, the rest of the stage the next phase's.
        clock.end(.pulled, after: 0.25)
        clock.end(.unpacked, at: start.addingTimeInterval(2.0))
        // An end before the last one (work that overlapped) is a phase of no time, never negative.
        clock.end(.network, at: start.addingTimeInterval(1.5))
        clock.end(.created, at: start.addingTimeInterval(3.5))
        #expect(clock.phases.map(\.phase) == [.submit, .pulled, .unpacked, .network, .created])
        #expect(clock.phases.map(\.seconds) == [1.0, 0.25, 0.75, 0, 1.5])
        #expect(clock.phases.map(\.seconds).reduce(0, +) == 3.5)
    }
}
