@testable import Records
import Foundation
import Testing
@testable import Report

/// The fast reader, as `podgap report` calls it: facts, bad lines, and how many lines its scanner
/// passed to the full decoder.
struct FastRead {
    var facts: [RecordFacts] = [], problems: [RecordError] = [], decoded = 0

    init(_ path: String, skippingBad: Bool = false, details: Bool = false, chunkSize: Int = RecordReader.defaultChunkSize) throws {
        let read = try RecordReader.facts(in: [path], skippingBad: skippingBad, details: details, chunkSize: chunkSize,
                                          start: { [RecordFacts]() }) { $0.append($1) }
        facts = read.files[0].flatMap { $0 }; problems = read.problems; decoded = read.decoded
    }
}

@Suite(.temporaryFolder) struct ReaderTests {
    @Test func fastReaderAgreesWithTheFullDecoder() throws {
        let records = [Fixtures.record("native-shm", bytes: 4, trial: 1, seconds: 1.25e-6),
                       Fixtures.record("pod-overlay", bytes: 1 << 20, trial: 2, seconds: 3.5e-3, verified: false)]
        let path = try Fixtures.temporaryFile("a.jsonl", try records.map(Fixtures.jsonLine).joined(separator: "\n") + "\n")
        let reader = try FastRead(path)
        #expect(reader.facts == records.map { RecordFacts($0) })
        #expect(reader.facts[1].bytes == 1048576 && reader.facts[1].parameters == "algorithm=mpi,bytes=1048576,dtype=float32")
    }

    /// The network and knobs WHAT TO CHANGE pairs by, read by the scanner itself (no line decoded
    /// in full) and equal to what the decoder reads.
    @Test func fastReaderTakesTheNetworkAndTheKnobs() throws {
        var limited = Fixtures.record("pod-overlay-limit", bytes: 4, trial: 1, seconds: 2e-5)
        limited.environment.network = "overlay"
        limited.environment.knobs = Knobs(cpuLimit: 0.5, slots: 2)
        var plain = Fixtures.record("pod-overlay", bytes: 4, trial: 1, seconds: 2e-5)
        plain.environment.network = "overlay"
        let records = [limited, plain]
        let path = try Fixtures.temporaryFile("k.jsonl", try records.map(Fixtures.jsonLine).joined(separator: "\n") + "\n")
        let reader = try FastRead(path)
        #expect(reader.decoded == 0)
        #expect(reader.facts == records.map { RecordFacts($0) })
        #expect(reader.facts[0].knobs == Knobs(cpuLimit: 0.5, slots: 2) && reader.facts[0].network == "overlay")
        #expect(reader.facts[1].knobs == nil && reader.facts[1].network == "overlay")
    }

    @Test func fastReaderTakesRoundsProbesDescriptorsAndTheOSUView() throws {
        var records: [Record] = []
        for (index, environment) in ["native-2node", "pod-overlay"].enumerated() {
            var record = Fixtures.record(environment, bytes: 64, trial: 1, seconds: 2e-5)
            record.round = 7; record.position = index + 1
            record.environment.probe = MachineProbe(sumGBps: 9.5, gemmGflops: 31.25, seconds: 0.031)
            record.osu = OSUStatistics(avg: 2.1e-5, min: 1.9e-5, max: 2.4e-5)
            record.wrong = 0
            record.throughput = ["busbw_gbps": 3.2, "algbw_gbps": 3.2]
            record.warmup = 10
            // The WHY section's counters come through the same scan (the second record has none).
            if index == 0 { record.counters = WhyTests.counters(packets: 8, bytesPerPacket: 150, throttled: 2) }
            records.append(record)
        }
        let path = try Fixtures.temporaryFile("r.jsonl", try records.map(Fixtures.jsonLine).joined(separator: "\n") + "\n")
        for details in [false, true] {
            let reader = try FastRead(path, details: details)
            #expect(reader.decoded == 0, "the scanner passed a schema-2 line to the full decoder")
            #expect(reader.facts == records.map { RecordFacts($0, details: details) })
            let fact = try #require(reader.facts.last)
            #expect(fact.round == 7 && fact.position == 2 && fact.wrong == 0)
            #expect(fact.probe == MachineProbe(sumGBps: 9.5, gemmGflops: 31.25, seconds: 0.031))
            #expect(fact.descriptor == Fixtures.descriptors["allreduce"])
            #expect(fact.osu == OSUStatistics(avg: 2.1e-5, min: 1.9e-5, max: 2.4e-5))
            #expect(fact.throughput == (details ? ["busbw_gbps": 3.2, "algbw_gbps": 3.2] : [:]))
            #expect(fact.counters == nil && fact.warmup == 10)
            #expect(reader.facts.first?.counters == records[0].counters && records[0].counters != nil)
        }
    }

