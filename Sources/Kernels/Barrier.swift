import Foundation
import Records
import MPI
import Compute

/// MPI_Barrier latency, as osu_barrier measures it: the time one barrier takes with every rank
/// calling it back to back, the floor under every collective's synchronisation.
public struct Barrier: RepeatingKernel {
    public static let name = "barrier"
    public static let abstract = "MPI_Barrier latency (osu_barrier's loop), every rank checked to have passed each barrier and to have been held by the last."
    /// Only the main thread runs while it measures: OSU's level (Kernel.threadLevel).
    public static let threadLevel = MPI.ThreadLevel.single
    /// osu_barrier's counts: a barrier moves no data, so the small-message ones.
    public static let defaultPlan = IterationPlan.Defaults.collective

    public static let descriptor = KernelDescriptor(
        metrics: [.init(key: "seconds", label: "time per barrier", unit: "seconds", direction: .lowerIsBetter),
                  .init(key: "osu.avg", label: "OSU barrier latency", unit: "seconds", direction: .lowerIsBetter)],
        headlines: [.init(label: "barrier latency", point: .heaviest, asRate: false)],
        order: 5)

    /// How late the last rank enters the hold-back check, and how long the others must have been
    /// held for it to pass: far above a barrier's microseconds, and half the delay, so that a rank
    /// descheduled for a while on a busy machine does not read as a barrier that did not wait.
    static let holdBack = (delay: 0.02, least: 0.01, tries: 3)

    public var iterations: Int
    public var warmup: Int
    public var progress: ProgressLine?

    public init(iterations: Int, warmup: Int, progress: ProgressLine? = nil) throws {
        guard iterations >= 1 else { throw InvalidParameters(description: "--iterations \(iterations) must be at least 1") }
        guard warmup >= 0 else { throw InvalidParameters(description: "--warmup \(warmup) must not be negative") }
        self.iterations = iterations; self.warmup = warmup; self.progress = progress
    }

    /// A barrier allocates nothing worth counting.
    public func memoryPerRank(ranks: Int) -> MemoryNeed { MemoryNeed(bytes: 0, setBy: "--iterations") }

    public func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws {
        progress?.update("barrier", step: 1, of: 1)
        var samples = [Double](repeating: 0, count: iterations)
        var passed = 0
        for iteration in 0..<(warmup + iterations) {
            let start = MPI.wallTime
            try communicator.barrier()
            if iteration >= warmup { samples[iteration - warmup] = MPI.wallTime - start }
            passed += 1
        }
        let problem = try Barrier.check(passed: passed, expected: warmup + iterations, on: communicator)
        let timed = try Timing.slowest(samples, over: communicator)
        try record(MeasuredPoint(
            parameters: ["operation": "MPI_Barrier"], warmup: warmup, iterations: iterations, samples: timed,
            throughput: [:], verified: problem == nil,
            verification: problem ?? (communicator.size > 1
                ? "all \(communicator.size) ranks passed all \(warmup + iterations) barriers; each was held until the last rank arrived"
                : "the one rank passed all \(warmup + iterations) barriers, with no other to wait for"),
            osu: try Timing.osu(samples, over: communicator)))
        progress?.finish()
    }

    /// What went wrong, or nil: every rank counted every barrier (an allgather of the counts), and
    /// a barrier holds the others until the last rank arrives (the last rank enters late; every
    /// other rank must have waited for it). Collective.
    static func check(passed: Int, expected: Int, on communicator: Communicator) throws -> String? {
        let counts = try communicator.allgather([Int64(passed)])
        if let problem = countProblem(counts, expected: expected) { return problem }
        guard communicator.size > 1 else { return nil }
        let late = communicator.size - 1
        var shortest = 0.0
        for _ in 0..<holdBack.tries {
            // Every rank starts the try together: a rank that reached it late (descheduled after
            // the last collective) would otherwise find the late rank's sleep half over.
            try communicator.barrier()
            let start = MPI.wallTime
            if communicator.rank == late { usleep(useconds_t(holdBack.delay * 1e6)) }
            try communicator.barrier()
            // The late rank's own time is its sleep; only the others' waits tell.
            let waited = communicator.rank == late ? Double.infinity : MPI.wallTime - start
            shortest = try communicator.allreduce(waited, operation: .min)
            if holdBackProblem(shortestWait: shortest, late: late) == nil { return nil }
        }
        return holdBackProblem(shortestWait: shortest, late: late)
    }

    /// The first rank whose count of barriers passed is not `expected`, said; nil when none.
    static func countProblem(_ counts: [Int64], expected: Int) -> String? {
        counts.firstIndex { $0 != Int64(expected) }.map { "rank \($0) passed \(counts[$0]) barriers, expected \(expected)" }
    }

    /// A barrier that let a rank go sooner than the late rank's delay allows, said; nil when the
    /// shortest wait shows every rank was held.
    static func holdBackProblem(shortestWait: Double, late: Int) -> String? {
        guard shortestWait < holdBack.least else { return nil }
        return String(format: "a barrier released a rank after %.3f ms while rank %d was still %.0f ms away",
                      shortestWait * 1e3, late, holdBack.delay * 1e3)
    }
}
