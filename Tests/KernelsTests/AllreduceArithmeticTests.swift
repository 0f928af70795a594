import Records
import Kernels
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
    @Test func busBandwidthFollowsNcclTests() {
        #expect(Allreduce.busBandwidth(algorithmBandwidth: 10, ranks: 2) == 10)
        #expect(Allreduce.busBandwidth(algorithmBandwidth: 10, ranks: 4) == 15)
        #expect(Allreduce.busBandwidth(algorithmBandwidth: 8, ranks: 8) == 14)
        #expect(Allreduce.busBandwidth(algorithmBandwidth: 3, ranks: 1) == 3)
    }

    @Test func iterationPlanFollowsOSU() {
        let plan = IterationPlan()
        #expect(plan.counts(forBytes: 8192) == (1000, 100))
        #expect(plan.counts(forBytes: 8193) == (100, 10))
        let overridden = IterationPlan(iterations: 5, warmup: 0)
        #expect(overridden.counts(forBytes: 4) == (5, 0))
    }

    @Test func sizesBelowOneElementAreLeftOut() {
        let kernel = Allreduce(sizes: [4, 8, 16], elementType: .float64)
        #expect(kernel.effectiveSizes == [8, 16])
    }
}
