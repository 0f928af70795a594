import Records
import Foundation
import Testing

/// The barrier kernel end to end, the proof that a kernel is its own file and one line in the
/// CLI's kernel list: `podgap run barrier` under mpirun, a suite naming it (dry run and two real
/// rounds on native-shm and native-tcp), and `podgap report` reading what the suite wrote.
@Suite(.serialized) struct BarrierIntegrationTests {
    @Test(arguments: [("vader,self", "native-shm"), ("tcp,self", "native-tcp")])
    func recordsAreVerifiedAndCarryTheDescriptor(btl: String, environment: String) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("b.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, mca: ["btl": btl], ["run", "barrier", "--iterations", "300", "--warmup", "7", "--out", out])
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.verified, "\(record.verification)")
        #expect(record.verification == "all 2 ranks passed all 307 barriers; each was held until the last rank arrived")
        #expect(record.kernel == "barrier" && record.ranks == 2 && record.iterations == 300 && record.warmup == 7)
        #expect(record.environment.name == environment)
        #expect(record.seconds.min > 0 && record.seconds.min <= record.seconds.p50 && record.seconds.p50 <= record.seconds.max)
        // A barrier takes microseconds; the 20 ms hold-back check is not among the timed ones.
        #expect(record.seconds.p50 < 0.005)
        let osu = try #require(record.osu)
        #expect(osu.min <= osu.avg && osu.avg <= osu.max && osu.min > 0)
        let descriptor = try #require(record.descriptor)
        #expect(descriptor.headlines.map(\.label) == ["barrier latency"])
        #expect(descriptor.role == nil && record.role == nil)
    }

    @Test func defaultCountsAreOSUsAndTheTableIsPrintedWithoutOut() throws {
        let finished = try Shell.mpirun(ranks: 2, ["run", "barrier"])
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(finished.stdout.hasPrefix("# podgap barrier (1000 timed, 100 warm-up)\n"), "\(finished.stdout)")
        let row = try #require(finished.stdout.split(separator: "\n").last).split(separator: " ")
        #expect(row.count == 2 && row.allSatisfy { (Double($0) ?? 0) > 0 }, "\(finished.stdout)")
    }

    @Test func badCountsAreOneLineAndExitTwo() throws {
        let finished = try Shell.run(Shell.podgap, ["run", "barrier", "--iterations", "0"], timeout: 30)
        #expect(finished.status == 2)
        #expect(finished.stderr == "podgap: --iterations 0 must be at least 1\n", "\(finished.stderr)")
    }

    @Test func aSuiteRunsItAndTheReportShowsIt() throws {
        let (folder, file) = try SuiteCommandTests.suiteFile("barrier", """
        name: barrier
        ranks: 2
        rounds: 2
        seed: 5
        startup: false
        environments: [native-shm, native-tcp]
        kernels:
          - barrier: {iterations: 200}
        """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = try SuiteCommandTests.suite([file, "--dry-run"], timeout: 30)
        #expect(plan.status == 0, "\(plan.stderr)")
        // The paired layout (RoundPlan): the baseline (native-shm) beside the other, mirrored in round 2.
        #expect(plan.stdout == "# seed 5\nnative-shm-k0-barrier-r1\nnative-tcp-k0-barrier-r1\nnative-tcp-k0-barrier-r2\nnative-shm-k0-barrier-r2\n")

        let run = try SuiteCommandTests.suite([file, "--results", folder.appendingPathComponent("results").path])
        #expect(run.status == 0, "\(run.stderr)")
        let results = URL(fileURLWithPath: run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        for environment in ["native-shm", "native-tcp"] {
            let records = try RecordReader.read(results.appendingPathComponent("\(environment).jsonl").path)
            #expect(records.map(\.kernel) == ["barrier", "barrier"])
            #expect(records.compactMap(\.round).sorted() == [1, 2])
            #expect(records.allSatisfy { $0.verified && $0.iterations == 200 && $0.ranks == 2 && $0.environment.name == environment })
        }
        // The suite's own report and `podgap report` of its folder both show the headline.
        let written = try String(contentsOf: results.appendingPathComponent("report.txt"), encoding: .utf8)
        let report = try Shell.run(Shell.podgap, ["report", results.path], timeout: 60)
        #expect(report.status == 0, "\(report.stderr)")
        for text in [written, report.stdout] {
            let headline = text.split(separator: "\n").first { $0.contains("barrier  barrier latency  2 rounds") }
            #expect(headline != nil, "\(text)")
        }
    }
}
