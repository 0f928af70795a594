import Foundation
import Launch
import Records
import Spawn
import Testing
@testable import Suite

/// A launcher that runs `startup: phases` probes as `podgap run startup` would: it checks that it
/// was asked for the probe, builds the probe's words as a launcher does, and writes the startup
/// record the ranks would (its phases, its pulled bytes) where they would write it.
final class StartupProbeLauncher: EnvironmentLauncher {
    let folder: URL
    /// Each launch's argv after `podgap run`, as the ranks would get it.
    private(set) var argv: [[String]] = []

    init(folder: URL) { self.folder = folder }

    func setUp(_ environment: SuiteFile.EnvironmentEntry, interrupted: () -> Bool) -> SetUpResult { .ready }

    func launch(_ request: LaunchRequest) throws -> LaunchResult {
        let output = folder.appendingPathComponent("launch-output")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let out = output.appendingPathComponent(request.outName).path
        let words = request.arguments(out: out, probe: StartupHandover(launched: 101, phases: [(.submit, 0.5), (.pulled, 0.5)], pulledBytes: 7,
                                                                        unpackedBytes: 0)
            .arguments(start: 100, launch: "pods"))
        argv.append(words)
        func value(_ option: String) -> String { words[words.firstIndex(of: option)! + 1] }
        let phases = request.startupProbe ? StartupPhase.parse(value("--probe-phases"))! + [(.wireUp, 0.4), (.firstCollective, 0.1)] : []
        let point = MeasuredPoint(parameters: ["launch": "pods"], warmup: 0, iterations: 1, samples: [1.4],
                                  throughput: request.startupProbe ? [StartupPhase.pulledBytesKey: Double(value("--probe-pulled-bytes"))!,
                                                                      StartupPhase.unpackedBytesKey: Double(value("--probe-unpacked-bytes"))!] : [:],
                                  phases: Dictionary(uniqueKeysWithValues: phases.map { ($0.0.rawValue, [$0.1]) }), verified: true, verification: "sum")
        let environment = Environment(name: value("--label"), launcher: .init(kind: "mpirun"), container: nil, network: "loopback",
                                      transport: .init(pml: "ob1", btl: "vader,self"), hostname: "n1", hostnames: ["n1"], cores: 2,
                                      cpuset: "0-1", cgroup: .init(), kernel: "Linux", mpiLibrary: "Open MPI", podgapVersion: "0",
                                      gitCommit: nil, topology: nil, bindings: nil, ranksPerNode: 2, oversubscribed: false,
                                      yieldWhenIdle: false, yieldSetBy: nil)
        // The ranks stamp their own trial; the suite's round and position replace what they wrote.
        let record = Record(run: value("--run-id"), kernel: words[0], ranks: 2, trial: 99, measurement: point, keepingSamples: false,
                            environment: environment)
        try RecordWriter(appendingTo: out).append(record)
        return LaunchResult(outcome: ChildOutcome(status: 0, seconds: 2.5), records: [out], podWritten: false)
    }

    func tearDown() {}
}

@Suite final class StartupPhasesSuiteTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-phases-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    static func parse(_ text: String) throws -> SuiteFile { try SuiteFile.parse(text, file: "s.yaml", kernels: FakeKernels()) }

    /// `startup: phases` needs no kernel, keeps `startup` on, and refuses combined launches (a
    /// start-up in phases is a launch of its own) and values other than true, false and phases.
    @Test func startupPhasesIsReadAndItsClashesRefusedAtTheirLine() throws {
        let suite = try Self.parse("startup: phases\nenvironments: [native-shm, native-2node, pod-overlay]\n")
        #expect(suite.startup && suite.phases && suite.kernels.isEmpty)
        #expect(suite.startupProbe(suite.environments[0]) == ["startup", "--network", "loopback"])
        #expect(suite.startupProbe(suite.environments[1]) == ["startup", "--network", "host", "--no-containers"])
        #expect(suite.startupProbe(suite.environments[2]) == ["startup", "--network", "overlay"])
        let plain = try Self.parse("environments: [native-shm]\nkernels: [allreduce]\n")
        #expect(plain.startup && !plain.phases)
        let cases: [(String, String)] = [
            ("startup: phases\nenvironments:\n  - native-shm: {launch: combined}\n",
             "s.yaml:1: startup: startup: phases times each start-up in a launch of its own, which native-shm's launch: combined has not; use launch: per-kernel"),
            ("startup: maybe\nenvironments: [native-shm]\nkernels: [allreduce]\n", "s.yaml:1: startup: 'maybe' must be true, false or phases"),
            ("startup: true\nenvironments: [native-shm]\n", "s.yaml:1: kernels: missing; list the kernels to run, allowed: allreduce"),
        ]
        for (text, message) in cases {
            #expect(throws: SuiteError(message), "\(text)") { try Self.parse(text) }
        }
    }

    /// Each round's probe launch is asked as a startup probe, gets the launcher's handover words,
    /// and leaves two records: the suite's "launch" record (its wall time) and the ranks' startup
    /// record with its phases and bytes, both marked with the round and the position.
    @Test func eachRoundKeepsTheProbesPhasesBesideItsLaunchTime() throws {
        let suite = try Self.parse("name: t\nstartup: phases\nenvironments: [native-shm]\nkernels: [allreduce]\n")
        let launcher = StartupProbeLauncher(folder: folder)
        let runner = SuiteRunner(suite: suite, folder: folder, settings: .init(rounds: 2, seed: 1), passesRound: false, launcher: launcher,
                                 availability: FakeAvailability(), handlesSignals: false, log: { _ in })
        let outcome = try runner.run()
        #expect(outcome.rounds == 2)
        let probes = launcher.argv.filter { $0.first == "startup" }
        #expect(probes.count == 2)
        for words in probes {
            #expect(Array(words.prefix(3)) == ["startup", "--network", "loopback"])
            let tail = Array(words.suffix(12))
            #expect(tail == ["--probe-start", "100.000000", "--probe-launch", "pods", "--probe-launched", "101.000000",
                             "--probe-phases", "submit=0.500000,pulled=0.500000", "--probe-pulled-bytes", "7",
                             "--probe-unpacked-bytes", "0"])
        }
        // The allreduce kernel's launches carry no probe words.
        #expect(launcher.argv.filter { $0.first == "allreduce" }.allSatisfy { !$0.contains("--probe-start") })

        let path = folder.appendingPathComponent("native-shm.jsonl").path
        let records = try RecordReader.read(path).filter { $0.kernel != "allreduce" }
        #expect(records.map(\.kernel) == ["launch", "startup", "launch", "startup"])
        #expect(records.map(\.round) == [1, 1, 2, 2])
        #expect(records.map(\.trial) == [1, 1, 2, 2])
        for record in records where record.kernel == "startup" {
            #expect(record.phases.keys.sorted() == ["first_allreduce", "pulled", "submit", "wireup"])
            #expect(record.throughput[StartupPhase.pulledBytesKey] == 7 && record.throughput[StartupPhase.unpackedBytesKey] == 0)
            #expect(record.position == 1)
        }
        for record in records where record.kernel == "launch" {
            #expect(record.seconds.p50 == 2.5 && record.phases.isEmpty && record.params["probe"] == .string("startup"))
        }
    }
}
