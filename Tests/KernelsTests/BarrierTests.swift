import Testing
import Records
@testable import Kernels
import Compute

/// The barrier kernel's parameters and what its records declare; its MPI loop runs under mpirun
/// in podgapTests.BarrierIntegrationTests.
@Suite struct BarrierTests {
    @Test func countsBelowTheirFloorAreRefusedNamingTheOption() throws {
        let iterations = #expect(throws: InvalidParameters.self) { try Barrier(iterations: 0, warmup: 0) }
        #expect(iterations?.description == "--iterations 0 must be at least 1")
        let warmup = #expect(throws: InvalidParameters.self) { try Barrier(iterations: 1, warmup: -1) }
        #expect(warmup?.description == "--warmup -1 must not be negative")
        let kernel = try Barrier(iterations: 1, warmup: 0)
        #expect(kernel.iterations == 1 && kernel.warmup == 0)
    }

    @Test func defaultsAreOSUBarriersAndTheDescriptorNamesItsHeadline() {
        #expect(Barrier.defaultPlan == .collective)
        #expect(Barrier.descriptor.metrics.map(\.key) == ["seconds", "osu.avg"])
        #expect(Barrier.descriptor.headlines == [.init(label: "barrier latency", point: .heaviest, asRate: false)])
        // Nothing the model fits from: no bytes move.
        #expect(Barrier.descriptor.role == nil)
        // Its order sits after every kernel that was there before it.
        #expect(Barrier.descriptor.order > [Allreduce.descriptor, PingPong.descriptor, HaloExchange.descriptor, TrainingStep.descriptor].map(\.order).max()!)
    }
}

/// How the barrier kernel judges what its ranks report (the MPI side runs in podgapTests).
@Suite struct BarrierVerificationTests {
    @Test func aRankThatMissedABarrierIsNamed() {
        #expect(Barrier.countProblem([307, 307, 307], expected: 307) == nil)
        #expect(Barrier.countProblem([307, 306, 305], expected: 307) == "rank 1 passed 306 barriers, expected 307")
    }

    @Test func aBarrierThatDidNotHoldTheOthersIsSaid() {
        #expect(Barrier.holdBackProblem(shortestWait: 0.019, late: 3) == nil)
        #expect(Barrier.holdBackProblem(shortestWait: 0.0004, late: 3) == "a barrier released a rank after 0.400 ms while rank 3 was still 20 ms away")
    }
}
