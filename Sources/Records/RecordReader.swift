import Foundation

/// Reads JSON Lines results files; every problem is reported as `FILE:LINE: what is wrong`.
public enum RecordReader {
    /// Reads every record of `path`. Throws on the first bad line.
    public static func read(_ path: String) throws -> [Record] {
        var records: [Record] = []
        try forEachLine(of: path) { line, number in
            records.append(try decode(line, file: path, line: number))
        }
        return records
    }

    /// Reads every good record and collects the bad lines' errors instead of stopping at them.
    public static func readSkippingBad(_ path: String) throws -> (records: [Record], problems: [RecordError]) {
        var records: [Record] = []
        var problems: [RecordError] = []
        try forEachLine(of: path) { line, number in
            do { records.append(try decode(line, file: path, line: number)) }
            catch let error as RecordError { problems.append(error) }
        }
        return (records, problems)
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

    private static func forEachLine(of path: String, _ body: (Substring, Int) throws -> Void) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecordError.malformed(file: path, line: 0, reason: "cannot read the file (missing or unreadable)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            try body(line, number)
        }
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
