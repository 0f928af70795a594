import Foundation

/// The one reader of results files (JSON Lines), with two views of a line:
/// - `Record`, the whole record decoded (`read`, `decode`): for rewriting, the model, the suite;
/// - `RecordFacts`, only the fields a report uses (`facts`): scanned without building the rest,
///   so a million records read at disk speed. A line the scanner does not accept is decoded as a
///   `Record`, so both views accept the same lines and give the same errors.
/// Files are read side by side in chunks (every core); every problem is `FILE:LINE: what is wrong`,
/// other schema versions are refused by name, and fields this version does not know are kept in
/// the `Record` (a rewrite loses nothing).
public enum RecordReader {
    /// Reads every record of `path`. Throws on the first bad line.
    public static func read(_ path: String) throws -> [Record] {
        let read = try lines(of: [path], skippingBad: false, start: { [Record]() }) { records, line in
            records.append(try decode(line.text, file: line.file, line: line.number))
        }
        return read.files[0].flatMap { $0 }
    }

    /// Reads every good record and collects the bad lines' errors instead of stopping at them.
    public static func readSkippingBad(_ path: String) throws -> (records: [Record], problems: [RecordError]) {
        let read = try lines(of: [path], skippingBad: true, start: { [Record]() }) { records, line in
            records.append(try decode(line.text, file: line.file, line: line.number))
        }
        return (read.files[0].flatMap { $0 }, read.problems)
    }

    public static func decode(_ line: Substring, file: String, line number: Int) throws -> Record {
        do {
            return try JSONDecoder().decode(Record.self, from: Data(line.utf8))
        } catch let error as RecordError {
            throw RecordError.malformed(file: file, line: number, reason: error.description)
        } catch let error as DecodingError {
            throw RecordError.malformed(file: file, line: number, reason: explain(error))
        } catch {
            throw RecordError.malformed(file: file, line: number, reason: "\(error)")
        }
    }

    /// What `facts(in:)` read: one part per chunk, chunks of each file in order.
    public struct FactParts<Part> {
        /// Per file in argument order, its chunks' parts in file order.
        public var files: [[Part]]
        /// Bad lines passed over (only when skipping them), in file and line order.
        public var problems: [RecordError]
        /// Lines the scanner handed to the full decoder (tests check the usual lines take none).
        public var decoded: Int
    }

    /// The facts of every record of `paths`, read side by side over files and chunks of files:
    /// each chunk's facts go, in line order, to a part of its own that `start` makes and `add`
    /// fills (`start` and `add` run on several threads at once). Throws the first bad line in
    /// argument and line order unless `skippingBad`, and for a file that holds no records.
    /// `details` keeps each record's throughput too (the exporters' formats need it).
    public static func facts<Part>(in paths: [String], skippingBad: Bool = false, details: Bool = false,
                                   start: () -> Part, add: (inout Part, RecordFacts) -> Void) throws -> FactParts<Part> {
        try facts(in: paths, skippingBad: skippingBad, details: details, chunkSize: defaultChunkSize, start: start, add: add)
    }

    /// The same in chunks of `chunkSize` bytes (tests cut small files into many).
    static func facts<Part>(in paths: [String], skippingBad: Bool, details: Bool, chunkSize: Int,
                            start: () -> Part, add: (inout Part, RecordFacts) -> Void) throws -> FactParts<Part> {
        let read = try lines(of: paths, skippingBad: skippingBad, requireRecords: true, chunkSize: chunkSize,
                             start: { (part: start(), scanner: FactScanner(details: details)) }) { chunk, line in
            let scanner = chunk.scanner
            if scanner.read(line.bytes, { add(&chunk.part, $0) }) { return }
            chunk.scanner.decoded += 1
            add(&chunk.part, RecordFacts(try decode(line.text, file: line.file, line: line.number), details: details))
        }
        return FactParts(files: read.files.map { $0.map(\.part) }, problems: read.problems,
                         decoded: read.files.joined().map(\.scanner.decoded).reduce(0, +))
    }

