import Foundation
import Testing
@testable import Records

@Suite struct CountersTests {
    func sample(_ value: Double, scope: String) -> CounterSample {
        CounterSample(value: value, unit: "packets", source: "/proc/net/dev eth0", scope: scope)
    }

    @Test func deltaSubtractsAndFlagsWhatIsMissingOrWentBackwards() {
        let before = CounterSnapshot(samples: ["a": sample(10, scope: "p"), "b": sample(5, scope: "p"), "c": sample(1, scope: "p")])
        let after = CounterSnapshot(samples: ["a": sample(25, scope: "p"), "b": sample(4, scope: "p"), "d": sample(1, scope: "p")],
                                    unavailable: ["hw.cycles": "no PMU"])
        let delta = after.since(before)
        #expect(delta.samples["a"]?.value == 15)
        #expect(delta.samples.count == 1)
        #expect(delta.unavailable["b"]?.contains("backwards") == true)
        #expect(delta.unavailable["c"] == "not readable at the end of the region")
        #expect(delta.unavailable["d"] == "not readable at the start of the region")
        #expect(delta.unavailable["hw.cycles"] == "no PMU")
    }

    @Test func reduceCountsASharedNamespaceOnceAndEveryProcess() {
        // Two ranks in one namespace (native-shm), then two in their own (pods).
        let shared = CounterSnapshot.reduce([CounterSnapshot(samples: ["net": sample(7, scope: "netns:1")]),
                                             CounterSnapshot(samples: ["net": sample(9, scope: "netns:1")])])
        #expect(shared.values["net"]?.sum == 7 && shared.values["net"]?.count == 1)
        let pods = CounterSnapshot.reduce([CounterSnapshot(samples: ["net": sample(7, scope: "netns:1"), "cs": sample(2, scope: "process")]),
                                           CounterSnapshot(samples: ["net": sample(9, scope: "netns:2"), "cs": sample(3, scope: "process")],
                                                           unavailable: ["hw.cycles": "no PMU"])])
        #expect(pods.values["net"] == Counters.Value(sum: 16, max: 9, unit: "packets", source: "/proc/net/dev eth0", count: 2))
        #expect(pods.values["cs"]?.sum == 5)
        #expect(pods.unavailable == ["hw.cycles": "no PMU"])
    }

    @Test func recordsCarryCountersAndOlderOnesReadWithout() throws {
        var record = sampleRecord()
        let older = try JSONDecoder().decode(Record.self, from: JSONEncoder().encode(record))
        #expect(older.counters == nil)
        #expect(record.counters == nil)
        #expect(!String(decoding: try JSONEncoder().encode(record), as: UTF8.self).contains("counters"))
        record.counters = Counters(values: ["tcp.out_segs": .init(sum: 4, max: 2, unit: "segments", source: "/proc/net/snmp Tcp", count: 2)],
                                   unavailable: ["hw.cycles": "no PMU"])
        let back = try JSONDecoder().decode(Record.self, from: JSONEncoder().encode(record))
        #expect(back.counters == record.counters)
        #expect(back.extra.isEmpty)
    }
}
