import Foundation
import Records

/// Takes what launches wrote into the suite's own records files, one per environment. What pods
/// wrote is untrusted: read through `SafeFile` (no link followed, regular files only, size
/// bounded), each line checked, only the launch's own records kept; nothing in a pod's folder is
/// ever written, moved or removed.
struct RecordIntake {
    let folder: SuiteFolder
    let log: (String) -> Void

    /// Records a pod may write per launch: far above any sweep's (a 4:4M sweep with samples is
    /// under 1 MB), far below what would hurt the host.
    static let launchRecordLimit = 64 << 20
    static let interruptedFolder = "interrupted"

    /// Reads what `launch` wrote and appends its records, marked with the round and the position,
    /// to the environment's records file; the startup probe becomes one "launch" record of its
    /// wall time. Returns how many records were kept; throws when there are none.
    func keep(_ launch: PlannedLaunch, from result: LaunchResult) throws -> Int {
        var records: [Record] = [], foreign = 0, bad = 0
        for source in result.records {
            guard let data = try SafeFile.read(source, limit: RecordIntake.launchRecordLimit) else { continue }
            for (number, line) in data.split(separator: 0x0A).enumerated() {
                guard let record = try? RecordReader.decode(Substring(decoding: line, as: UTF8.self), file: source, line: number + 1) else {
                    bad += 1
                    continue
                }
                // Only this launch's records: whatever else a pod put in the file stays out.
                guard record.run == launch.id else { foreign += 1; continue }
                records.append(record)
            }
            // Host processes wrote in the suite's own folder: that file has served its purpose.
            if !result.podWritten { try? FileManager.default.removeItem(atPath: source) }
        }
        if bad + foreign > 0 { log("\(launch.id): passed over \(bad) unreadable and \(foreign) foreign line(s) in its output") }
        guard !records.isEmpty else { throw SuiteError("wrote no records") }
        let writer = try RecordWriter(appendingTo: folder.records(launch.environment.label))
        if launch.kernel == nil {
            let probe = records[0]
            let point = MeasuredPoint(parameters: ["probe": "allreduce-4B-x1"], warmup: 0, iterations: 1,
                                      samples: [result.outcome.seconds], verified: probe.verified,
                                      verification: "wall time from launch to exit, measured by podgap suite")
            let record = Record(run: launch.id, kernel: SuiteRunner.launchKernel, descriptor: SuiteRunner.launchDescriptor,
                                ranks: probe.ranks, trial: launch.round, round: launch.round, position: launch.position,
                                measurement: point, keepingSamples: false, environment: probe.environment)
            try writer.append(record)
            return 1
        }
        for var record in records {
            // The suite knows which round and place it ran the launch in; the record says so
            // whatever the writer did.
            record.trial = launch.round
            record.round = launch.round
            record.position = launch.position
            // What the nodes counted over the launch, beside what its ranks counted per point.
            record.counters?.launch = result.launchCounters
            try writer.append(record)
        }
        return records.count
    }

    /// On resume: records of rounds that did not finish go to `interrupted/` (those rounds run
    /// again whole), as does a line cut short, so the records files hold finished rounds only.
    func setAsideUnfinished(of environments: [SuiteFile.EnvironmentEntry], from firstRound: Int) throws {
        try? FileManager.default.removeItem(at: folder.url.appendingPathComponent(SuiteFolder.launchOutput))
        let aside = folder.url.appendingPathComponent(RecordIntake.interruptedFolder)
        for entry in environments {
            let path = folder.records(entry.label)
            guard let data = try SafeFile.read(path, limit: Int.max) else { continue }
            var keep: [Data.SubSequence] = [], drop: [Data.SubSequence] = []
            for (number, line) in data.split(separator: 0x0A).enumerated() {
                let round = (try? RecordReader.decode(Substring(decoding: line, as: UTF8.self), file: path, line: number + 1))?.round
                if let round, round < firstRound { keep.append(line) } else { drop.append(line) }
            }
            guard !drop.isEmpty else { continue }
            try FileManager.default.createDirectory(at: aside, withIntermediateDirectories: true)
            let asideFile = aside.appendingPathComponent("\(entry.label).jsonl")
            let old = (try SafeFile.read(asideFile.path, limit: Int.max)) ?? Data()
            try (old + Data(drop.joined(separator: [0x0A])) + Data([0x0A])).write(to: asideFile, options: .atomic)
            try (keep.isEmpty ? Data() : Data(keep.joined(separator: [0x0A])) + Data([0x0A])).write(to: URL(fileURLWithPath: path), options: .atomic)
            log("\(entry.label): \(drop.count) record(s) of unfinished round \(firstRound) set aside in \(RecordIntake.interruptedFolder)/")
        }
    }
}
