@testable import Compute
import Statistics
import Testing

/// The staged reduction's schedule, driven by stand-in steps whose copies and reductions finish
/// whenever a seeded generator says: collectives start in bucket order on every rank whatever
/// order the copies land in, nothing is reduced before it is in host memory, nothing copied back
/// before it is reduced, and `finish` returns only with every bucket back on the device.
@Suite struct StagedScheduleTests {
    final class Steps: StagingSteps {
        var log: [String] = []
        var copiedOut: Set<Int> = [], reduced: Set<Int> = []
        var queuedOut: [Int] = [], reducing: [Int] = [], queuedIn: [Int] = []
        var generator: SeededGenerator
        var waitedForCopiesIn = 0

        init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

        /// Lands some of what is in flight, at random, as a device and a network would.
        func tick() {
            for bucket in queuedOut where !copiedOut.contains(bucket) && generator.nextSignedFloat() > 0.3 { copiedOut.insert(bucket) }
            for bucket in reducing where !reduced.contains(bucket) && generator.nextSignedFloat() > 0.5 { reduced.insert(bucket) }
        }

        func copyOut(_ index: Int) throws { log.append("out \(index)"); queuedOut.append(index) }
        func hasCopiedOut(_ index: Int) throws -> Bool { tick(); return copiedOut.contains(index) }
        func startReduction(_ index: Int) throws {
            #expect(copiedOut.contains(index), "bucket \(index) reduced before its copy landed")
            log.append("reduce \(index)"); reducing.append(index)
        }
        func hasReduced(_ index: Int) throws -> Bool { tick(); return reduced.contains(index) }
        func copyIn(_ index: Int) throws {
            #expect(reduced.contains(index), "bucket \(index) copied back before its sum")
            log.append("in \(index)"); queuedIn.append(index)
        }
        func waitForCopiesIn() throws { waitedForCopiesIn += 1 }
    }

    @Test(arguments: 1...20)
    func reductionsStartInBucketOrderAndAllComeBack(seed: Int) throws {
        let steps = Steps(seed: UInt64(seed))
        let schedule = StagedSchedule(steps: steps)
        for step in 0..<2 {
            steps.log.removeAll(); steps.queuedOut.removeAll(); steps.reducing.removeAll(); steps.queuedIn.removeAll()
            steps.copiedOut.removeAll(); steps.reduced.removeAll()
            for bucket in 0..<5 {
                try schedule.start(bucket)
                try schedule.advance()
            }
            try schedule.finish()
            #expect(steps.reducing == [0, 1, 2, 3, 4], "step \(step): \(steps.log)")
            #expect(Set(steps.queuedIn) == [0, 1, 2, 3, 4])
            #expect(steps.waitedForCopiesIn == step + 1)
            #expect(schedule.started.isEmpty)
        }
    }

    /// A copy that lands late holds back every later bucket's collective, though their copies landed.
    @Test func aLateCopyHoldsBackLaterCollectives() throws {
        final class Late: StagingSteps {
            var landed: Set<Int> = [1, 2]
            var reductions: [Int] = []
            func copyOut(_ index: Int) throws {}
            func hasCopiedOut(_ index: Int) throws -> Bool { landed.contains(index) }
            func startReduction(_ index: Int) throws { reductions.append(index) }
            func hasReduced(_ index: Int) throws -> Bool { true }
            func copyIn(_ index: Int) throws {}
            func waitForCopiesIn() throws {}
        }
        let late = Late()
        let schedule = StagedSchedule(steps: late)
        for bucket in 0..<3 { try schedule.start(bucket) }
        #expect(late.reductions.isEmpty)
        late.landed.insert(0)
        try schedule.advance()
        #expect(late.reductions == [0, 1, 2])
    }

    @Test func aReductionThatNeverEndsIsAFailureNotAHang() throws {
        final class Stuck: StagingSteps {
            func copyOut(_ index: Int) throws {}
            func hasCopiedOut(_ index: Int) throws -> Bool { true }
            func startReduction(_ index: Int) throws {}
            func hasReduced(_ index: Int) throws -> Bool { false }
            func copyIn(_ index: Int) throws {}
            func waitForCopiesIn() throws {}
        }
        let schedule = StagedSchedule(steps: Stuck(), deadline: 0.05)
        try schedule.start(0)
        #expect(throws: StepFailure.self) { try schedule.finish() }
    }
}
