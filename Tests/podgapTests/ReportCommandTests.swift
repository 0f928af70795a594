import Records
import Foundation
import ModelFixtures
import Testing

/// `podgap report` as users run it: bad input gives one line and exit 2, good input every format.
@Suite(.serialized) struct ReportCommandTests {
    static func environment(_ name: String) -> Records.Environment {
        Records.Environment(name: name, launcher: .init(kind: "mpirun"), container: nil, network: "loopback",
                              transport: .init(pml: "ob1", btl: "vader"), hostname: "h", hostnames: ["h"], cores: 2,
                              cpuset: "0-1", cgroup: .init(), kernel: "Linux test", mpiLibrary: "Open MPI v4.1.4",
                              podgapVersion: "0.1.0", gitCommit: nil, topology: nil, bindings: nil, ranksPerNode: 2,
                              oversubscribed: false, yieldWhenIdle: false, yieldSetBy: nil)
    }

    /// Three trials of 8 B and 1 KiB; `factor` scales the times.
    static func writeRecords(_ environment: String, factor: Double, ranks: Int = 2, to path: String) throws {
        let writer = try RecordWriter(appendingTo: path)
        for trial in 1...3 {
            for bytes in [8, 1024] {
                let seconds = Double(trial + bytes / 8) * 1e-6 * factor
                let measurement = MeasuredPoint(parameters: ["bytes": .number(Double(bytes))], warmup: 1, iterations: 2,
                                              samples: [seconds, seconds], verified: true, verification: "ok")
                try writer.append(Record(run: "r", kernel: "allreduce", ranks: ranks, trial: trial, measurement: measurement,
                                         keepingSamples: false, environment: Self.environment(environment)))
            }
        }
    }

    /// A fresh folder with `shm` (factor 1) and `tcp` results files; remove the folder after.
    static func twoEnvironments(shm shmName: String = "shm.jsonl", tcp tcpName: String = "tcp.jsonl", tcpFactor: Double,
                                tcpRanks: Int = 2) throws -> (folder: URL, shm: String, tcp: String) {
        let folder = try Shell.temporaryFolder()
        let shm = folder.appendingPathComponent(shmName).path, tcp = folder.appendingPathComponent(tcpName).path
        try writeRecords("native-shm", factor: 1, to: shm)
        try writeRecords("native-tcp", factor: tcpFactor, ranks: tcpRanks, to: tcp)
        return (folder, shm, tcp)
    }

    static func report(_ arguments: [String]) throws -> Finished {
        try Shell.run(Shell.podgap, ["report"] + arguments, timeout: 60)
    }

