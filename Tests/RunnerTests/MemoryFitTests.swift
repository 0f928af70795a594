import Kernels
import Probes
import Testing
@testable import Runner

/// Sizes that cannot fit are refused before anything is allocated: the buffers of every rank on
/// the node against the memory available, with the option and both numbers in one line.
@Suite struct MemoryFitTests {
    let sixteenGiB = AvailableMemory(bytes: 16 << 30, source: "MemAvailable")

    @Test func fitsWhenEveryRankOnTheNodeFits() throws {
        try MemoryFit.check(MemoryNeed(bytes: 4 << 30, setBy: "--sizes 2G"), ranksOnNode: 4, available: sixteenGiB)
        try MemoryFit.check(Allreduce(sizes: [4 << 30]).memoryPerRank(ranks: 2), ranksOnNode: 2, available: sixteenGiB)
    }

    @Test func refusesWhenTheRanksTogetherDoNotFit() {
        let need = Allreduce(sizes: [4 << 30]).memoryPerRank(ranks: 2)
        do {
            try MemoryFit.check(need, ranksOnNode: 2, available: AvailableMemory(bytes: 15 << 30, source: "MemAvailable"))
            Issue.record("8 GiB per rank x 2 ranks fitted into 15 GiB")
        } catch let failure as RunFailure {
            #expect(failure.code == .badInput)
            #expect(failure.message == "--sizes 4G needs 8.0 GiB of buffers per rank, 16.0 GiB for the 2 ranks on this node; this node has 15.0 GiB available (MemAvailable): use smaller values or fewer ranks per node")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// 64G of float64 on 8 ranks: the product is refused, not overflowed into a small number.
    @Test func hugeNeedsAreRefusedNotWrapped() {
        let need = MemoryNeed(bytes: Int.max / 4, setBy: "--sizes 64G")
        #expect(throws: RunFailure.self) {
            try MemoryFit.check(need, ranksOnNode: 8, available: AvailableMemory(bytes: 1 << 40, source: "cgroup limit"))
        }
    }

    @Test func unknownAvailabilityRefusesNothing() throws {
        try MemoryFit.check(MemoryNeed(bytes: Int.max, setBy: "--sizes 8E"), ranksOnNode: 1, available: nil)
    }
}