    /// The scanner keeps one fact from line to line and changes only what differs, and matches
    /// each key against the one the last line had at its place: whatever changes between lines
    /// (the keys' order, a key more or less, the environment, parameters, descriptor, counters,
    /// phases, a line only the full decoder reads), every fact is the decoder's.
    @Test func factsKeptFromLineToLineAreTheDecodersWhateverChangesBetweenLines() throws {
        func record(_ environment: String, bytes: Int, trial: Int) -> Record {
            Fixtures.record(environment, bytes: bytes, trial: trial, seconds: 1e-6 * Double(trial))
        }
        var withCounters = record("pod-overlay", bytes: 8, trial: 3)
        withCounters.counters = WhyTests.counters(packets: 8, bytesPerPacket: 150, throttled: 2)
        var startup = record("pod-overlay", bytes: 8, trial: 4)
        startup.phases = ["network": Summary(min: 0.1, p50: 0.2, mean: 0.2, p99: 0.3, max: 0.3, stddev: 0), "halo": Summary(of: [1])]
        var noDescriptor = record("native-shm", bytes: 8, trial: 5)
        noDescriptor.descriptor = nil
        var knobs = record("pod-overlay-limit", bytes: 16, trial: 6)
        knobs.environment.knobs = Knobs(cpuLimit: 0.5, slots: 2)
        knobs.throughput = ["busbw_gbps": 2e4]
        var escaped = record("native-shm", bytes: 16, trial: 7)
        escaped.verification = "checked \"sum\""
        let records = [record("native-shm", bytes: 4, trial: 1), record("native-shm", bytes: 4, trial: 2), withCounters, startup,
                       noDescriptor, knobs, escaped, record("native-shm", bytes: 16, trial: 8), record("native-shm", bytes: 4, trial: 9)]
        var lines = try records.map(Fixtures.jsonLine)
        // The schema first in one line, the kernel last in another, the run left out of a third
        // (the decoder then refuses it: the reader must too).
        lines[1] = "{\"schema\":\"podgap.record/2\"," + lines[1].dropFirst().replacingOccurrences(of: ",\"schema\":\"podgap.record/2\"", with: "")
        lines[7] = lines[7].replacingOccurrences(of: "\"kernel\":\"allreduce\",", with: "").dropLast() + ",\"kernel\":\"allreduce\"}"
        #expect(lines[1].hasPrefix("{\"schema\"") && lines[7].hasSuffix("\"kernel\":\"allreduce\"}"))
        let refused = lines[2].replacingOccurrences(of: "\"run\":\"run-pod-overlay-3\",", with: "")
        let path = try Fixtures.temporaryFile("lines.jsonl", (lines + [refused]).joined(separator: "\n") + "\n")
        for details in [false, true] {
            let reader = try FastRead(path, skippingBad: true, details: details)
            #expect(reader.facts == records.map { RecordFacts($0, details: details) })
            #expect(reader.problems.map(\.description) == ["\(path):10: missing field 'run'"])
            // The line without its run is the full decoder's to refuse (an escaped string in a
            // field the scanner skips is still its own).
            #expect(reader.decoded == 1)
            #expect(reader.facts[3].phases == ["network": 0.2] && reader.facts[4].phases.isEmpty)
            #expect(reader.facts[2].counters != nil && reader.facts[3].counters == nil && reader.facts[4].descriptor == nil)
        }
    }