    /// `podgap recommend`: a folder with nothing to recommend from, or no --mpijob, is one line and exit 2.
    @Test func recommendWithoutKnobEnvironmentsSaysWhatToRun() throws {
        let (folder, _, _) = try Self.twoEnvironments(shm: "native-shm.jsonl", tcp: "native-tcp.jsonl", tcpFactor: 4)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try Shell.run(Shell.podgap, ["recommend", folder.path, "--mpijob"], timeout: 60)
        #expect(plain.status == 2 && plain.stdout.isEmpty)
        #expect(plain.stderr == "podgap: \(folder.path): no environment there ran with knobs, so nothing says what to change: run podgap suite benchmarks/suites/knobs.yaml --budget 15m\n")
        let empty = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: empty) }
        let nothing = try Shell.run(Shell.podgap, ["recommend", empty.path, "--mpijob", "--out", empty.appendingPathComponent("job.yaml").path], timeout: 60)
        #expect(nothing.status == 2 && nothing.stderr.hasPrefix("podgap: ") && nothing.stderr.contains("benchmarks/suites/knobs.yaml"))
        #expect(nothing.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: empty.appendingPathComponent("job.yaml").path))
        let unsaid = try Shell.run(Shell.podgap, ["recommend", folder.path], timeout: 60)
        #expect(unsaid.status == 2 && unsaid.stderr == "podgap: say what to write: --mpijob (a Kubeflow MPIJob)\n")
        // The section alone, as --why prints its own.
        let section = try Self.report([folder.path, "--what-to-change"])
        #expect(section.status == 0 && section.stdout.hasPrefix("WHAT TO CHANGE (") && section.stdout.contains("run benchmarks/suites/knobs.yaml"))
        let html = try Self.report([folder.path, "--what-to-change", "--format", "html"])
        #expect(html.status == 2 && html.stderr.contains("--what-to-change prints the WHAT TO CHANGE section as table, markdown or csv"))
    }

    @Test func explainPrintsTheWhySectionAndNamesRunsWithoutCounters() throws {
        let (folder, _, _) = try Self.twoEnvironments(shm: "native-shm.jsonl", tcp: "native-tcp.jsonl", tcpFactor: 4)
        defer { try? FileManager.default.removeItem(at: folder) }
        let explained = try Shell.run(Shell.podgap, ["explain", folder.path], timeout: 60)
        #expect(explained.status == 0 && explained.stderr.isEmpty)
        #expect(explained.stdout.hasPrefix("WHY ("))
        #expect(explained.stdout.contains("runs lacking counters: native-shm: 3 of 3 launches; native-tcp: 3 of 3 launches"))
        #expect(!explained.stdout.contains("HEADLINES"))
        let csv = try Self.report([folder.path, "--format", "csv", "--why"])
        #expect(csv.status == 0 && csv.stdout.hasPrefix("section,from,to,"))
        let refused = try Self.report([folder.path, "--format", "html", "--why"])
        #expect(refused.status == 2 && refused.stderr.split(separator: "\n").count == 1)
        let missing = try Shell.run(Shell.podgap, ["explain", folder.appendingPathComponent("absent").path], timeout: 60)
        #expect(missing.status == 2 && missing.stderr.contains("no such file or folder"))
    }

    @Test func everyFormatFromTwoEnvironments() throws {
        let (folder, shm, tcp) = try Self.twoEnvironments(shm: "native-shm.jsonl", tcp: "native-tcp.jsonl", tcpFactor: 4)
        defer { try? FileManager.default.removeItem(at: folder) }
        let table = try Self.report([shm, tcp, "--baseline", "native-shm"])
        #expect(table.status == 0 && table.stderr.isEmpty)
        // 8 B: trial medians 2, 3, 4 us against 8, 12, 16 us: +300%.
        #expect(table.stdout.contains("native-tcp   allreduce  small-message latency (8 B)"))
        #expect(table.stdout.contains("+300.0% ["))
        let html = folder.appendingPathComponent("r.html").path
        let written = try Self.report([folder.path, "--format", "html", "--out", html])
        #expect(written.status == 0 && written.stdout.isEmpty)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("data-chart=\"latency\"") && page.contains("data-chart=\"gaps\""))
        let csv = try Self.report([shm, tcp, "--format", "csv"])
        #expect(csv.stdout.split(separator: "\n").count == 3)
        let osu = try Self.report([shm, tcp, "--format", "osu"])
        #expect(osu.stdout.contains("# Size       Avg Latency(us)"))
        // These records carry no descriptor (schema 1 style), so no bus factor: the format says so.
        let nccl = try Self.report([shm, tcp, "--format", "nccl-tests"])
        #expect(nccl.status == 0 && nccl.stdout.hasPrefix("# no collective with a bus factor in the inputs"))
        let metrics = try Self.report([shm, tcp, "--format", "openmetrics"])
        #expect(metrics.status == 0 && metrics.stdout.hasSuffix("# EOF\n") && metrics.stdout.contains("# TYPE podgap_gap_ratio gauge"))
        // A format that does not exist: one line that lists the valid ones.
        let bad = try Self.report([shm, tcp, "--format", "pdf"])
        #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1)
        #expect(bad.stderr == "podgap: The value 'pdf' is invalid for '--format <format>'. Please provide one of 'table', 'markdown', 'csv', 'html', 'osu', 'nccl-tests' or 'openmetrics'.\n")
    }

    @Test func badLineIsFileColonLineAndSkipBadGoesOn() throws {
        let (folder, shm, tcp) = try Self.twoEnvironments(tcpFactor: 2)
        defer { try? FileManager.default.removeItem(at: folder) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tcp))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"schema\":\"podgap.record/1\",\"run\":\n".utf8))
        try handle.close()
        let strict = try Self.report([shm, tcp])
        #expect(strict.status == 2)
        #expect(strict.stderr == "podgap: \(tcp):7: not a JSON object (truncated or corrupted line)\n")
        #expect(strict.stdout.isEmpty)
        let lenient = try Self.report([shm, tcp, "--skip-bad"])
        #expect(lenient.status == 0)
        #expect(lenient.stderr == "podgap: skipped \(tcp):7: not a JSON object (truncated or corrupted line)\n")
        #expect(lenient.stdout.contains("1 bad line(s) skipped (--skip-bad)"))
    }

    @Test func missingThingsAreNamedInOneLine() throws {
        let (folder, shm, tcp) = try Self.twoEnvironments(tcpFactor: 2, tcpRanks: 4)
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty.jsonl").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        let other = folder.appendingPathComponent("other.jsonl").path
        let line = try String(contentsOfFile: shm, encoding: .utf8).split(separator: "\n")[0]
        try (line.replacingOccurrences(of: "podgap.record/2", with: "podgap.record/0") + "\n").write(toFile: other, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            ([shm, empty], "podgap: \(empty): holds no records\n"),
            ([other], "podgap: \(other):1: schema 'podgap.record/0' is not one this podgap reads (it reads podgap.record/1, podgap.record/2)\n"),
            ([shm, tcp, "--baseline", "pod-overlay"], "podgap: baseline 'pod-overlay' is not in the inputs (they hold native-shm, native-tcp); pick one with --baseline\n"),
            ([shm], "podgap: every record is from environment 'native-shm'; a comparison needs the baseline and at least one other environment\n"),
            ([folder.appendingPathComponent("absent.jsonl").path], "podgap: \(folder.appendingPathComponent("absent.jsonl").path):0: no such file or folder\n"),
        ]
        for (arguments, message) in cases {
            let result = try Self.report(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr == message)
            #expect(!result.stdout.lowercased().contains("nan"))
        }
        // Values that are not a margin, and a folder where a file belongs: one line naming them.
        let reportFolder = folder.appendingPathComponent("reports").path
        try FileManager.default.createDirectory(atPath: reportFolder, withIntermediateDirectories: true)
        let values: [([String], String)] = [
            (["--equivalence", "0"], "podgap: --equivalence 0 is not a margin: give a percentage above 0 and below 100, e.g. 5\n"),
            (["--equivalence=-1"], "podgap: --equivalence -1 is not a margin: give a percentage above 0 and below 100, e.g. 5\n"),
            (["--out", reportFolder], "podgap: --out \(reportFolder) is a folder: name a file, e.g. \(reportFolder)/report.txt\n"),
            (["--out", reportFolder + "/absent/r.txt"], "podgap: --out \(reportFolder)/absent/r.txt: folder \(reportFolder)/absent does not exist\n"),
        ]
        for (arguments, message) in values {
            let result = try Self.report([shm, tcp] + arguments)
            #expect(result.status == 2 && result.stderr == message, "\(arguments): \(result.stderr)")
        }
        let words = try Self.report([shm, tcp, "--equivalence", "five"])
        #expect(words.status == 2 && words.stderr.split(separator: "\n").count == 1 && words.stderr.contains("'five'"))

        // Different rank counts: nothing pairs.
        let unpaired = try Self.report([shm, tcp])
        #expect(unpaired.status == 2)
        #expect(unpaired.stderr.hasPrefix("podgap: no record pairs with baseline 'native-tcp': the other environments (native-shm)"))
        #expect(unpaired.stderr.split(separator: "\n").count == 1)
    }

    /// A record no machine can produce (1e308 s per iteration) is kept out and named, not averaged in.
    @Test func recordsOutsidePhysicalBoundsAreFlagged() throws {
        let (folder, shm, tcp) = try Self.twoEnvironments(tcpFactor: 2)
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try RecordWriter(appendingTo: tcp)
        let measurement = MeasuredPoint(parameters: ["bytes": .number(8)], warmup: 1, iterations: 2,
                                        samples: [1e308], verified: true, verification: "ok")
        try writer.append(Record(run: "r", kernel: "allreduce", ranks: 2, trial: 4, measurement: measurement,
                                 keepingSamples: false, environment: Self.environment("native-tcp")))
        let result = try Self.report([shm, tcp, "--baseline", "native-shm"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("native-tcp allreduce 8 (2 ranks): 1 unverified record(s) (outside physical bounds: time per iteration 1e+308 s is above a day) shown but kept out of the statistics"))
        #expect(result.stdout.split(separator: "\n").allSatisfy { $0.count < 300 })
        #expect(!result.stdout.contains("-100.0%"))
    }

    /// `report` and `model calibrate` read the same records and compare against the same
    /// environment: the catalog's choice, whatever order the records come in.
    @Test func reportAndModelPickTheSameBaseline() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("all.jsonl").path
        let writer = try RecordWriter(appendingTo: path)
        for name in ["native-shm", "native-2node", "pod-overlay"] {
            for record in SyntheticRecords.sweep(name, alpha: 20e-6, bandwidth: 1e9)
                + [SyntheticRecords.train(name, alpha: 20e-6, bandwidth: 1e9, batch: 8, compute: 0.04, gradientBytes: 1 << 20)] {
                try writer.append(record)
            }
        }
        let report = try Self.report([path])
        #expect(report.status == 0, "\(report.stderr)")
        let profile = folder.appendingPathComponent("profile.yaml").path
        let model = try Shell.run(Shell.podgap, ["model", "calibrate", path, "--out", profile], timeout: 60)
        #expect(model.status == 0, "\(model.stderr)")
        let yaml = try String(contentsOfFile: profile, encoding: .utf8)
        #expect(report.stdout.split(separator: "\n").first?.contains("baseline native-2node,") == true)
        #expect(yaml.contains("baseline: \"native-2node\"") || yaml.contains("baseline: native-2node"))
    }
}
