import Testing
import Records
@testable import Runner

/// OpenBLAS's threads are sized by the ranks that share a rank's cores, across emulated nodes and
/// pods of one machine, and only those.
@Suite struct BLASThreadsTests {
    static let here = "5a0b", there = "77c1"

    @Test func ranksOnTheSameCoresOfOneMachineShareThem() throws {
        // Two pods (or emulated nodes) on a 2-core machine, each allowed both cores: 1 thread each.
        let pods = [BLASThreads.describe(machine: Self.here, cpus: CPUSet([0, 1])), BLASThreads.describe(machine: Self.here, cpus: CPUSet([0, 1]))]
        let sharing = try #require(BLASThreads.sharing(pods[0], among: pods))
        #expect(sharing == 2 && BLASThreads.threads(cores: 2, sharing: sharing) == 1)
    }

    @Test func disjointCoresAndOtherMachinesDoNotCount() throws {
        // Guaranteed pods (or --split-cpus nodes) of 8 cores each, and a rank on another machine
        // with the same CPU numbers: each rank keeps its 8 cores.
        let mine = BLASThreads.describe(machine: Self.here, cpus: CPUSet(Array(0..<8)))
        let everyone = [mine, BLASThreads.describe(machine: Self.here, cpus: CPUSet(Array(8..<16))),
                        BLASThreads.describe(machine: Self.there, cpus: CPUSet(Array(0..<8)))]
        let sharing = try #require(BLASThreads.sharing(mine, among: everyone))
        #expect(sharing == 1 && BLASThreads.threads(cores: 8, sharing: sharing) == 8)
        // Overlapping by one CPU is sharing; more ranks than cores still get a thread each.
        let overlapping = [mine, BLASThreads.describe(machine: Self.here, cpus: CPUSet([7, 8]))]
        #expect(BLASThreads.sharing(mine, among: overlapping) == 2)
        #expect(BLASThreads.threads(cores: 2, sharing: 8) == 1)
    }

    @Test func anEntryThatDoesNotParseIsNotCounted() {
        #expect(BLASThreads.sharing("no-list", among: ["no-list"]) == nil)
        let mine = BLASThreads.describe(machine: Self.here, cpus: CPUSet([0]))
        #expect(BLASThreads.sharing(mine, among: [mine, "\(Self.here) x-y", "garbage"]) == 1)
    }
}
