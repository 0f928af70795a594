import Records
import Kernels
import Compute
import VerbsKernels
import Testing

@Suite struct ByteCountTests {
    @Test func singleSizes() throws {
        #expect(try ByteCount.parse("4") == 4)
        #expect(try ByteCount.parse("64K") == 65536)
        #expect(try ByteCount.parse("1M") == 1 << 20)
        #expect(try ByteCount.parse("2g") == 2 << 30)
        #expect(try ByteCount.parse("8KB") == 8192)
    }

    @Test func sweepsArePowersOfTwo() throws {
        #expect(try ByteCount.parseSweep("4:64") == [4, 8, 16, 32, 64])
        #expect(try ByteCount.parseSweep("3:20") == [4, 8, 16])
        #expect(try ByteCount.parseSweep("1K") == [1024])
        #expect(try ByteCount.parseSweep("4,100,1K") == [4, 100, 1024])
        #expect(try ByteCount.parseSweep("4:1M").count == 19)
    }

    @Test(arguments: ["4:abc", "1M:4", "0", "-4", "4:", ":4", "1:2:3", "12X", "", "99999999999999G", "5:7",
                           // Found by benchmarks/fuzz (units): once an empty sweep, or empty items dropped.
                           ",", "4,,8", "4,"])
    func malformedSweepsNameTheValue(text: String) {
        do {
            _ = try ByteCount.parseSweep(text)
            Issue.record("'\(text)' was accepted")
        } catch let error as ByteCount.ParseError {
            #expect(error.description.contains("'"), "\(error.description)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func formatting() {
        #expect(ByteCount.format(1024) == "1K")
        #expect(ByteCount.format(1536) == "1536")
        #expect(ByteCount.format(3 << 20) == "3M")
    }
}

@Suite struct AllreduceArithmeticTests {
    @Test func busBandwidthFollowsNcclTests() throws {
        let factor = try #require(Allreduce.descriptor.busFactor)
        #expect(10 * factor.factor(ranks: 2) == 10)
        #expect(10 * factor.factor(ranks: 4) == 15)
        #expect(8 * factor.factor(ranks: 8) == 14)
        #expect(3 * factor.factor(ranks: 1) == 3)
    }

    /// Each kernel's descriptor names metrics its records hold, and no two kernels share a place
    /// in the reading order.
    @Test func descriptorsDescribeWhatRecordsHold() {
        let workloads: [any Workload.Type] = [Allreduce.self, PingPong.self, HaloExchange.self, TrainingStep.self, Startup.self,
                                              VerbsBaseline<VerbsPingPong>.self, VerbsBaseline<VerbsBandwidth>.self]
        #expect(Set(workloads.map { $0.descriptor.order }).count == workloads.count)
        #expect(Set(workloads.map { $0.name }).count == workloads.count)
        for workload in workloads {
            let descriptor = workload.descriptor
            #expect(!descriptor.headlines.isEmpty, "\(workload.name)")
            #expect(descriptor.metrics.first?.key == "seconds", "\(workload.name)")
            // Rate headlines need a rate metric to read.
            if descriptor.headlines.contains(where: \.asRate) {
                #expect(descriptor.metrics.contains { $0.direction == .higherIsBetter }, "\(workload.name)")
            }
        }
        #expect(PingPong.descriptor.busFactor == nil)
    }

    /// OMB 7.2's osu_util.h: COLL_LOOP/SKIP 1000/100 and 100/10, LAT_LOOP/SKIP 10000/100 and
    /// 1000/10, switching above LARGE_MESSAGE_SIZE (8192).
    @Test func iterationPlanFollowsOSU() {
        let plan = IterationPlan()
        #expect(plan.counts(forBytes: 8192) == (1000, 100))
        #expect(plan.counts(forBytes: 8193) == (100, 10))
        #expect(plan.counts(forBytes: 8192, defaults: .latency) == (10000, 100))
        #expect(plan.counts(forBytes: 8193, defaults: .latency) == (1000, 10))
        let overridden = IterationPlan(iterations: 5, warmup: 0)
        #expect(overridden.counts(forBytes: 4) == (5, 0))
        #expect(overridden.counts(forBytes: 1 << 20, defaults: .latency) == (5, 0))
    }

    /// osu_allreduce: each rank's latency is its timed calls' sum over the iterations; Avg is the
    /// sum of those over ranks divided by the ranks, Min and Max the extremes over ranks. Not the
    /// per-iteration slowest rank: here that would be 4, 5, 6 us, mean 5 us, not 3.5.
    @Test func osuColumnsAreMeansOverRanksOfPerRankMeans() {
        let microsecond = 1e-6
        let perRank: [[Double]] = [
            [1, 2, 3].map { $0 * microsecond },    // rank 0: mean 2 us
            [4, 5, 6].map { $0 * microsecond },    // rank 1: mean 5 us
            [3, 3, 3].map { $0 * microsecond },    // rank 2: mean 3 us
            [2, 4, 6].map { $0 * microsecond },    // rank 3: mean 4 us
        ]
        let osu = Timing.osu(perRankTimes: perRank)
        #expect(abs(osu.avg - 3.5 * microsecond) < 1e-15)
        #expect(abs(osu.min - 2 * microsecond) < 1e-15)
        #expect(abs(osu.max - 5 * microsecond) < 1e-15)
        let slowest = (0..<3).map { iteration in perRank.map { $0[iteration] }.max()! }
        #expect(abs(Summary(of: slowest).mean - 5 * microsecond) < 1e-15)

        // osu_latency: rank 0's half round trips averaged; one number in all three columns.
        let latency = Timing.osuLatency(halfRoundTrips: [1, 2, 6].map { $0 * microsecond })
        #expect(abs(latency.avg - 3 * microsecond) < 1e-15 && latency.min == latency.avg && latency.max == latency.avg)
    }

    @Test func memoryNeedsSaturateInsteadOfOverflowing() {
        #expect(MemoryNeed(buffers: 3, of: Int.max / 2, setBy: "x").bytes == Int.max)
        #expect(Allreduce(sizes: [1 << 30]).memoryPerRank(ranks: 4).bytes == 2 << 30)
        #expect(Allreduce(sizes: [1 << 30], algorithm: .ring).memoryPerRank(ranks: 4).bytes == 3 << 30)
        #expect(Allreduce(sizes: [64, 1 << 20]).memoryPerRank(ranks: 2).setBy == "--sizes 1M")
        #expect(PingPong(sizes: [1, 4 << 20]).memoryPerRank(ranks: 2).bytes == 8 << 20)
    }

    @Test func aCountAboveOneMPICountIsRefused() {
        #expect(throws: InvalidParameters.self) { try Allreduce(sizes: [64 << 30]).validate(sizesText: "64G") }
        #expect(throws: InvalidParameters.self) { try Allreduce(sizes: [2], elementType: .float32).validate(sizesText: "2") }
        #expect(throws: Never.self) { try Allreduce(sizes: [8 << 30 - 4]).validate(sizesText: "8589934588") }
    }

    @Test func sizesBelowOneElementAreLeftOut() {
        let kernel = Allreduce(sizes: [4, 8, 16], elementType: .float64)
        #expect(kernel.effectiveSizes == [8, 16])
    }
}
