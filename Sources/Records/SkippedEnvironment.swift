import Foundation

/// An environment a suite could not run here, and why: written by the suite beside its records
/// (`skipped.json`), shown by every report format.
public struct SkippedEnvironment: Codable, Equatable, Sendable {
    public var environment: String
    public var reason: String
    public init(environment: String, reason: String) { self.environment = environment; self.reason = reason }

    /// The file's name in a suite's results folder.
    public static let file = "skipped.json"

    /// The list in `path`; none when there is no such file.
    public static func read(_ path: String) throws -> [SkippedEnvironment] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        do { return try JSONDecoder().decode([SkippedEnvironment].self, from: data) }
        catch { throw RecordError.malformed(file: path, line: 1, reason: "not a list of {environment, reason} objects") }
    }

    public static func write(_ skipped: [SkippedEnvironment], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(skipped).write(to: URL(fileURLWithPath: path))
    }
}