    @Test func valuesOutsidePhysicalBoundsAreFlaggedWithTheReason() throws {
        var slow = Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6)
        slow.seconds.max = 1e308
        var fast = Fixtures.record("native-shm", bytes: 8, trial: 2, seconds: 2e-6)
        fast.seconds.min = 1e-12
        var wide = Fixtures.record("native-shm", bytes: 8, trial: 3, seconds: 2e-6)
        wide.throughput = ["busbw_gbps": 2e4, "algbw_gbps": 1e4 + 1]
        let fine = Fixtures.record("native-shm", bytes: 8, trial: 4, seconds: 2e-6)
        let records = [slow, fast, wide, fine]
        let path = try Fixtures.temporaryFile("p.jsonl", try records.map(Fixtures.jsonLine).joined(separator: "\n") + "\n")
        let reader = try FastRead(path)
        #expect(reader.decoded == 0)
        #expect(reader.facts.map(\.implausible) == [
            "time per iteration 1e+308 s is above a day", "time per iteration 1e-12 s is below 1 ns",
            "bandwidth 'algbw_gbps' 10001.0 GB/s is above 10 TB/s", nil])
        #expect(reader.facts == records.map { RecordFacts($0) })
        #expect(reader.facts.map(\.usable) == [false, false, false, true])
    }

    @Test func linesTheScannerRefusesStillDecode() throws {
        // An escaped quote in a string: the scanner hands the line to JSONDecoder.
        var record = Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6)
        record.verification = "checked \"sum\""
        let path = try Fixtures.temporaryFile("b.jsonl", try Fixtures.jsonLine(record) + "\n")
        let reader = try FastRead(path)
        #expect(reader.facts == [RecordFacts(record)])
    }

    /// Found by benchmarks/fuzz (records): a key given twice read as its last value here and as
    /// its first in RecordReader, so `report` and `model` saw different ranks in the same line.
    @Test func keysGivenTwiceReadAsTheFullDecoderReadsThem() throws {
        let record = Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6)
        let line = try Fixtures.jsonLine(record)
        for (key, twice) in [("\"ranks\":2,", "\"ranks\":2,\"ranks\":0,"), ("\"name\":\"native-shm\",", "\"name\":\"native-shm\",\"name\":\"x\","),
                             ("\"p50\":", "\"p50\":1,\"p50\":")] {
            #expect(line.contains(key), "\(key)")
            let path = try Fixtures.temporaryFile("twice.jsonl", line.replacingOccurrences(of: key, with: twice) + "\n")
            for details in [false, true] {
                let reader = try FastRead(path, details: details)
                #expect(reader.facts == (try RecordReader.read(path)).map { RecordFacts($0, details: details) }, "\(twice)")
            }
        }
    }

    @Test func badLineIsReportedAsFileColonLine() throws {
        let good = try Fixtures.jsonLine(Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6))
        let cut = String(good.prefix(good.count / 2))
        let path = try Fixtures.temporaryFile("c.jsonl", good + "\n\n" + cut + "\n" + good + "\n")
        #expect(throws: RecordError.malformed(file: path, line: 3, reason: "not a JSON object (truncated or corrupted line)")) {
            _ = try FastRead(path)
        }
        // Skipping: the two good lines are read, the bad one is kept as a problem.
        let reader = try FastRead(path, skippingBad: true)
        #expect(reader.facts.count == 2)
        #expect(reader.problems.map(\.description) == ["\(path):3: not a JSON object (truncated or corrupted line)"])
    }

    @Test func missingFieldIsNamed() throws {
        let line = try Fixtures.jsonLine(Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6))
            .replacingOccurrences(of: "\"ranks\":2,", with: "")
        let path = try Fixtures.temporaryFile("d.jsonl", line + "\n")
        #expect(throws: RecordError.malformed(file: path, line: 1, reason: "missing field 'ranks'")) { _ = try FastRead(path) }
    }

    @Test func otherSchemaAndEmptyFileAreRefused() throws {
        let line = try Fixtures.jsonLine(Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6))
            .replacingOccurrences(of: Record.currentSchema, with: "podgap.record/9")
        let other = try Fixtures.temporaryFile("e.jsonl", line + "\n")
        do {
            _ = try FastRead(other)
            Issue.record("a record of schema podgap.record/9 was accepted")
        } catch let error as RecordError {
            #expect(error.description.hasPrefix("\(other):1: schema 'podgap.record/9' is not one this podgap reads"))
        }
        let empty = try Fixtures.temporaryFile("f.jsonl", "\n\n")
        #expect(throws: RecordError.empty(file: empty)) { _ = try FastRead(empty) }
    }

    @Test func linesLongerThanTheBufferAndNoFinalNewline() throws {
        // 3000 records (~2.4 MB) without a trailing newline: every one read, the last one too.
        let line = try Fixtures.jsonLine(Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6))
        let path = try Fixtures.temporaryFile("g.jsonl", Array(repeating: line, count: 3000).joined(separator: "\n"))
        let reader = try FastRead(path)
        #expect(reader.facts.count == 3000)
    }

    /// A line nested 200,000 arrays deep (400 KB, in a field the report does not read) once
    /// overflowed the stack of the fast scanner: now it is a bad line like any other.
    @Test func deeplyNestedLineIsABadLineNotACrash() throws {
        let good = try Fixtures.jsonLine(Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6))
        let deep = "{\"schema\":\"podgap.record/2\",\"x\":" + String(repeating: "[", count: 200_000)
            + String(repeating: "]", count: 200_000) + "}"
        let path = try Fixtures.temporaryFile("deep.jsonl", good + "\n" + deep + "\n")
        #expect(throws: RecordError.self) { _ = try FastRead(path) }
        let reader = try FastRead(path, skippingBad: true)
        #expect(reader.facts.count == 1 && reader.problems.count == 1)
    }

    /// Files are read in chunks on every core: each line is read once and in order whatever the
    /// chunks' size, and a bad line is numbered from the file's start in whichever chunk it fell.
    @Test func chunksReadEveryLineOnceAndNumberLinesFromTheFileStart() throws {
        var lines: [String] = []
        for trial in 1...40 {
            lines.append(try Fixtures.jsonLine(Fixtures.record("native-shm", bytes: 8 << (trial % 5), trial: trial, seconds: Double(trial) * 1e-6)))
        }
        lines.insert("", at: 10)
        lines.insert("  ", at: 21)
        let path = try Fixtures.temporaryFile("chunks.jsonl", lines.joined(separator: "\n") + "\n")
        let whole = try FastRead(path)
        #expect(whole.facts.count == 40 && whole.facts.map(\.trial) == Array(1...40))
        let length = lines[0].utf8.count
        for size in [13, 100, 999, length, length + 1, 4096] {
            #expect(try FastRead(path, chunkSize: size).facts == whole.facts, "chunks of \(size) bytes")
            let records = try RecordReader.lines(of: [path], skippingBad: false, chunkSize: size, start: { [Record]() }) {
                $0.append(try RecordReader.decode($1.text, file: $1.file, line: $1.number))
            }
            #expect(records.files[0].joined().map { RecordFacts($0) } == whole.facts, "chunks of \(size) bytes")
        }
        // Line 35 (after the two blank ones) cut short, and no newline at the end of the file.
        var bad = lines
        bad[34] = String(bad[34].prefix(50))
        let badPath = try Fixtures.temporaryFile("bad-chunks.jsonl", bad.joined(separator: "\n"))
        for size in [13, 100, 999, 4096, 1 << 20] {
            #expect(throws: RecordError.malformed(file: badPath, line: 35, reason: "not a JSON object (truncated or corrupted line)")) {
                _ = try FastRead(badPath, chunkSize: size)
            }
            let skipping = try FastRead(badPath, skippingBad: true, chunkSize: size)
            #expect(skipping.facts.count == 39 && skipping.facts.last?.trial == 40)
            #expect(skipping.problems.map(\.description) == ["\(badPath):35: not a JSON object (truncated or corrupted line)"])
        }
    }

    @Test func foldersReadTheirResultsAndSkippedEnvironments() throws {
        let file = try Fixtures.temporaryFile("native-shm.jsonl", try Fixtures.jsonLine(Fixtures.record("native-shm", bytes: 8, trial: 1, seconds: 2e-6)) + "\n")
        let folder = (file as NSString).deletingLastPathComponent
        try SkippedEnvironment.write([SkippedEnvironment(environment: "pod-rdma", reason: "no RDMA devices")], to: folder + "/skipped.json")
        let inputs = try Inputs.load([folder])
        #expect(inputs.facts.count == 1)
        #expect(inputs.skipped == [SkippedEnvironment(environment: "pod-rdma", reason: "no RDMA devices")])
    }
}

