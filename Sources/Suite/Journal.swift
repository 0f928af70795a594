import Foundation

/// `launches.jsonl` in the results folder: one line per finished launch. A resumed suite skips
/// the launches named here, so nothing is measured twice.
struct Journal {
    struct Entry: Codable {
        var id: String
        var environment: String
        var kernel: String
        var trial: Int
        /// Wall time of the launch, spawn to exit.
        var seconds: Double
        /// The suite's own time between the previous launch's exit and this one's start.
        var overhead: Double?
    }

    let path: String

    func entries() -> [Entry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        // A line cut short by a crash is ignored: that launch simply runs again.
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
    }

    func append(_ entry: Entry) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(entry)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}
