import Foundation
import Launch
import Records
import Spawn
import Testing
@testable import Suite

/// A launcher that starts nothing: it logs every call and writes, for each launch, the record a
/// kernel would write, where the ranks would write it, so that record intake reads real files.
final class RecordingLauncher: EnvironmentLauncher {
    let folder: URL
    /// Everything asked of it, in order: "setUp LABEL", "launch OUTNAME", "tearDown".
    private(set) var calls: [String] = []
    /// The run ids each launch was asked to run, in order.
    private(set) var ran: [[String]] = []
    /// Failed launches still to give, by run id (mpirun exits 255 when MPI does not start).
    var failures: [String: Int] = [:]
    /// Set-ups that fail, by label, with the reason.
    var refusedSetUps: [String: String] = [:]
    /// Seconds each launch takes.
    var seconds = 0.0
    /// Called at the start of every launch with its run id (to stop the suite mid-round).
    var onLaunch: (String) -> Void = { _ in }
    /// The counters its records carry, and the nodes' counters its launches return.
    var recordCounters: Counters?
    var launchCounters: LaunchCounters?

    init(folder: URL) { self.folder = folder }

    func setUp(_ environment: SuiteFile.EnvironmentEntry, interrupted: () -> Bool) -> SetUpResult {
        calls.append("setUp \(environment.label)")
        return refusedSetUps[environment.label].map(SetUpResult.failed) ?? .ready
    }

    func launch(_ request: LaunchRequest) throws -> LaunchResult {
        calls.append("launch \(request.outName)")
        ran.append(request.kernels.map { $0[$0.firstIndex(of: "--run-id")! + 1] })
        if seconds > 0 { usleep(UInt32(seconds * 1e6)) }
        let output = folder.appendingPathComponent("launch-output")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let out = output.appendingPathComponent(request.outName).path
        // The kernels in order, as `podgap run sequence` runs them: a failure ends the launch, and
        // what the kernels before it wrote stays written.
        for run in request.kernels {
            func value(_ option: String) -> String { run[run.firstIndex(of: option)! + 1] }
            let runID = value("--run-id")
            onLaunch(runID)
            if request.interrupted() {
                return LaunchResult(outcome: ChildOutcome(status: 143, seconds: 0.01, interrupted: true), records: [out], podWritten: false)
            }
            if let left = failures[runID], left > 0 {
                failures[runID] = left - 1
                return LaunchResult(outcome: ChildOutcome(status: 255, seconds: 0.01, lastLine: "MPI did not start"), records: [out], podWritten: false)
            }
            let point = MeasuredPoint(parameters: ["bytes": 4], warmup: 0, iterations: 1, samples: [1e-6], verified: true, verification: "sum")
            let environment = Environment(name: value("--label"), launcher: .init(kind: "mpirun"), container: nil, network: "loopback",
                                          transport: .init(pml: "ob1", btl: "vader,self"), hostname: "n1", hostnames: ["n1"], cores: 2,
                                          cpuset: "0-1", cgroup: .init(), kernel: "Linux", mpiLibrary: "Open MPI", podgapVersion: "0",
                                          gitCommit: nil, topology: nil, bindings: nil, ranksPerNode: 2, oversubscribed: false,
                                          yieldWhenIdle: false, yieldSetBy: nil)
            var record = Record(run: runID, kernel: run[0], ranks: 2, trial: Int(value("--trial"))!, measurement: point,
                                keepingSamples: false, environment: environment)
            record.counters = recordCounters
            try RecordWriter(appendingTo: out).append(record)
            if request.kernels.count > 1 {
                try AppendingFile(request.log, followingLinks: false).write(Data((KernelSequence.finishedLine(runID: runID) + "\n").utf8))
            }
        }
        return LaunchResult(outcome: ChildOutcome(status: 0, seconds: 0.05), records: [out], podWritten: false,
                            launchCounters: launchCounters)
    }

    func tearDown() { calls.append("tearDown") }
}

/// What the machine lacks, as the CLI's modules would answer.
struct FakeAvailability: EnvironmentAvailability {
    var rdma: String?
    var slurm: String?
    var pods: String?
    var hugePages: String?
    func rdmaUnavailable() -> String? { rdma }
    func hugePagesUnavailable() -> String? { hugePages }
    func slurmUnavailable() -> String? { slurm }
    func podsUnavailable() -> String? { pods }
}

