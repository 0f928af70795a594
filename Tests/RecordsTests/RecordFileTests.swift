import Records
import Foundation
import Testing

func sampleEnvironment(name: String = "native-shm") -> Environment {
    Environment(name: name, launcher: .init(kind: "mpirun"), container: nil, network: "loopback",
                transport: .init(pml: "ob1", btl: "vader,self", note: nil), hostname: "n1", hostnames: ["n1"],
                cores: 2, cpuset: "0-1", cgroup: .init(cpuQuota: 1.5, memoryBytes: 1 << 30), kernel: "Linux 6",
                mpiLibrary: "Open MPI v4.1.4", podgapVersion: "0.1.0", gitCommit: "abc", topology: nil,
                bindings: ["0", "1"], ranksPerNode: 2, oversubscribed: true, yieldWhenIdle: true, yieldSetBy: "podgap")
}

func sampleRecord(bytes: Int = 1024, verified: Bool = true) -> Record {
    let measurement = MeasuredPoint(parameters: ["bytes": .number(Double(bytes)), "dtype": "float32"],
                                  warmup: 10, iterations: 4, samples: [1e-6, 2e-6, 3e-6, 4e-6],
                                  throughput: ["algbw_gbps": 0.5, "busbw_gbps": 0.5],
                                  phases: ["exchange": [1e-7, 2e-7, 3e-7, 4e-7]],
                                  verified: verified, verification: "checked")
    return Record(run: "r1", kernel: "allreduce", ranks: 2, trial: 3, measurement: measurement,
                  keepingSamples: true, environment: sampleEnvironment())
}

@Suite final class RecordFileTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-collector-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// A fresh instance per test: what it made goes with it.
    deinit { try? FileManager.default.removeItem(at: folder) }

    func file(_ name: String, _ text: String? = nil) -> String {
        let path = folder.appendingPathComponent(name).path
        if let text { FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) }
        return path
    }

    @Test func writtenRecordsReadBackEqual() throws {
        let path = file("a/b/results.jsonl")
        let records = [sampleRecord(bytes: 4), sampleRecord(bytes: 8, verified: false)]
        do {
            let writer = try RecordWriter(appendingTo: path)
            for record in records { try writer.append(record) }
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let back = try RecordReader.read(path)
        #expect(back == records)
        #expect(abs(back[0].seconds.p50 - 2.5e-6) < 1e-18)
        #expect(back[0].phases["exchange"]?.max == 4e-7)
        #expect(back[1].verified == false)
        try? FileManager.default.removeItem(at: folder)
    }

    /// "Probed, none found" is an empty list, as for RDMA; a record from before GPUs were probed
    /// (no key) still reads, as nil: not probed.
    @Test func noGPUsFoundIsAnEmptyListAndOldRecordsStillRead() throws {
        var record = sampleRecord()
        record.environment.gpus = []
        let path = file("gpus.jsonl")
        try RecordWriter(appendingTo: path).append(record)
        let line = try String(contentsOfFile: path, encoding: .utf8)
        let environment = try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["environment"] as? [String: Any])
        #expect((environment["gpus"] as? [Any])?.isEmpty == true, "\(line)")
        #expect((environment["rdma"] as? [Any])?.isEmpty == true, "\(line)")
        #expect(try RecordReader.read(path).first?.environment.gpus == [])

        let old = file("old.jsonl", line.replacingOccurrences(of: #""gpus":[],"#, with: ""))
        #expect(try String(contentsOfFile: old, encoding: .utf8).contains(#""gpus""#) == false)
        let read = try #require(try RecordReader.read(old).first)
        #expect(read.environment.gpus == nil)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func writerAppendsAcrossOpenings() throws {
        let path = file("append.jsonl")
        try RecordWriter(appendingTo: path).append(sampleRecord(bytes: 4))
        try RecordWriter(appendingTo: path).append(sampleRecord(bytes: 8))
        #expect(try RecordReader.read(path).map { $0.params["bytes"] } == [.number(4), .number(8)])
    }

    @Test func unknownFieldsSurviveARewrite() throws {
        var json = String(decoding: try JSONEncoder().encode(sampleRecord()), as: UTF8.self)
        json.removeLast() // the closing brace
        json += ",\"futureField\":{\"x\":[1,2]}}"
        json = json.replacingOccurrences(of: "\"name\":\"native-shm\"", with: "\"name\":\"native-shm\",\"gpu\":\"none\"")
        let path = file("future.jsonl", json + "\n")
        let record = try RecordReader.read(path)[0]
        #expect(record.extra["futureField"] == .object(["x": .array([.number(1), .number(2)])]))
        #expect(record.environmentExtra["gpu"] == .string("none"))
        let again = try JSONDecoder().decode(Record.self, from: JSONEncoder().encode(record))
        #expect(again == record)
    }

    @Test func malformedLinesNameFileAndLine() throws {
        let good = String(decoding: try JSONEncoder().encode(sampleRecord()), as: UTF8.self)
        let path = file("bad.jsonl", good + "\n\n" + "{\"schema\":\"podgap.record/1\",\"run\":\"x\"\n")
        #expect(throws: RecordError.malformed(file: path, line: 3, reason: "not a JSON object (truncated or corrupted line)")) {
            try RecordReader.read(path)
        }
        let missing = file("missing.jsonl", "{\"schema\":\"podgap.record/1\",\"run\":\"x\",\"time\":\"t\"}\n")
        #expect(throws: RecordError.malformed(file: missing, line: 1, reason: "missing field 'kernel'")) {
            try RecordReader.read(missing)
        }
        let future = file("future-schema.jsonl", "{\"schema\":\"podgap.record/9\"}\n")
        do {
            _ = try RecordReader.read(future)
            Issue.record("a future schema was accepted")
        } catch let error as RecordError {
            #expect(error.description.hasPrefix("\(future):1: schema 'podgap.record/9' is not one this podgap reads"))
        }
        let wrongType = file("type.jsonl", good.replacingOccurrences(of: "\"ranks\":2", with: "\"ranks\":\"two\"") + "\n")
        #expect(throws: RecordError.malformed(file: wrongType, line: 1, reason: "field 'ranks' is not a number")) {
            try RecordReader.read(wrongType)
        }
    }

    @Test func skippingBadLinesKeepsTheGoodOnes() throws {
        let good = String(decoding: try JSONEncoder().encode(sampleRecord()), as: UTF8.self)
        let path = file("mixed.jsonl", [good, "garbage", good].joined(separator: "\n") + "\n")
        let (records, problems) = try RecordReader.readSkippingBad(path)
        #expect(records.count == 2)
        #expect(problems.map(\.description) == ["\(path):2: not a JSON object (truncated or corrupted line)"])
    }

    @Test func unwritablePathIsAClearError() {
        #expect(throws: RecordError.self) { try RecordWriter(appendingTo: "/proc/podgap/results.jsonl") }
        // A parent that is not a folder stops root too; the message names the path and the system's reason.
        let error = #expect(throws: RecordError.self) { try RecordWriter(appendingTo: "/dev/null/results.jsonl") }
        #expect(error?.description == "cannot write results to /dev/null/results.jsonl: Not a directory")
    }
}
