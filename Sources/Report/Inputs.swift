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
        let read = try RecordReader.facts(in: files, skippingBad: skippingBad, details: details, start: { [RecordFacts]() }) { $0.append($1) }
        return Inputs(partitions: read.files.map { $0.flatMap { $0 } }, skipped: skipped, problems: read.problems)
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

    /// What `podgap report` does before rendering, for other callers (the exporters): read
    /// `paths` (files or suite folders) and analyse them. Bad lines, when skipped, come back with
    /// the analysis, and a warning names the first.
    public static func analyse(_ paths: [String], skippingBad: Bool = false, details: Bool = false,
                               options: Analysis.Options = Analysis.Options(),
                               skipped extra: [SkippedEnvironment] = []) throws -> (analysis: Analysis, problems: [RecordError]) {
        let (files, skipped) = try files(paths)
        var trace = TimingTrace("report", variable: TimingTrace.reportVariable)
        // Each chunk of each file is grouped where it is read: no fact is kept.
        var read = try RecordReader.facts(in: files, skippingBad: skippingBad, details: details, start: { Grouping() }) { $0.add($1) }
        let problems = read.problems
        var groupings = Array(read.files.joined())
        read.files = []
        let counters = groupings.flatMap(\.counters)
        trace.mark("read")
        let startup = groupings.flatMap(\.startup)
        var analysis = try Analysis.build(groupings: &groupings, skipped: skipped + extra, options: options)
        trace.mark("analysis")
        analysis.why = Why.build(analysis, counters: counters)
        trace.mark("why")
        analysis.whatToChange = WhatToChange.build(analysis, counters: counters)
        trace.mark("what to change")
        analysis.startupPhases = StartupPhases.build(startup, baseline: analysis.baseline, environments: analysis.environments,
                                                      options: options)
        if let first = problems.first {
            analysis.warnings.insert("\(problems.count) bad line(s) skipped (--skip-bad), first: \(first.description)", at: 0)
        }
        return (analysis, problems)
    }
}
