import Foundation
import Records
import FuzzSupport

// The input is a results file. Both readers take paths (the fast one reads by the megabyte), so
// each input is written to a file of this process's own in /dev/shm first.
private let input = FuzzFile(name: "records", extension: "jsonl")
private let rewritten = FuzzFile(name: "rewritten", extension: "jsonl")

/// Besides not crashing or hanging:
/// - where RecordReader's two views both accept a file, the facts it scans (`facts`, what a
///   report reads) are the facts of the records it decodes (`read`, what a rewrite reads);
/// - what `read` accepts, `facts` accepts (it falls back to the full decoder for any line its
///   scanner declines), except for an empty file, which only `facts` refuses;
/// - a record read back after RecordWriter wrote it is the record that was written.
func fuzzRecords(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    input.write(UnsafeBufferPointer(start: start, count: count))
    let full = Result { try RecordReader.read(input.path) }
    let fastResult = Result { try RecordReader.facts(input.path).facts }
    // The skipping readers differ only where a line is bad: run them there alone (every decode
    // costs, and executions per second are what finds bugs).
    if case .failure = full { _ = try? RecordReader.readSkippingBad(input.path) }
    if case .failure = fastResult { _ = try? RecordReader.facts(input.path, skippingBad: true) }

    guard case .success(let records) = full else { return 0 }
    switch fastResult {
    case .success(let facts):
        let expected = records.map { RecordFacts($0) }
        if expected != facts {
            fatalError("the scanned and decoded facts disagree:\ndecoded: \(expected)\nscanned: \(facts)")
        }
        // With details (throughput and the rest), for the renderers that show them.
        let detailed = try? RecordReader.facts(input.path, details: true).facts
        if detailed != records.map({ RecordFacts($0, details: true) }) {
            fatalError("the scanned facts with details disagree with the decoded ones:\ndecoded: \(records.map { RecordFacts($0, details: true) })\nscanned: \(detailed.map { "\($0)" } ?? "refused")")
        }
    case .failure(let error):
        if !records.isEmpty { fatalError("the full reader accepts \(records.count) records, the fast one refuses: \(error)") }
    }

    rewritten.remove()
    do {
        let writer = try RecordWriter(appendingTo: rewritten.path)
        for record in records { try writer.append(record) }
    } catch {
        fatalError("a record that was read cannot be written: \(error)")
    }
    do {
        let again = try RecordReader.read(rewritten.path)
        if again != records { fatalError("records changed on the way through RecordWriter:\nread: \(records)\nagain: \(again)") }
    } catch {
        fatalError("a record RecordWriter wrote does not read back: \(error)")
    }
    return 0
}

fuzz(fuzzRecords)
