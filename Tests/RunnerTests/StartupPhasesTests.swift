import Foundation
@testable import Runner
import Records
import Testing

@Suite struct StartupPhasesTests {
    @Test func podsPhasesRunFromSubmitToTheFirstAllreduceAndAddUp() {
        // Submit at 100 s; pods up took 2.5 s in all; the launch command at 102.6 s (0.1 s no phase covers).
        let handover = StartupRun.Handover(launched: 102.6, phases: [(.submit, 0.5), (.pulled, 1.0), (.unpacked, 0.5), (.network, 0.2),
                                                                     (.created, 0.2), (.started, 0.1)], pulledBytes: 42)
        let phases = StartupRun.phases(start: 100, handover: handover, processesStarted: 102.7, slowestInit: 104, firstCollective: 104.5, pods: true)
        #expect(phases.map(\.0) == StartupPhase.pods)
        #expect(abs(phases.first { $0.0 == .wireUp }!.1 - 1.4) < 1e-9)
        #expect(abs(phases.last!.1 - 0.5) < 1e-9)
        // 4.4 s of phases against 4.5 s measured: 2.2% off, within 5%.
        let check = StartupRun.checkSum(phases, total: 104.5 - 100)
        #expect(check.ok && check.sentence.contains("2.2% off"), "\(check.sentence)")
        // Half a second no phase covers is 11% of it: refused.
        #expect(!StartupRun.checkSum(phases, total: 4.9).ok)
    }

    /// A warm start's record says what it pulled and unpacked: 0 bytes each is a value, not an absence.
    @Test func theImagesBytesBecomeTheRecordsThroughputKeys() {
        let warm = StartupRun.Handover(launched: 1, pulledBytes: 0, unpackedBytes: 0).byteCounts
        #expect(warm == [StartupPhase.pulledBytesKey: 0, StartupPhase.unpackedBytesKey: 0])
        let cold = StartupRun.Handover(launched: 1, pulledBytes: 64, unpackedBytes: 64)
        #expect(cold.byteCounts == ["pulled_bytes": 64, "unpacked_bytes": 64])
        #expect(cold.arguments.suffix(4) == ["--probe-pulled-bytes", "64", "--probe-unpacked-bytes", "64"])
        #expect(StartupRun.Handover(launched: 1).byteCounts.isEmpty, "no pull, no keys")
    }

    @Test func nativePhasesAreProcessStartMPIInitAndTheFirstAllreduce() {
        let phases = StartupRun.phases(start: 10, handover: StartupRun.Handover(launched: 10), processesStarted: 10.2, slowestInit: 10.9,
                                       firstCollective: 11, pods: false)
        #expect(phases.map(\.0) == StartupPhase.native)
        #expect(StartupRun.checkSum(phases, total: 1).ok)
        // A process start read in clock ticks before the launch counts as the launch itself, not as negative time.
        let early = StartupRun.phases(start: 10, handover: StartupRun.Handover(launched: 10), processesStarted: 9.99, slowestInit: 10.5,
                                      firstCollective: 10.6, pods: false)
        #expect(early.allSatisfy { $0.1 >= 0 })
    }

    /// sbatch: the queue wait and allocation (to the batch script's stamp), then the process
    /// start from there; the phases still add up to the whole.
    @Test func aBatchJobsAllocationIsAPhaseOfItsOwn() {
        let handover = StartupRun.Handover(launched: 10, allocated: 12.5)
        let phases = StartupRun.phases(start: 10, handover: handover, processesStarted: 12.7, slowestInit: 13.2, firstCollective: 13.3, pods: false)
        #expect(phases.map(\.0) == StartupPhase.batch)
        let seconds = phases.map(\.1)
        #expect(zip(seconds, [2.5, 0.2, 0.5, 0.1]).allSatisfy { abs($0 - $1) < 1e-9 }, "\(seconds)")
        #expect(StartupRun.checkSum(phases, total: 3.3).ok)
        // A process start in ticks before the stamp counts from the stamp.
        let early = StartupRun.phases(start: 10, handover: handover, processesStarted: 12.49, slowestInit: 13, firstCollective: 13.1, pods: false)
        #expect(early.allSatisfy { $0.1 >= 0 } && StartupRun.checkSum(early, total: 3.1).ok)
    }

    @Test func theHandoverRoundTripsThroughItsArguments() {
        let phases: [(StartupPhase, Double)] = [(.submit, 0.25), (.pulled, 1.5)]
        let parsed = StartupPhase.parse(StartupPhase.text(phases))
        #expect(parsed?.map(\.0) == [.submit, .pulled] && parsed?.map(\.1) == [0.25, 1.5])
        #expect(StartupPhase.parse("submit=1,nonsense=2") == nil)
        #expect(StartupPhase.parse("submit=-1") == nil)
        #expect(ProcessStart.seconds().map { $0 > 1_000_000_000 } == true, "this process's start, in seconds since 1970")
    }

    /// A child's start read from /proc lands on the real-time clock within a clock tick or two of
    /// when it was spawned (btime's whole seconds put it up to a second off).
    @Test func aProcessStartIsOnTheRealTimeClock() throws {
        for _ in 0..<3 {
            let before = Date().timeIntervalSince1970
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/bin/sleep")
            child.arguments = ["0.5"]
            try child.run()
            let after = Date().timeIntervalSince1970
            defer { child.waitUntilExit() }
            let started = try #require(ProcessStart.seconds(of: String(child.processIdentifier)))
            let tick = 1 / Double(sysconf(Int32(_SC_CLK_TCK)))
            #expect(started >= before - 2 * tick && started <= after + 2 * tick, "\(started - before) s after the spawn began, \(after - before) s to spawn")
        }
    }
}
