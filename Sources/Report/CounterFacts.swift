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
        // One file per core, as the facts reader does: the scan is most of the cost.
        let perFile = Locked<[Int: [CounterFacts]]>([:])
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            var facts: [CounterFacts] = []
            lines(containing: Array("\"counters\"".utf8), in: files[index]) { line in
                guard let record = try? JSONDecoder().decode(Record.self, from: line),
                      let counters = record.counters, record.verified else { return }
                let point = PointKey(kernel: record.kernel, parameters: RecordFacts.canonical(record.params),
                                     ranks: record.ranks, bytes: record.params["bytes"]?.doubleValue)
                facts.append(CounterFacts(environment: record.environment.name, point: point, round: record.round,
                                          trial: record.trial, iterations: record.warmup + record.iterations,
                                          counters: counters))
            }
            perFile.update { $0[index] = facts }
        }
        return files.indices.flatMap { perFile.value[$0] ?? [] }
    }

    /// Hands `body` each line of `file` that holds `marker`, reading `chunk` bytes at a time
    /// straight into one buffer (no copy per chunk).
    static func lines(containing marker: [UInt8], in file: String, chunk: Int = 8 << 20, _ body: (Data) -> Void) {
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let search = Horspool(marker)
        var capacity = max(chunk, 1) * 2
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        defer { buffer.deallocate() }
        var filled = 0, atEnd = false
        while !atEnd {
            if filled == capacity {
                // One line longer than the buffer: grow it.
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * 2, alignment: 1)
                larger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = larger
                capacity *= 2
            }
            let count = Foundation.read(descriptor, buffer.baseAddress! + filled, min(chunk, capacity - filled))
            if count <= 0 { atEnd = true } else { filled += count }
            // Whole lines only, but for the last piece of the file.
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<filled])
            guard let end = atEnd ? filled : bytes.lastIndex(of: 0x0A).map({ $0 + 1 }) else { continue }
            var from = 0
            while from < end, let offset = search.first(in: bytes, from: from, to: end) {
                let start = (bytes[from..<offset].lastIndex(of: 0x0A)).map { $0 + 1 } ?? from
                let stop = bytes[offset..<end].firstIndex(of: 0x0A) ?? end
                body(Data(bytes[start..<stop]))
                from = stop
            }
            // Keep the unfinished line for the next read.
            if end < filled { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + end, byteCount: filled - end) }
            filled -= end
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