    /// The facts of one file's records, in order, and its bad lines when skipping them.
    public static func facts(_ path: String, skippingBad: Bool = false, details: Bool = false) throws -> (facts: [RecordFacts], problems: [RecordError]) {
        let read = try facts(in: [path], skippingBad: skippingBad, details: details, start: { [RecordFacts]() }) { $0.append($1) }
        return (read.files[0].flatMap { $0 }, read.problems)
    }

    // MARK: lines

    /// One line of a file: its bytes (followed in memory by a newline or a 0 byte, so a number at
    /// its end is read in bounds), where it is, and its text for the full decoder.
    struct Line {
        let bytes: UnsafeBufferPointer<UInt8>
        let file: String
        let number: Int
        var text: Substring { Substring(String(decoding: bytes, as: UTF8.self)) }
    }

    /// Files are cut into chunks of about this size, read on every core: 5 files on 2 cores
    /// would otherwise leave one core idle for the last file.
    static let defaultChunkSize = 32 << 20

    /// Hands every non-blank line of `paths` to `body` with a part per chunk (`start`), chunks
    /// in parallel. Line numbers are counted per chunk and made whole once every chunk is done.
    static func lines<Part>(of paths: [String], skippingBad: Bool, requireRecords: Bool = false, chunkSize: Int = defaultChunkSize,
                            start: () -> Part,
                            _ body: (inout Part, Line) throws -> Void) throws -> (files: [[Part]], problems: [RecordError]) {
        var opened: [(path: String, descriptor: Int32, size: Int, seekable: Bool)] = []
        defer { for file in opened { close(file.descriptor) } }
        var chunks: [(file: Int, range: Range<Int>, last: Bool)] = []
        for path in paths {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw RecordError.malformed(file: path, line: 0, reason: "cannot read the file: \(String(cString: strerror(errno)))")
            }
            var status = stat()
            let seekable = fstat(descriptor, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
            let size = seekable ? Int(status.st_size) : 0
            opened.append((path, descriptor, size, seekable))
            // Pipes and the like are read front to back in one chunk.
            let count = seekable ? max(1, (size + chunkSize - 1) / chunkSize) : 1
            for index in 0..<count {
                chunks.append((opened.count - 1, (index * chunkSize)..<(index == count - 1 ? Int.max : (index + 1) * chunkSize),
                               index == count - 1))
            }
        }
        let results = UnsafeMutableBufferPointer<ChunkResult<Part>?>.allocate(capacity: chunks.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: chunks.count) { index in
            let chunk = chunks[index], file = opened[chunk.file]
            var reader = ChunkReader(descriptor: file.descriptor, path: file.path, range: chunk.range, seekable: file.seekable)
            var result = ChunkResult(part: start())
            do {
                try reader.forEachLine { line in
                    do {
                        try body(&result.part, line)
                        result.records += 1
                    } catch let error as RecordError where skippingBad {
                        result.problems.append(error)
                    }
                }
            } catch {
                result.failure = error
            }
            result.lines = reader.lineCount
            results[index] = result
        }
        // Each chunk numbered its lines from 1: add the lines of the chunks before it.
        var files = [[Part]](repeating: [], count: paths.count), problems: [RecordError] = []
        var offset = 0, records = 0, problemsInFile = 0
        for (index, chunk) in chunks.enumerated() {
            let result = results[index]!
            let path = opened[chunk.file].path
            if let failure = result.failure { throw renumbered(failure, by: offset) }
            problems += result.problems.map { renumbered($0, by: offset) }
            files[chunk.file].append(result.part)
            offset += result.lines; records += result.records; problemsInFile += result.problems.count
            if chunk.last {
                if requireRecords && records == 0 && problemsInFile == 0 { throw RecordError.empty(file: path) }
                offset = 0; records = 0; problemsInFile = 0
            }
        }
        return (files, problems)
    }

