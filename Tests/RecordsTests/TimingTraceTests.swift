import Foundation
import Records
import Testing

/// The developer's trace: lines only when its variable is 1, in the one format
/// benchmarks/pods/steps reads back, whose steps add up to the total.
@Suite struct TimingTraceTests {
    /// benchmarks/pods/steps' pattern for a line (what, step, milliseconds).
    static let line = #/^podgap: (up|down|report) (.+?)\s+([0-9.]+) ms$/#

    @Test func aTraceOnWritesEachStepAndTheStepsAddUpToTheTotal() throws {
        let lines = Locked<[String]>([])
        var trace = TimingTrace("up", variable: TimingTrace.podsVariable, environment: [TimingTrace.podsVariable: "1"]) { text in
            lines.update { $0.append(text) }
        }
        usleep(20_000)
        trace.mark("first step")
        usleep(30_000)
        trace.note("a piece of the second")
        trace.mark("second step")
        trace.total()
        let parsed = try lines.value.map { text -> (String, String, Double) in
            #expect(text.hasSuffix("\n"))
            let match = try #require(try Self.line.wholeMatch(in: text.trimmingCharacters(in: .newlines)), "\(text)")
            return (String(match.1), String(match.2), try #require(Double(match.3)))
        }
        #expect(parsed.map(\.1) == ["first step", "  a piece of the second", "second step", "total"])
        #expect(parsed.allSatisfy { $0.0 == "up" })
        let (first, piece, second, total) = (parsed[0].2, parsed[1].2, parsed[2].2, parsed[3].2)
        #expect(first >= 20 && second >= 30 && piece >= 30 && piece <= second, "\(parsed)")
        // Each step is rounded to 0.1 ms: the two add up to the total within that.
        #expect(abs(first + second - total) <= 0.2, "\(parsed)")
    }

    @Test func aTraceOffWritesNothing() {
        let lines = Locked<[String]>([])
        for environment in [[:], [TimingTrace.reportVariable: "0"], [TimingTrace.podsVariable: "1"]] {
            var trace = TimingTrace("report", variable: TimingTrace.reportVariable, environment: environment) { text in
                lines.update { $0.append(text) }
            }
            #expect(!trace.enabled)
            trace.mark("read")
            trace.note("piece")
            trace.total()
        }
        #expect(lines.value.isEmpty, "\(lines.value)")
    }
}
