import Records
import Foundation
import Testing
@testable import Report

/// Records and facts built in code, with values chosen so that every expected number in
/// the tests can be worked out by hand.
enum Fixtures {
    static func environment(_ name: String, kernel: String = "Linux 6.1 x86_64", mpi: String = "Open MPI v4.1.4") -> Records.Environment {
        Records.Environment(name: name, launcher: .init(kind: "mpirun"), container: nil, network: "loopback",
                              transport: .init(pml: "ob1", btl: "vader"), hostname: "host-a", hostnames: ["host-a"], cores: 2,
                              cpuset: "0-1", cgroup: .init(), kernel: kernel, mpiLibrary: mpi, podgapVersion: "0.1.0",
                              gitCommit: nil, topology: nil, bindings: nil, ranksPerNode: 2, oversubscribed: false,
                              yieldWhenIdle: false, yieldSetBy: nil)
    }

    /// Descriptors as the kernels declare theirs (written out here: the tests must not depend on
    /// the Kernels module).
    static let descriptors: [String: KernelDescriptor] = [
        "allreduce": KernelDescriptor(
            metrics: [.init(key: "seconds", label: "time per call", unit: "seconds", direction: .lowerIsBetter),
                      .init(key: "busbw_gbps", label: "bus bandwidth", unit: "gigabytes_per_second", direction: .higherIsBetter)],
            headlines: [.init(label: "small-message latency", point: .smallest, asRate: false),
                        .init(label: "large-message bandwidth", point: .largest, asRate: true)],
            busFactor: .allreduce, order: 0),
        "train": KernelDescriptor(
            metrics: [.init(key: "seconds", label: "step time", unit: "seconds", direction: .lowerIsBetter),
                      .init(key: "samples_per_second", label: "training rate", unit: "samples_per_second", direction: .higherIsBetter)],
            headlines: [.init(label: "training step (samples/s)", point: .heaviest, asRate: true)], order: 3),
        "halo": KernelDescriptor(
            metrics: [.init(key: "seconds", label: "iteration time", unit: "seconds", direction: .lowerIsBetter)],
            headlines: [.init(label: "halo iteration time", point: .heaviest, asRate: false)], order: 2),
    ]

    static func record(_ environment: String, bytes: Int, trial: Int, seconds: Double, verified: Bool = true,
                       kernel: String = "allreduce") -> Record {
        let measurement = MeasuredPoint(parameters: ["bytes": .number(Double(bytes)), "dtype": "float32", "algorithm": "mpi"],
                                      warmup: 1, iterations: 3, samples: [seconds, seconds, seconds],
                                      verified: verified, verification: verified ? "sum checked" : "rank 1 disagrees")
        return Record(run: "run-\(environment)-\(trial)", kernel: kernel, descriptor: descriptors[kernel], ranks: 2, trial: trial, measurement: measurement,
                      keepingSamples: false, environment: self.environment(environment))
    }

    static func fact(_ environment: String, bytes: Double? = 8, trial: Int, seconds: Double, verified: Bool = true,
                     kernel: String = "allreduce", host: String = "Linux 6.1 x86_64", round: Int? = nil,
                     position: Int? = nil, probe: MachineProbe? = nil) -> RecordFacts {
        RecordFacts(kernel: kernel, parameters: bytes.map { "bytes=\(Int($0)),dtype=float32" } ?? "grid=4x4",
                    bytes: bytes, ranks: 2, trial: trial, round: round, position: position, seconds: seconds,
                    verified: verified, environment: environment, host: host, mpiLibrary: "Open MPI v4.1.4",
                    podgapVersion: "0.1.0", probe: probe, descriptor: descriptors[kernel])
    }

    /// Three trials per environment at two sizes: baseline native-shm 1, 2, 3 us (median 2) at 8 B
    /// and 10, 20, 30 us at 1 KiB; native-tcp exactly four times slower everywhere (no ties).
    static func twoEnvironments() -> [RecordFacts] {
        var facts: [RecordFacts] = []
        for trial in 1...3 {
            let base = Double(trial) * 1e-6
            facts.append(fact("native-shm", bytes: 8, trial: trial, seconds: base))
            facts.append(fact("native-shm", bytes: 1024, trial: trial, seconds: base * 10))
            facts.append(fact("native-tcp", bytes: 8, trial: trial, seconds: base * 4))
            facts.append(fact("native-tcp", bytes: 1024, trial: trial, seconds: base * 40))
        }
        return facts
    }

    /// The running test's own folder, from the `.temporaryFolder` trait.
    @TaskLocal static var folder: URL?

    /// Writes `contents` to `name` in the running test's folder, which the `.temporaryFolder` trait
    /// removes when the test ends.
    static func temporaryFile(_ name: String, _ contents: String) throws -> String {
        guard let folder else { throw FixtureError("Fixtures.temporaryFile needs the .temporaryFolder trait on its suite or test") }
        let path = folder.appendingPathComponent(name).path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func jsonLine(_ record: Record) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A folder of its own for each test case (`Fixtures.folder`), removed when the case ends,
/// whatever it left there.
struct TemporaryFolderTrait: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else { return try await function() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await Fixtures.$folder.withValue(folder) { try await function() }
    }
}

extension Trait where Self == TemporaryFolderTrait {
    static var temporaryFolder: Self { Self() }
}
