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

    /// `details` keeps each record's throughput too, for the exporters' formats.
    public static func load(_ paths: [String], skippingBad: Bool = false, details: Bool = false) throws -> Inputs {
        let (files, skipped) = try files(paths)
        let readers = try read(files) { RecordFactsReader(skippingBad: skippingBad, details: details) }
        return Inputs(partitions: readers.map(\.facts), skipped: skipped, problems: readers.flatMap(\.problems))
    }

    /// The results files `paths` name (files, and the `.jsonl` files of folders), and the
    /// environments the folders' suites skipped.
    static func files(_ paths: [String]) throws -> (files: [String], skipped: [SkippedEnvironment]) {
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
            skipped += try SkippedEnvironment.read(folder.appendingPathComponent(SkippedEnvironment.file).path)
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
        return (files, skipped)
    }

    /// Reads the files side by side (one per core), each with a reader `make` gives, and hands
    /// each reader to `then` on the same core; the first problem in argument order wins.
    static func read<T>(_ files: [String], reader make: () -> RecordFactsReader,
                        then: (RecordFactsReader) -> T) throws -> [T] {
        let results = Locked<[Int: Result<T, Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let reader = make()
            let result = Result { try reader.read(files[index]); return then(reader) }
            results.update { $0[index] = result }
        }
        return try files.indices.map { try results.value[$0]!.get() }
    }

    static func read(_ files: [String], reader make: () -> RecordFactsReader) throws -> [RecordFactsReader] {
        try read(files, reader: make) { $0 }
    }

    /// What `podgap report` does before rendering, for other callers (the exporters): read
    /// `paths` (files or suite folders) and analyse them. Bad lines, when skipped, come back with
    /// the analysis, and a warning names the first.
    public static func analyse(_ paths: [String], skippingBad: Bool = false, details: Bool = false,
                               options: Analysis.Options = Analysis.Options(),
                               skipped extra: [SkippedEnvironment] = []) throws -> (analysis: Analysis, problems: [RecordError]) {
        let (files, skipped) = try files(paths)
        // Each file is grouped where it was read and its facts let go.
        let parts = try read(files, reader: { RecordFactsReader(skippingBad: skippingBad, details: details) }) {
            (grouping: Grouping($0.facts), problems: $0.problems)
        }
        let problems = parts.flatMap(\.problems)
        var analysis = try Analysis.build(groupings: parts.map(\.grouping), skipped: skipped + extra, options: options)
        analysis.why = Why.build(analysis, counters: CounterFacts.read(files))
        if let first = problems.first {
            analysis.warnings.insert("\(problems.count) bad line(s) skipped (--skip-bad), first: \(first.description)", at: 0)
        }
        return (analysis, problems)
    }
}
