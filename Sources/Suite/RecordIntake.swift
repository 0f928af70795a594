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

    /// Reads what `launch` wrote: each of its kernels' records, by the kernel's run id (only the
    /// launch's own records: whatever else a pod put in the file stays out).
    func read(_ launch: PlannedLaunch, from result: LaunchResult) throws -> [String: [Record]] {
        let ids = Set(launch.kernels.map { launch.id(of: $0) })
        var records: [String: [Record]] = [:], foreign = 0, bad = 0
        for source in result.records {
            guard let data = try SafeFile.read(source, limit: RecordIntake.launchRecordLimit) else { continue }
            for (number, line) in data.split(separator: 0x0A).enumerated() {
                guard let record = try? RecordReader.decode(Substring(decoding: line, as: UTF8.self), file: source, line: number + 1) else {
                    bad += 1
                    continue
                }
                guard ids.contains(record.run) else { foreign += 1; continue }
                records[record.run, default: []].append(record)
            }
            // Host processes wrote in the suite's own folder: that file has served its purpose.
            if !result.podWritten { try? FileManager.default.removeItem(atPath: source) }
        }
        if bad + foreign > 0 { log("\(launch.id): passed over \(bad) unreadable and \(foreign) foreign line(s) in its output") }
        return records
    }

    /// Appends `kernel`'s records from `launch`, marked with the round and the position, to the
    /// environment's records file; the startup probe becomes one "launch" record of the launch's
    /// wall time (`launchSeconds`), and a startup probe's record (`startup: phases`) is kept too.
    /// Returns how many records were kept; throws when there are none.
    func keep(_ kernel: PlannedLaunch.PlannedKernel, of launch: PlannedLaunch, records: [Record], launchSeconds: Double,
              launchCounters: LaunchCounters?, kernelCounters: LaunchCounters? = nil) throws -> Int {
        guard !records.isEmpty else { throw SuiteError("wrote no records") }
        let writer = try RecordWriter(appendingTo: folder.records(launch.environment.label))
        if kernel.kernel == nil {
            let probe = records[0]
            // The probe is a tiny allreduce, or under `startup: phases` `run startup`'s probe (its record has phases).
            let point = MeasuredPoint(parameters: ["probe": .string(probe.phases.isEmpty ? "allreduce-4B-x1" : probe.kernel)], warmup: 0, iterations: 1,
                                      samples: [launchSeconds], verified: probe.verified,
                                      verification: "wall time from launch to exit, measured by podgap suite")
            let record = Record(run: launch.id(of: kernel), kernel: SuiteRunner.launchKernel, descriptor: SuiteRunner.launchDescriptor,
                                ranks: probe.ranks, trial: launch.round, round: launch.round, position: launch.position,
                                measurement: point, keepingSamples: false, environment: probe.environment)
            try writer.append(record)
            // `startup: phases`: the probe's own startup record, with the launch's phases, is kept beside it.
            for var timed in records where !timed.phases.isEmpty {
                timed.trial = launch.round
                timed.round = launch.round
                timed.position = launch.position
                try writer.append(timed)
            }
            return 1 + records.filter { !$0.phases.isEmpty }.count
        }
        for var record in records {
            // The suite knows which round and place it ran the launch in; the record says so
            // whatever the writer did.
            record.trial = launch.round
            record.round = launch.round
            record.position = launch.position
            // What the nodes counted over the launch, beside what its ranks counted per point.
            record.counters?.launch = launchCounters
            // And over this kernel's own part of it, where the launch ran several.
            record.counters?.kernelPart = kernelCounters
            try writer.append(record)
        }
        return records.count
    }

    /// The launch time a launch stands for: its wall seconds, less the time its other kernels
    /// measured after the startup probe. Rank 0 stamps every record as it writes it, so the
    /// kernels' share is the span from the probe's record to the last kernel record, on rank 0's
    /// clock alone; what is left is the start-up, the probe and the exit, as a launch of the probe
    /// alone would take. Nil when a stamp cannot be read.
    static func launchSeconds(wall: Double, probe: [Record], kernels: [Record]) -> Double? {
        guard !kernels.isEmpty else { return wall }
        let ends = kernels.compactMap { Record.date($0.time) }
        guard ends.count == kernels.count, let end = ends.max(), let start = probe.last.flatMap({ Record.date($0.time) }) else { return nil }
        return wall - max(0, end.timeIntervalSince(start))
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