@Suite(.temporaryFolder) struct PairingKeyTests {
    @Test func environmentDerivedParametersDoNotSplitPairs() throws {
        // BLAS threads follow the cores a rank gets (1 on a shared host, 2 per emulated node):
        // both paths leave them out of the key.
        #expect(RecordFacts.canonical(["batch": 32, "blas_threads": 2, "layers": "8,8"]) == "batch=32,layers=8,8")
        var record = Fixtures.record("native-2node", bytes: 8, trial: 1, seconds: 1e-3, kernel: "train")
        record.params["blas_threads"] = 2
        let path = try Fixtures.temporaryFile("h.jsonl", try Fixtures.jsonLine(record) + "\n")
        let reader = try FastRead(path)
        #expect(reader.facts.first?.parameters == "algorithm=mpi,bytes=8,dtype=float32")
        #expect(reader.facts.first?.derived == "blas_threads=2")
    }

    /// The phase a kernel's descriptor names as its mode phase is read (its median) by the
    /// scanner as by the decoder, whichever comes first on the line; other kernel phases are not
    /// kept, and a record whose descriptor names none has none.
    @Test func theDescriptorsModePhaseIsRead() throws {
        var record = Fixtures.record("pod-overlay", bytes: 8, trial: 1, seconds: 1e-1, kernel: "train")
        record.params["blas_threads"] = 1
        record.phases = ["compute": Summary(of: [0.08, 0.09, 0.07]), "compute_alone": Summary(of: [0.06, 0.05, 0.07]),
                         "exposed_communication": Summary(of: [0.02])]
        var described = record
        described.descriptor = KernelDescriptor(metrics: [], headlines: [], order: 3, modePhase: "compute_alone")
        var unnamed = described
        unnamed.descriptor?.modePhase = nil
        // The same line with the descriptor moved last, after the phases (no nested braces in it).
        let line = try Fixtures.jsonLine(described)
        let start = try #require(line.range(of: "\"descriptor\":{")), end = try #require(line.range(of: "},", range: start.upperBound..<line.endIndex))
        let moved = String(line[..<start.lowerBound]) + String(line[end.upperBound...].dropLast()) + ","
            + String(line[start.lowerBound..<end.lowerBound]) + "}}"
        let lines = [line, moved, try Fixtures.jsonLine(unnamed), try Fixtures.jsonLine(record)]
        let path = try Fixtures.temporaryFile("m.jsonl", lines.joined(separator: "\n") + "\n")
        let reader = try FastRead(path)
        #expect(reader.decoded == 0)
        #expect(reader.facts == [described, described, unnamed, record].map { RecordFacts($0) })
        #expect(reader.facts.map(\.modeSeconds) == [0.06, 0.06, nil, nil])
        #expect(reader.facts.allSatisfy { $0.phases.isEmpty && $0.derived == "blas_threads=1" })
    }
}

