import Foundation
import Records
import Testing
@testable import Suite

/// `podgap suite`'s settings and folder, without running anything: refusals, what a resume keeps
/// from its journal, the dry run's plan, and the results folder.
@Suite final class SuiteSessionTests {
    let folder: URL
    let file: String

    deinit { try? FileManager.default.removeItem(at: folder) }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-session-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        file = folder.appendingPathComponent("s.yaml").path
        try "name: s\nrounds: 2\nseed: 3\nenvironments: [native-shm]\nkernels: [allreduce]\n".write(toFile: file, atomically: true, encoding: .utf8)
    }

    func request(file: String? = nil, resume: String? = nil, rounds: Int? = nil, budget: String? = nil,
                 targetCI: Double = 10, seed: UInt64? = nil) -> SuiteSession.Request {
        SuiteSession.Request(file: file, resume: resume, results: folder.appendingPathComponent("results").path,
                             rounds: rounds, budget: budget, targetCI: targetCI, seed: seed)
    }

    func refusal(_ request: SuiteSession.Request) -> String? {
        do { _ = try SuiteSession(request, kernels: FakeKernels()); return nil } catch { return (error as? SuiteError)?.description }
    }

    @Test func badRequestsAreOneLineSayingWhatToDo() {
        #expect(refusal(request(file: file, rounds: 0)) == "--rounds 0: run at least 1 round")
        #expect(refusal(request(file: file, targetCI: -1)) == "--target-ci -1: give a width in points above 0, e.g. 10")
        #expect(refusal(request(file: file, budget: "10x")) == "--budget 10x: not a duration; use seconds, or a number with s, m or h (e.g. 10m)")
        #expect(refusal(request()) == "name a suite file (e.g. benchmarks/suites/quick.yaml) or --resume FOLDER")
        #expect(refusal(request(resume: folder.path)) == "--resume \(folder.path): no suite.yaml there; name a folder written by podgap suite")
        #expect(refusal(request(file: folder.appendingPathComponent("none.yaml").path)) == "\(folder.path)/none.yaml: cannot read the suite file")
    }

    @Test func theFilesSettingsUnlessTheRequestSaysOtherwise() throws {
        let plain = try SuiteSession(request(file: file), kernels: FakeKernels())
        #expect(plain.settings == SuiteRunner.Settings(rounds: 2, seed: 3))
        #expect(plain.plan == ["# seed 3", "native-shm-startup-r1", "native-shm-k0-allreduce-r1", "native-shm-startup-r2", "native-shm-k0-allreduce-r2"])
        let asked = try SuiteSession(request(file: file, rounds: 1, seed: 9), kernels: FakeKernels())
        #expect(asked.settings == SuiteRunner.Settings(rounds: 1, seed: 9))
        // A budget runs rounds until the target; the file's rounds no longer bound it.
        let budget = try SuiteSession(request(file: file, budget: "2m", targetCI: 4), kernels: FakeKernels())
        #expect(budget.settings == SuiteRunner.Settings(rounds: nil, seed: 3, budget: 120, targetCI: 4))
    }

    @Test func aResumeKeepsTheSettingsItStartedWith() throws {
        let results = try SuiteSession(request(file: file), kernels: FakeKernels()).prepareFolder { Self.machine }
        var started = Journal.Event(.suite)
        started.seed = 42; started.budget = 300; started.targetCI = 7
        try Journal(path: results.appendingPathComponent(SuiteRunner.journalFile).path).append(started)
        let resumed = try SuiteSession(request(resume: results.path), kernels: FakeKernels())
        #expect(resumed.resumed?.path == results.path)
        #expect(resumed.settings == SuiteRunner.Settings(rounds: nil, seed: 42, budget: 300, targetCI: 7))
        // A new budget on the command line brings its own target.
        let retargeted = try SuiteSession(request(resume: results.path, budget: "1m", targetCI: 3), kernels: FakeKernels())
        #expect(retargeted.settings == SuiteRunner.Settings(rounds: nil, seed: 42, budget: 60, targetCI: 3))
        // The resumed folder is the results folder; environment.json is not probed again.
        #expect(try resumed.prepareFolder { Issue.record("probed the machine again"); return Self.machine }.path == results.path)
    }

    @Test func aJournalWithoutSettingsIsRefused() throws {
        let results = try SuiteSession(request(file: file), kernels: FakeKernels()).prepareFolder { Self.machine }
        try Journal(path: results.appendingPathComponent(SuiteRunner.journalFile).path).append(Journal.Event(.round))
        #expect(refusal(request(resume: results.path)) == "--resume \(results.path): its journal was written by an older podgap (no settings line); start the suite afresh")
    }

    @Test func aNewFolderHoldsTheSuiteAsRunAndTheMachine() throws {
        let session = try SuiteSession(request(file: file), kernels: FakeKernels())
        let results = try session.prepareFolder(now: Date(timeIntervalSince1970: 0)) { Self.machine }
        #expect(results.lastPathComponent == "s-19700101T000000")
        #expect(try String(contentsOf: results.appendingPathComponent("suite.yaml"), encoding: .utf8) == session.text)
        let machine = try JSONDecoder().decode(Records.Environment.self, from: Data(contentsOf: results.appendingPathComponent("environment.json")))
        #expect(machine.name == "native-shm" && machine.hostname == "h")
    }

    static let machine = Records.Environment(
        name: "native-shm", launcher: .init(kind: "mpirun"), container: nil, network: "loopback",
        transport: .init(pml: "ob1", btl: "vader"), hostname: "h", hostnames: ["h"], cores: 2, cpuset: "0-1", cgroup: .init(),
        kernel: "Linux test", mpiLibrary: "Open MPI v4.1.4", podgapVersion: "0.1.0", gitCommit: nil, topology: nil, bindings: nil,
        ranksPerNode: 2, oversubscribed: false, yieldWhenIdle: false, yieldSetBy: nil)
}