    private struct ChunkResult<Part> {
        var part: Part
        var records = 0, lines = 0
        var problems: [RecordError] = []
        var failure: Error?
    }

    private static func renumbered(_ error: Error, by offset: Int) -> Error {
        (error as? RecordError).map { renumbered($0, by: offset) } ?? error
    }

    private static func renumbered(_ error: RecordError, by offset: Int) -> RecordError {
        guard case .malformed(let file, let line, let reason) = error, line > 0 else { return error }
        return .malformed(file: file, line: line + offset, reason: reason)
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "field '\(path(context))' is not \(describe(type))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context))' is null where \(describe(type)) is needed"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not a JSON object (truncated or corrupted line)" }
            return "field '\(path(context))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return "an object of the expected shape"
        }
    }
}

/// Reads the lines that start in one byte range of a file (the last chunk reads on to the end,
/// so a file that grows while read loses nothing), by the megabyte, without copying a line.
/// A line that starts before the range belongs to the chunk before.
struct ChunkReader {
    let descriptor: Int32
    let path: String
    let range: Range<Int>
    let seekable: Bool
    /// Lines that start in the range, blank ones included (for the line numbers).
    private(set) var lineCount = 0

    init(descriptor: Int32, path: String, range: Range<Int>, seekable: Bool) {
        self.descriptor = descriptor; self.path = path; self.range = range; self.seekable = seekable
    }

    mutating func forEachLine(_ body: (RecordReader.Line) throws -> Void) throws {
        var capacity = 4 << 20
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 1)
        defer { buffer.deallocate() }
        // The byte before the range tells whether a line starts right at its beginning.
        var next = range.lowerBound > 0 ? range.lowerBound - 1 : 0
        var bufferStart = next, filled = 0, atEnd = false, skipping = range.lowerBound > 0
        while !atEnd {
            if filled == capacity {
                // One line longer than the buffer: grow it.
                let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2 + 1)
                larger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = larger
                capacity *= 2
            }
            let count = seekable ? pread(descriptor, buffer + filled, capacity - filled, off_t(next))
                                 : Foundation.read(descriptor, buffer + filled, capacity - filled)
            if count < 0 {
                if errno == EINTR { continue }
                throw RecordError.malformed(file: path, line: lineCount, reason: "read failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { atEnd = true }
            filled += count
            next += count
            buffer[filled] = 0
            var start = 0
            if skipping {
                guard let newline = memchr(buffer, 0x0A, filled) else {
                    // Still inside the chunk before's last line.
                    bufferStart += filled; filled = 0
                    continue
                }
                start = buffer.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
                skipping = false
            }
            while start < filled {
                if bufferStart + start >= range.upperBound { return }
                guard let newline = memchr(buffer + start, 0x0A, filled - start) else {
                    if !atEnd { break }
                    try line(buffer, start, filled, body)
                    start = filled
                    break
                }
                let stop = buffer.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                try line(buffer, start, stop, body)
                start = stop + 1
            }
            // Keep the unfinished line for the next read.
            if start > 0 {
                buffer.update(from: buffer + start, count: filled - start)
                filled -= start
                bufferStart += start
            }
        }
    }

    private mutating func line(_ buffer: UnsafeMutablePointer<UInt8>, _ start: Int, _ stop: Int,
                               _ body: (RecordReader.Line) throws -> Void) throws {
        lineCount += 1
        let bytes = UnsafeBufferPointer(start: buffer + start, count: stop - start)
        if ChunkReader.isBlank(bytes) { return }
        try body(RecordReader.Line(bytes: bytes, file: path, number: lineCount))
    }

    /// Blank lines are passed over: JSON's white space, and any other (the text's Characters).
    static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes {
            switch byte {
            case 0x20, 0x09, 0x0D, 0x0A: continue
            case UInt8(ascii: "{"): return false
            default: return String(decoding: bytes, as: UTF8.self).allSatisfy(\.isWhitespace)
            }
        }
        return true
    }
}