/// The round loop, driven through a recording launcher: retry, skip, interrupt, resume, budget
/// and target, each read back from the journal and the records files.
@Suite final class RoundLoopTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-rounds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// A fresh instance per test: what it made goes with it.
    deinit { try? FileManager.default.removeItem(at: folder) }

    static func suite(_ environments: [String] = ["native-shm", "native-tcp"]) throws -> SuiteFile {
        try SuiteFile.parse("""
            name: t
            ranks: 2
            timeout: 1m
            startup: false
            environments: [\(environments.joined(separator: ", "))]
            kernels:
              - allreduce:
                  sizes: 4:8
            """, file: "t.yaml", kernels: FakeKernels())
    }

    /// The startup probe and two kernels, launched `shape`.
    static func threeKernels(_ shape: String) throws -> SuiteFile {
        try SuiteFile.parse("""
            name: t
            ranks: 2
            timeout: 1m
            launch: \(shape)
            environments: [native-shm, native-tcp]
            kernels:
              - allreduce: {sizes: "4:8"}
              - allreduce: {sizes: "16"}
            """, file: "t.yaml", kernels: FakeKernels())
    }

    func runner(_ suite: SuiteFile, _ launcher: RecordingLauncher, settings: SuiteRunner.Settings,
                availability: FakeAvailability = FakeAvailability(),
                precision: ((URL) -> SuiteRunner.Precision?)? = nil) -> SuiteRunner {
        SuiteRunner(suite: suite, folder: folder, settings: settings, passesRound: false, launcher: launcher,
                    availability: availability, precision: precision, handlesSignals: false, log: { _ in })
    }

    /// Each records file parsed back: (run id, round) per record.
    func records(_ label: String, in folder: URL? = nil) throws -> [(run: String, round: Int?)] {
        let path = (folder ?? self.folder).appendingPathComponent("\(label).jsonl").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").enumerated().map {
            let record = try RecordReader.decode(Substring($1), file: path, line: $0 + 1)
            return (record.run, record.round)
        }
    }

    var journal: [Journal.Event] { Journal(path: folder.appendingPathComponent(SuiteRunner.journalFile).path).events() }

    @Test func aFailedLaunchIsTriedOnceMoreAndCountedOnce() throws {
        let launcher = RecordingLauncher(folder: folder)
        launcher.failures["native-shm-k0-allreduce-r1"] = 1
        let outcome = try runner(try Self.suite(), launcher, settings: .init(rounds: 2, seed: 7)).run()
        #expect(outcome.rounds == 2 && outcome.launches == 4 && outcome.skipped.isEmpty)
        #expect(launcher.calls.filter { $0.hasPrefix("launch native-shm-k0-allreduce-r1.") }
                == ["launch native-shm-k0-allreduce-r1.s1-1.jsonl", "launch native-shm-k0-allreduce-r1.s1-2.jsonl"])
        let kept = try records("native-shm")
        #expect(kept.map(\.run) == ["native-shm-k0-allreduce-r1", "native-shm-k0-allreduce-r2"])
        #expect(kept.map(\.round) == [1, 2])
        #expect(journal.filter { $0.event == .launch }.count == 4)
        #expect(journal.last?.event == .stopped && journal.last?.reason == "all 2 rounds ran")
        #expect(launcher.calls.last == "tearDown")
    }

    /// `launch: combined`: one launch per environment and round runs the startup probe and every
    /// kernel; the records are the ones per-kernel launches keep (run ids, kernels, rounds,
    /// positions), the launch time is the launch's wall time less the kernels' span, and the
    /// journal names each kernel with the launch it ran in.
    @Test func aCombinedLaunchRunsTheProbeAndEveryKernelOncePerEnvironmentAndRound() throws {
        let launcher = RecordingLauncher(folder: folder)
        let outcome = try runner(try Self.threeKernels("combined"), launcher, settings: .init(rounds: 2, seed: 7)).run()
        #expect(outcome.rounds == 2 && outcome.launches == 4)
        #expect(launcher.calls.filter { $0.hasPrefix("launch") }.count == 4)
        #expect(launcher.ran.allSatisfy { $0.count == 3 && $0[0].contains("-startup-") && $0[1].contains("-k0-") && $0[2].contains("-k1-") })
        #expect(launcher.calls.contains("launch native-shm-combined-r1.s1-1.jsonl"))
        let events = journal.filter { $0.event == .launch }
        #expect(events.count == 12)
        #expect(events.allSatisfy { $0.launch == "\($0.environment!)-combined-r\($0.round!)" && $0.id!.hasPrefix($0.environment!) })
        let launchTimes = try RecordReader.read(folder.appendingPathComponent("native-shm.jsonl").path).filter { $0.kernel == SuiteRunner.launchKernel }
        #expect(launchTimes.count == 2 && launchTimes.allSatisfy { $0.seconds.p50 > 0.04 && $0.seconds.p50 <= 0.05 })

        // The same suite launched per kernel, same seed: the same records, launch for launch.
        let alone = folder.appendingPathComponent("alone")
        try FileManager.default.createDirectory(at: alone, withIntermediateDirectories: true)
        let perKernel = RecordingLauncher(folder: alone)
        _ = try SuiteRunner(suite: try Self.threeKernels("per-kernel"), folder: alone, settings: .init(rounds: 2, seed: 7), passesRound: false,
                            launcher: perKernel, availability: FakeAvailability(), handlesSignals: false, log: { _ in }).run()
        #expect(perKernel.calls.filter { $0.hasPrefix("launch") }.count == 12)
        for label in ["native-shm", "native-tcp"] {
            func shape(_ folder: URL) throws -> [String] {
                try RecordReader.read(folder.appendingPathComponent("\(label).jsonl").path)
                    .map { "\($0.run) \($0.kernel) \($0.round!) \($0.position!) \($0.trial)" }.sorted()
            }
            #expect(try shape(folder) == shape(alone) && shape(folder).count == 6)
        }
    }

    /// A kernel failing in the middle of a combined launch: the kernels that finished before it
    /// are kept, the rest (the probe among them: the launch did not end well) run once more.
    @Test func aCombinedLaunchFailingPartWayKeepsWhatFinishedAndRetriesTheRest() throws {
        let launcher = RecordingLauncher(folder: folder)
        launcher.failures["native-shm-k1-allreduce-r1"] = 1
        let outcome = try runner(try Self.threeKernels("combined"), launcher, settings: .init(rounds: 1, seed: 7)).run()
        #expect(outcome.skipped.isEmpty)
        let shm = launcher.ran.filter { $0[0].hasPrefix("native-shm") }
        #expect(shm == [["native-shm-startup-r1", "native-shm-k0-allreduce-r1", "native-shm-k1-allreduce-r1"],
                        ["native-shm-startup-r1", "native-shm-k1-allreduce-r1"]])
        #expect(try records("native-shm").map(\.run) == ["native-shm-k0-allreduce-r1", "native-shm-startup-r1", "native-shm-k1-allreduce-r1"])
        #expect(journal.filter { $0.event == .launch && $0.environment == "native-shm" }.map(\.launch)
                == ["native-shm-combined-r1", "native-shm-combined-r1", "native-shm-combined-r1"])
    }

    /// Failing twice: the finished kernels stay kept, the rest are journaled as failed for that
    /// round, and the environment runs no later round.
    @Test func aCombinedLaunchFailingTwiceMarksTheRestFailed() throws {
        let launcher = RecordingLauncher(folder: folder)
        launcher.failures["native-shm-k1-allreduce-r1"] = 2
        let outcome = try runner(try Self.threeKernels("combined"), launcher, settings: .init(rounds: 2, seed: 7)).run()
        #expect(outcome.skipped.map(\.environment) == ["native-shm"])
        #expect(outcome.skipped.first?.reason
                == "round 1, startup+allreduce: failed (exit 255): MPI did not start [log: logs/native-shm-combined-r1.log]; later rounds not run")
        #expect(try records("native-shm").map(\.run) == ["native-shm-k0-allreduce-r1"])
        #expect(journal.filter { $0.event == .failed }.map(\.id) == ["native-shm-startup-r1", "native-shm-k1-allreduce-r1"])
        #expect(try records("native-tcp").map(\.round) == [1, 1, 1, 2, 2, 2])
    }

    /// Ctrl-C during a combined launch, then resume: the interrupted round runs again whole.
    @Test func anInterruptedCombinedSuiteResumes() throws {
        let suite = try Self.threeKernels("combined")
        let launcher = RecordingLauncher(folder: folder)
        let first = runner(suite, launcher, settings: .init(rounds: 2, seed: 7))
        let second = Schedule.round(2, of: suite, seed: 7)[0]
        launcher.onLaunch = { if $0 == second.id(of: second.kernels[1]) { first.interrupt() } }
        #expect(throws: SuiteError.self) { _ = try first.run() }
        #expect(journal.last?.during == "round 2, \(second.id)")
        let outcome = try runner(suite, RecordingLauncher(folder: folder), settings: .init(rounds: 2, seed: 7)).run()
        #expect(outcome.rounds == 2)
        for label in ["native-shm", "native-tcp"] { #expect(try records(label).map(\.round) == [1, 1, 1, 2, 2, 2]) }
    }

    /// Record intake puts the nodes' counters of each launch beside the ranks' own, in every
    /// record of the launch that carries counters, and leaves records without counters alone.
    @Test func intakeAttachesTheLaunchCountersToEveryRecordWithCounters() throws {
        let launcher = RecordingLauncher(folder: folder)
        let pointCounters = Counters(values: ["net.eth0.tx_packets": .init(sum: 6, max: 3, unit: "packets", source: "/proc/net/dev eth0", count: 2)])
        let nodes = LaunchCounters(values: ["net.flannel.1.tx_bytes": .init(sum: 7440, max: 3720, unit: "bytes", source: "/proc/net/dev in netns x flannel.1", count: 2)],
                                   unavailable: ["node.softirq_usec": "/proc/stat is not readable"])
        launcher.recordCounters = pointCounters
        launcher.launchCounters = nodes
        _ = try runner(try Self.suite(["native-shm"]), launcher, settings: .init(rounds: 2, seed: 7)).run()
        let path = folder.appendingPathComponent("native-shm.jsonl").path
        let read = try RecordReader.read(path)
        #expect(read.count == 2)
        #expect(read.allSatisfy { $0.counters?.launch == nodes && $0.counters?.values == pointCounters.values })
        // The one reader's facts carry them too (what the WHY section reads).
        #expect(try RecordReader.facts(path).facts.allSatisfy { $0.counters?.launch == nodes })

        let bare = RecordingLauncher(folder: folder.appendingPathComponent("bare"))
        bare.launchCounters = nodes
        let bareFolder = folder.appendingPathComponent("bare-results")
        try FileManager.default.createDirectory(at: bareFolder, withIntermediateDirectories: true)
        _ = try SuiteRunner(suite: try Self.suite(["native-shm"]), folder: bareFolder, settings: .init(rounds: 1, seed: 7), passesRound: false,
                            launcher: bare, availability: FakeAvailability(), precision: nil, handlesSignals: false, log: { _ in }).run()
        #expect(try RecordReader.read(bareFolder.appendingPathComponent("native-shm.jsonl").path).allSatisfy { $0.counters == nil })
    }

    @Test func anEnvironmentFailingTwiceIsSkippedForTheRestOfTheSuite() throws {
        let launcher = RecordingLauncher(folder: folder)
        launcher.failures["native-tcp-k0-allreduce-r1"] = 2
        let outcome = try runner(try Self.suite(), launcher, settings: .init(rounds: 3, seed: 7)).run()
        #expect(outcome.rounds == 3 && outcome.launches == 3)
        #expect(launcher.calls.filter { $0.hasPrefix("launch native-tcp") }.count == 2, "two tries, then no later round")
        let skipped = try SkippedEnvironment.read(folder.appendingPathComponent(SkippedEnvironment.file).path)
        #expect(skipped.map(\.environment) == ["native-tcp"])
        #expect(skipped.first?.reason == "round 1, allreduce: failed (exit 255): MPI did not start [log: logs/native-tcp-k0-allreduce-r1.log]; later rounds not run")
        #expect(try records("native-tcp").isEmpty)
        #expect(try records("native-shm").map(\.round) == [1, 2, 3])
        #expect(journal.filter { $0.event == .launch }.compactMap(\.environment) == ["native-shm", "native-shm", "native-shm"])
    }

    /// Ctrl-C mid-round: the journal says what was under way, the error says how to go on, and
    /// a resume sets the unfinished round's records aside and runs that round again whole.
    @Test func anInterruptedSuiteResumesAtTheUnfinishedRound() throws {
        let suite = try Self.suite()
        let launcher = RecordingLauncher(folder: folder)
        let first = runner(suite, launcher, settings: .init(rounds: 3, seed: 7))
        let order = Schedule.round(2, of: suite, seed: 7).map(\.id)
        launcher.onLaunch = { if $0 == order[1] { first.interrupt() } }
        #expect {
            _ = try first.run()
        } throws: { error in
            guard let error = error as? SuiteError else { return false }
            return error.interrupted && error.description.contains("podgap suite --resume \(folder.path)")
        }
        let stopped = try #require(journal.last)
        #expect(stopped.event == .interrupted && stopped.during == "round 2, \(order[1])" && stopped.round == 2)
        #expect(Journal(path: folder.appendingPathComponent(SuiteRunner.journalFile).path).state().finished == [1])
        #expect(launcher.calls.last == "tearDown")
        let unfinished = order[0].hasPrefix("native-shm") ? "native-shm" : "native-tcp"
        #expect(try records(unfinished).map(\.round) == [1, 2], "round 2's first launch was kept before Ctrl-C")

        let again = RecordingLauncher(folder: folder)
        let outcome = try runner(suite, again, settings: .init(rounds: 3, seed: 7)).run()
        #expect(outcome.rounds == 3)
        #expect(again.calls.filter { $0.hasPrefix("launch") }.count == 4, "rounds 2 and 3, two environments each")
        #expect(again.calls.contains("launch \(order[0]).s2-1.jsonl"), "the second run's files are named apart from the first's")
        for label in ["native-shm", "native-tcp"] {
            #expect(try records(label).map(\.round) == [1, 2, 3], "\(label): one record per finished round")
        }
        #expect(try records(unfinished, in: folder.appendingPathComponent("interrupted")).map(\.run) == [order[0]])
        #expect(journal.contains { $0.event == .resumed })
    }

    @Test func aBudgetStopsBeforeARoundThatWouldNotFit() throws {
        let launcher = RecordingLauncher(folder: folder)
        launcher.seconds = 0.15
        let outcome = try runner(try Self.suite(), launcher, settings: .init(rounds: nil, seed: 7, budget: 1)).run()
        #expect(outcome.stop == "the time budget (1 s) was spent")
        let rounds = journal.filter { $0.event == .finished }.compactMap(\.seconds)
        #expect((2...3).contains(rounds.count), "rounds of ~0.3 s in a 1 s budget: \(rounds)")
        #expect(rounds.reduce(0, +) <= 1, "no round started that would not fit")
        #expect(try records("native-shm").count == rounds.count)
    }

    /// Intervals narrowing with every round: the suite stops at the first round (from the third)
    /// whose widest interval is within the target.
    @Test func aBudgetRunStopsOnceTheTargetIsReached() throws {
        let launcher = RecordingLauncher(folder: folder)
        let precision: (URL) -> SuiteRunner.Precision? = { folder in
            let rounds = (try? self.records("native-shm", in: folder).count) ?? 0
            return SuiteRunner.Precision(widest: 20 / Double(max(rounds, 1)), headline: "native-tcp allreduce")
        }
        let outcome = try runner(try Self.suite(), launcher, settings: .init(rounds: 10, seed: 7, budget: 600, targetCI: 5),
                                 precision: precision).run()
        #expect(outcome.rounds == 4)
        #expect(outcome.stop == "the target was reached: every headline interval at most 5.0 points wide")
        #expect(journal.last?.event == .stopped && journal.last?.widest == 5)
    }

    static let threeWay = """
        name: t
        ranks: 2
        timeout: 1m
        startup: false
        baseline: native-shm
        environments: [native-shm, native-tcp, native-2node]
        kernels:
          - allreduce:
              sizes: 4:8
        """

    /// After its full rounds (3 here) a budget run spends its rounds on what is still wide: native-2node,
    /// narrow enough, rests; the baseline runs in every round, beside the other; the journal
    /// keeps each round's plan and the widths it was made from.
    @Test func aBudgetRunSpendsItsRoundsWhereIntervalsAreWide() throws {
        let suite = try SuiteFile.parse(Self.threeWay, file: "t.yaml", kernels: FakeKernels())
        let launcher = RecordingLauncher(folder: folder)
        let widths = ["native-tcp": 30.0, "native-2node": 8]
        let precision: (URL) -> SuiteRunner.Precision? = { _ in SuiteRunner.Precision(widest: 30, headline: "native-tcp allreduce", widths: widths) }
        let outcome = try runner(suite, launcher, settings: .init(rounds: 6, seed: 7, budget: 600, targetCI: 10, fullRounds: 3), precision: precision).run()
        #expect(outcome.rounds == 6 && outcome.launches == 3 * 3 + 2 * 3)
        #expect(try records("native-shm").map(\.round) == [1, 2, 3, 4, 5, 6])
        #expect(try records("native-tcp").map(\.round) == [1, 2, 3, 4, 5, 6])
        #expect(try records("native-2node").map(\.round) == [1, 2, 3])
        let plans = journal.filter { $0.event == .round }
        #expect(plans.prefix(3).allSatisfy { $0.order?.count == 3 && $0.widths == nil })
        #expect(plans.dropFirst(3).allSatisfy { Set($0.order ?? []) == ["native-shm", "native-tcp"] && $0.widths == widths })
        // Each launch's position is its place in its round's plan.
        for launch in journal.filter({ $0.event == .launch }) {
            let order = plans.first { $0.round == launch.round }!.order!
            #expect(order[launch.position! - 1] == launch.environment)
        }
        // Without a budget, every round runs every environment.
        let plain = RecordingLauncher(folder: folder.appendingPathComponent("plain"))
        let plainFolder = folder.appendingPathComponent("plain-results")
        try FileManager.default.createDirectory(at: plainFolder, withIntermediateDirectories: true)
        _ = try SuiteRunner(suite: suite, folder: plainFolder, settings: .init(rounds: 5, seed: 7), passesRound: false, launcher: plain,
                            availability: FakeAvailability(), precision: precision, handlesSignals: false, log: { _ in }).run()
        #expect(plain.calls.filter { $0.hasPrefix("launch native-2node") }.count == 5)
    }

    /// Ctrl-C in a round planned from the widths: the resumed suite reads the widths from the
    /// kept records before its first round, and so runs the interrupted round's plan again.
    @Test func aResumedBudgetRunRepeatsTheInterruptedRoundsPlan() throws {
        let suite = try SuiteFile.parse(Self.threeWay, file: "t.yaml", kernels: FakeKernels())
        // The widths the kept records give: native-tcp is wide while fewer than 5 rounds are kept.
        let precision: (URL) -> SuiteRunner.Precision? = { folder in
            let kept = (try? self.records("native-tcp", in: folder).count) ?? 0
            return SuiteRunner.Precision(widest: 30, headline: "native-tcp allreduce",
                                         widths: ["native-tcp": kept < 5 ? 30 : 9, "native-2node": 12])
        }
        let settings = SuiteRunner.Settings(rounds: 6, seed: 7, budget: 600, targetCI: 10, fullRounds: 3)
        let launcher = RecordingLauncher(folder: folder)
        let first = runner(suite, launcher, settings: settings, precision: precision)
        launcher.onLaunch = { if $0.hasSuffix("-r5") { first.interrupt() } }
        #expect(throws: SuiteError.self) { _ = try first.run() }
        let again = RecordingLauncher(folder: folder)
        _ = try runner(suite, again, settings: settings, precision: precision).run()
        let fifth = journal.filter { $0.event == .round && $0.round == 5 }
        #expect(fifth.count == 2 && fifth[0].order == fifth[1].order && fifth[0].widths == fifth[1].widths)
        #expect(Set(fifth[0].order ?? []) == ["native-shm", "native-tcp"], "native-2node (12) is under √2 of native-tcp (30)")
        // Once round 5 is kept, native-tcp is narrow enough (9) and native-2node (12) is the widest.
        #expect(try records("native-2node").map(\.round) == [1, 2, 3, 6])
        #expect(try records("native-tcp").map(\.round) == [1, 2, 3, 4, 5])
        #expect(try records("native-shm").map(\.round) == [1, 2, 3, 4, 5, 6])
    }

    /// /dev/infiniband with only rdma_cm is no adapter: the module that knows says so, and the
    /// RDMA environment is skipped with its words, never launched.
    @Test func environmentsThisMachineCannotRunAreSkippedWithTheModulesReason() throws {
        let launcher = RecordingLauncher(folder: folder)
        let availability = FakeAvailability(rdma: "libibverbs lists no device (is the rdma-core provider for the adapter installed?)")
        let outcome = try runner(try Self.suite(["native-shm", "native-rdma"]), launcher, settings: .init(rounds: 1, seed: 7),
                                 availability: availability).run()
        let skipped = try SkippedEnvironment.read(folder.appendingPathComponent(SkippedEnvironment.file).path)
        #expect(skipped == [SkippedEnvironment(environment: "native-rdma",
                                               reason: "no RDMA devices on this machine: libibverbs lists no device (is the rdma-core provider for the adapter installed?)")])
        #expect(outcome.launches == 1)
        #expect(!launcher.calls.contains { $0.contains("native-rdma") })
    }

    /// Without Slurm only the environment whose own `launcher` is srun is skipped; its mpirun
    /// twin in the same suite runs.
    @Test func anSrunEnvironmentWithoutSlurmIsSkippedBesideItsMpirunTwin() throws {
        let suite = try SuiteFile.parse("""
            name: t
            ranks: 2
            startup: false
            environments:
              - native-shm
              - native-shm: {label: native-srun, launcher: srun}
            kernels: [allreduce]
            """, file: "t.yaml", kernels: FakeKernels())
        let launcher = RecordingLauncher(folder: folder)
        let outcome = try runner(suite, launcher, settings: .init(rounds: 1, seed: 7), availability: FakeAvailability(slurm: "sinfo is not installed")).run()
        #expect(outcome.skipped == [SkippedEnvironment(environment: "native-srun", reason: "no Slurm cluster: sinfo is not installed")])
        #expect(try outcome.launches == 1 && records("native-shm").count == 1)
        #expect(!launcher.calls.contains { $0.contains("native-srun") })
    }

    /// A `hugepages` pod environment where the host has no huge pages reserved is skipped with
    /// the reason (and how to reserve them); the same pods without the knob still run.
    @Test func aHugepagesEnvironmentWithoutReservedPagesIsSkippedWithTheReason() throws {
        let launcher = RecordingLauncher(folder: folder)
        let reason = "hugepages: this host has no huge pages reserved (HugePages_Total 0, Hugepagesize 2048 kB): reserve some as root"
        let suite = try Self.suite(["native-shm", "pod-bridge", "{pod-bridge: {label: pod-bridge-huge, hugepages: true}}"])
        let outcome = try runner(suite, launcher, settings: .init(rounds: 1, seed: 7), availability: FakeAvailability(hugePages: reason)).run()
        #expect(outcome.skipped == [SkippedEnvironment(environment: "pod-bridge-huge", reason: reason)])
        #expect(!launcher.calls.contains { $0.contains("pod-bridge-huge") }, "never brought up nor launched")
        #expect(try records("pod-bridge").count == 1)
        let available = RecordingLauncher(folder: folder.appendingPathComponent("again"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("again"), withIntermediateDirectories: true)
        let ran = try SuiteRunner(suite: suite, folder: folder.appendingPathComponent("again"), settings: .init(rounds: 1, seed: 7),
                                  passesRound: false, launcher: available, availability: FakeAvailability(), precision: nil,
                                  handlesSignals: false, log: { _ in }).run()
        #expect(ran.skipped.isEmpty && available.calls.contains { $0.contains("pod-bridge-huge") })
    }

    @Test func aSetUpThatFailsSkipsItsEnvironment() throws {
        let launcher = RecordingLauncher(folder: folder)
        launcher.refusedSetUps["native-tcp"] = "pods up failed: runc is not installed"
        let outcome = try runner(try Self.suite(), launcher, settings: .init(rounds: 1, seed: 7)).run()
        #expect(outcome.skipped == [SkippedEnvironment(environment: "native-tcp", reason: "pods up failed: runc is not installed")])
        #expect(try records("native-tcp").isEmpty && (try records("native-shm")).count == 1)
    }
}
