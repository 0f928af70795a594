import Records
import Foundation
import Testing
@testable import Report

/// The STARTUP PHASES section from records written to a file and read back through the report's
/// own reader (the fast scanner, and the decoder for the odd line), numbers worked out by hand.
@Suite(.temporaryFolder) struct StartupPhasesTests {
    static func startup(_ environment: String, round: Int, phases: [(StartupPhase, Double)], pulled: Double? = nil) -> Record {
        let total = phases.reduce(0) { $0 + $1.1 }
        let measurement = MeasuredPoint(parameters: ["launch": "x"], warmup: 0, iterations: 1, samples: [total],
                                        throughput: pulled.map { [StartupPhase.pulledBytesKey: $0] } ?? [:],
                                        phases: Dictionary(uniqueKeysWithValues: phases.map { ($0.0.rawValue, [$0.1]) }),
                                        verified: true, verification: "the phases add up")
        return Record(run: "r\(round)-\(environment)", kernel: "startup", ranks: 2, trial: round, round: round,
                      measurement: measurement, keepingSamples: false, environment: Fixtures.environment(environment))
    }

    @Test func eachPhaseHasItsMedianAndItsPairedGapToTheBaseline() throws {
        var lines: [String] = []
        for round in 1...3 {
            let r = Double(round)
            lines.append(try Fixtures.jsonLine(Self.startup("native-shm", round: round,
                                                            phases: [(.processesStarted, 0.1), (.mpiInit, 0.5 + r / 10), (.firstCollective, 0.001)])))
            lines.append(try Fixtures.jsonLine(Self.startup("pod-bridge", round: round,
                                                            phases: [(.submit, 0.1), (.pulled, 2 * r), (.unpacked, 5), (.network, 0.01),
                                                                     (.created, 0.1), (.started, 0.02), (.wireUp, 0.8 + r / 10),
                                                                     (.firstCollective, 0.002)], pulled: 6e7)))
        }
        // An allreduce point beside them: its phases (none here) and its kernel stay out of the section.
        lines.append(try Fixtures.jsonLine(Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 1e-6)))
        let path = try Fixtures.temporaryFile("startup.jsonl", lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        var options = Analysis.Options()
        options.baseline = "native-shm"
        let analysis = try Inputs.analyse([path], options: options).analysis
        let startup = try #require(analysis.startupPhases)
        #expect(startup.baseline == "native-shm")
        let pods = try #require(startup.rows.first { $0.environment == "pod-bridge" })
        #expect(pods.launches == 3 && pods.pairedRounds == 3)
        #expect(pods.seconds.map(\.phase) == [.submit, .pulled, .unpacked, .network, .created, .started, .wireUp, .firstCollective])
        #expect(abs((pods.seconds.first { $0.phase == .pulled }?.seconds ?? 0) - 4) < 1e-9, "median of 2, 4, 6")
        // The pull is all gap (native has none); wire-up against none natively either; the first allreduce 1 ms more.
        let gaps = try #require(pods.gaps)
        #expect(abs(gaps[.pulled]! - 4) < 1e-9)
        #expect(abs(gaps[.mpiInit]! + 0.7) < 1e-9, "native's MPI_Init (0.6, 0.7, 0.8) is all on its side: -0.7")
        #expect(abs(gaps[.firstCollective]! - 0.001) < 1e-9)
        // The whole start, paired by round: pods' 7.3-11.5 s against native's 0.7-0.9 s in every round.
        let total = try #require(pods.total)
        #expect(total.isPaired && total.trials == 3 && total.verdict == .slower, "\(total.summary())")
        #expect(abs(total.baselineMedian - 0.801) < 1e-9 && abs(total.median - (0.1 + 4 + 5 + 0.01 + 0.1 + 0.02 + 1.0 + 0.002)) < 1e-9)
        let native = try #require(startup.rows.first { $0.environment == "native-shm" })
        #expect(native.gaps == nil && native.total == nil && native.seconds.map(\.phase) == StartupPhase.native)
        #expect(startup.table.rows.first { $0[0] == "pod-bridge" }?.last == "slower")

        let text = TableRenderer(colour: false).render(analysis)
        #expect(text.contains("STARTUP PHASES (against native-shm)") && text.contains("image pulled") && text.contains("4.000 s (+4.000 s)"),
                "\(text)")
        let html = HTMLRenderer().render(analysis)
        #expect(html.contains("<h2>Startup phases"))
        let figure = try #require(html.components(separatedBy: "<figure class=\"startup\">").last?.components(separatedBy: "</figure>").first)
        #expect(figure.components(separatedBy: "<rect ").count - 1 == 8 + 3, "a segment per phase per environment")
    }

    @Test func recordsWithoutStartupPhasesHaveNoSection() throws {
        let lines = try ["native-shm", "native-tcp"].map { try Fixtures.jsonLine(Fixtures.record($0, bytes: 8, trial: 1, seconds: 1e-6)) }
        let path = try Fixtures.temporaryFile("plain.jsonl", lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let analysis = try Inputs.analyse([path]).analysis
        #expect(analysis.startupPhases == nil)
        #expect(!TableRenderer(colour: false).render(analysis).contains("STARTUP PHASES"))
    }
}
