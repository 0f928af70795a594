import Records
import Foundation

/// What a report is built from: results files, or suite folders (their `*.jsonl` files and the
/// `skipped.json` that names environments the suite could not run).
public struct Inputs: Sendable {
    /// The facts of each file, in argument order (kept apart: a report groups them file by file,
    /// on every core).
    public var partitions: [[RecordFacts]]
    public var facts: [RecordFacts] { partitions.flatMap { $0 } }
    public var skipped: [SkippedEnvironment]
    /// Bad lines passed over (only with `skippingBad`).
    public var problems: [RecordError]

    public static let skippedFile = "skipped.json"

    /// `details` keeps each record's throughput too, for the exporters' formats.
    public static func load(_ paths: [String], skippingBad: Bool = false, details: Bool = false) throws -> Inputs {
        var files: [String] = []
        var skipped: [SkippedEnvironment] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw RecordError.malformed(file: path, line: 0, reason: "no such file or folder")
            }
            guard isDirectory.boolValue else { files.append(path); continue }
            let folder = URL(fileURLWithPath: path)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            let results = names.filter { $0.hasSuffix(".jsonl") && !$0.hasPrefix(".") && $0 != "launches.jsonl" }.sorted()
            skipped += try readSkipped(folder.appendingPathComponent(skippedFile).path)
            if results.isEmpty && skipped.isEmpty {
                throw RecordError.malformed(file: path, line: 0, reason: "folder holds no .jsonl results files")
            }
            for file in results {
                let full = folder.appendingPathComponent(file).path
                // A suite's environment file is empty when every trial of it failed; its reason is in skipped.json.
                if (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) == 0 { continue }
                files.append(full)
            }
        }
        // Files are read side by side (one per core); the first problem in argument order wins.
        let results = Locked<[Int: Result<RecordFactsReader, Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let reader = RecordFactsReader(skippingBad: skippingBad, details: details)
            let result = Result { try reader.read(files[index]); return reader }
            results.update { $0[index] = result }
        }
        var partitions: [[RecordFacts]] = [], problems: [RecordError] = []
        for index in files.indices {
            let reader = try results.value[index]!.get()
            partitions.append(reader.facts)
            problems += reader.problems
        }
        return Inputs(partitions: partitions, skipped: skipped, problems: problems)
    }

    /// What `podgap report` does before rendering, for other callers (the exporters): read
    /// `paths` (files or suite folders) and analyse them. Bad lines, when skipped, come back with
    /// the analysis, and a warning names the first.
    public static func analyse(_ paths: [String], skippingBad: Bool = false, details: Bool = false,
                               options: Analysis.Options = Analysis.Options(),
                               skipped extra: [SkippedEnvironment] = []) throws -> (analysis: Analysis, problems: [RecordError]) {
        let inputs = try load(paths, skippingBad: skippingBad, details: details)
        var analysis = try Analysis.build(partitions: inputs.partitions, skipped: inputs.skipped + extra, options: options)
        if let first = inputs.problems.first {
            analysis.warnings.insert("\(inputs.problems.count) bad line(s) skipped (--skip-bad), first: \(first.description)", at: 0)
        }
        return (analysis, inputs.problems)
    }

    public static func readSkipped(_ path: String) throws -> [SkippedEnvironment] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        do { return try JSONDecoder().decode([SkippedEnvironment].self, from: data) }
        catch { throw RecordError.malformed(file: path, line: 1, reason: "not a list of {environment, reason} objects") }
    }

    public static func writeSkipped(_ skipped: [SkippedEnvironment], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(skipped).write(to: URL(fileURLWithPath: path))
    }
}
