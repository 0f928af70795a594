import Foundation
import Records

/// The counters of one record, with what the WHY section pairs them by. Read apart from
/// `RecordFacts` on purpose: this file is the one place a report takes counters out of records,
/// so that a new records reader can take it over at one function (`read`).
public struct CounterFacts: Sendable {
    public var environment: String
    public var point: PointKey
    /// The suite round, nil outside rounds (then `trial` tells launches apart).
    public var round: Int?
    public var trial: Int
    /// Iterations in the region (warm-up and timed): the messages of a message kernel.
    public var iterations: Int
    public var counters: Counters

    public init(environment: String, point: PointKey, round: Int?, trial: Int, iterations: Int, counters: Counters) {
        self.environment = environment; self.point = point; self.round = round; self.trial = trial
        self.iterations = iterations; self.counters = counters
    }

    /// Every record with counters in `files` (verified ones only, as the gaps use). Lines without
    /// `"counters"` are passed over undecoded (a Horspool search skips most bytes): most records of a
    /// large report carry none, and a million-record report must not pay a JSON decode per line.
    public static func read(_ files: [String]) -> [CounterFacts] {
        var facts: [CounterFacts] = []
        for file in files {
            lines(containing: Array("\"counters\"".utf8), in: file) { line in
                guard let record = try? JSONDecoder().decode(Record.self, from: line),
                      let counters = record.counters, record.verified else { return }
                let point = PointKey(kernel: record.kernel, parameters: RecordFacts.canonical(record.params),
                                     ranks: record.ranks, bytes: record.params["bytes"]?.doubleValue)
                facts.append(CounterFacts(environment: record.environment.name, point: point, round: record.round,
                                          trial: record.trial, iterations: record.warmup + record.iterations,
                                          counters: counters))
            }
        }
        return facts
    }

    /// Hands `body` each line of `file` that holds `marker`, reading `chunk` bytes at a time.
    static func lines(containing marker: [UInt8], in file: String, chunk: Int = 8 << 20, _ body: (Data) -> Void) {
        guard let handle = FileHandle(forReadingAtPath: file) else { return }
        defer { try? handle.close() }
        let search = Horspool(marker)
        var pending = [UInt8]()
        var atEnd = false
        while !atEnd {
            let chunk = (try? handle.read(upToCount: chunk)) ?? nil
            if let chunk, !chunk.isEmpty { pending.append(contentsOf: chunk) } else { atEnd = true }
            // Whole lines only, but for the last piece of the file.
            guard let end = atEnd ? pending.count : pending.lastIndex(of: 0x0A).map({ $0 + 1 }) else { continue }
            pending.withUnsafeBytes { bytes in
                var from = 0
                while from < end, let offset = search.first(in: bytes, from: from, to: end) {
                    let start = (bytes[from..<offset].lastIndex(of: 0x0A)).map { $0 + 1 } ?? from
                    let stop = bytes[offset..<end].firstIndex(of: 0x0A) ?? end
                    body(Data(bytes[start..<stop]))
                    from = stop
                }
            }
            pending.removeFirst(end)
        }
    }
}

/// Horspool's substring search: a mismatch skips ahead by how far the window's last byte sits from
/// the marker's end, so a 10-byte marker reads about one byte in ten of the lines that lack it.
struct Horspool {
    let marker: [UInt8]
    private var skip = [Int](repeating: 0, count: 256)

    init(_ marker: [UInt8]) {
        precondition(!marker.isEmpty)
        self.marker = marker
        for byte in 0..<256 { skip[byte] = marker.count }
        for (index, byte) in marker.dropLast().enumerated() { skip[Int(byte)] = marker.count - 1 - index }
    }

    /// The offset of the first match in `bytes[from..<to]`, or nil.
    func first(in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        let count = marker.count
        var position = from
        while position + count <= to {
            let last = bytes[position + count - 1]
            if last == marker[count - 1] {
                var index = count - 2
                while index >= 0 && bytes[position + index] == marker[index] { index -= 1 }
                if index < 0 { return position }
            }
            position += skip[Int(last)]
        }
        return nil
    }
}
