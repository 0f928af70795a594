import Config
import Foundation
import Records
import Testing
@testable import Suite

/// `podgap recommend --mpijob` from a suite folder made in code: records written as JSON Lines
/// (read back by the one reader) and the suite.yaml beside them, the manifest checked by
/// scripts/check-mpijob through the Kubernetes client library (python3-kubernetes).
@Suite struct RecommendationTests {
    /// Per round r the baseline takes 10 us x (1 + r/100); each environment a fixed multiple.
    static let environments: [(label: String, entry: String, network: String, knobs: Knobs?, ratio: Double)] = [
        ("native-2node", "native-2node", "host", nil, 1),
        ("pod-overlay", "pod-overlay", "overlay", nil, 2),
        ("pod-host", "pod-host", "host", nil, 1.2),
        ("pod-overlay-slots", "pod-overlay: {label: pod-overlay-slots, slots: 2}", "overlay", Knobs(slots: 2), 1.1),
        ("pod-overlay-limit", "pod-overlay: {label: pod-overlay-limit, cpu-limit: 0.9}", "overlay", Knobs(cpuLimit: 0.9), 5),
        ("pod-overlay-guaranteed", "pod-overlay: {label: pod-overlay-guaranteed, guaranteed: true}", "overlay", Knobs(guaranteed: true), 1.5),
        ("pod-overlay-unconfined", "pod-overlay: {label: pod-overlay-unconfined, seccomp: unconfined}", "overlay", Knobs(seccomp: .unconfined), 1.8),
        ("pod-overlay-jumbo", "pod-overlay: {label: pod-overlay-jumbo, mtu: 9000}", "overlay", Knobs(mtu: 9000), 1.9),
    ]

    static func folder(environments: [(label: String, entry: String, network: String, knobs: Knobs?, ratio: Double)] = environments) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-recommend-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for side in environments {
            let writer = try RecordWriter(appendingTo: "\(folder)/\(side.label).jsonl")
            for round in 1...8 {
                let seconds = 1e-5 * (1 + Double(round) / 100) * side.ratio
                let point = MeasuredPoint(parameters: ["bytes": .number(4)], warmup: 1, iterations: 2, samples: [seconds, seconds],
                                          verified: true, verification: "sum checked")
                var record = Record(run: "r\(round)", kernel: "allreduce", ranks: 2, trial: round, round: round, position: 1,
                                    measurement: point, keepingSamples: false,
                                    environment: Environment(name: side.label, launcher: .init(kind: "pod"), container: nil,
                                                             network: side.network, transport: .init(pml: "ob1", btl: "tcp,self"),
                                                             hostname: "h", hostnames: ["h"], cores: 2, cpuset: "0-1", cgroup: .init(),
                                                             kernel: "Linux test", mpiLibrary: "Open MPI v4.1.4", podgapVersion: "0.1.0",
                                                             gitCommit: nil, topology: nil, bindings: nil, ranksPerNode: 1,
                                                             oversubscribed: false, yieldWhenIdle: false, yieldSetBy: nil))
                record.environment.knobs = side.knobs
                try writer.append(record)
            }
        }
        let suite = "name: knobs\nranks: 2\nbaseline: native-2node\nenvironments:\n"
            + environments.map { "  - \($0.entry)\n" }.joined()
            + "kernels:\n  - allreduce:\n      sizes: \"4\"\n      iterations: \"200\"\n"
        try suite.write(toFile: "\(folder)/suite.yaml", atomically: true, encoding: .utf8)
        return folder
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// scripts/check-mpijob over `path`: its exit status and what it printed.
    static func check(_ path: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = repository.appendingPathComponent("scripts/check-mpijob")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// The MPIJob `recommend --mpijob` writes for a suite folder of `environments`, as
    /// scripts/check-mpijob (which must accept it) saw it, and read back as YAML.
    static func checkedJob(_ environments: [(label: String, entry: String, network: String, knobs: Knobs?, ratio: Double)] = environments)
        throws -> (text: String, job: ConfigValue, path: String, output: String) {
        let folder = try Self.folder(environments: environments)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = try Recommendation(folder: folder, kernels: FakeKernels()).mpiJobs()
        let path = folder + "/mpijob.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let checked = try Self.check(path)
        #expect(checked.status == 0, "\(checked.output)\n\(text)")
        return (text, try #require(try ConfigValue.document(text, file: path)), path, checked.output)
    }

    @Test func theKnobsThatHelpedAreAppliedEachWithItsEffectAndTheClientLibraryAcceptsTheJob() throws {
        let (text, job, path, output) = try Self.checkedJob()
        #expect(output == "\(path): 1 MPIJob(s) valid\n")

        // Read back as YAML: slots 2 make one worker of two ranks; Guaranteed's whole CPUs.
        let spec = try #require(job.field("spec"))
        #expect(try spec.field("slotsPerWorker")?.integer(atLeast: 1) == 2)
        let worker = try #require(spec.field("mpiReplicaSpecs")?.field("Worker"))
        #expect(try worker.field("replicas")?.integer(atLeast: 0) == 1)
        let pod = try #require(worker.field("template")?.field("spec"))
        #expect(try pod.field("hostNetwork")?.flag() == true)
        #expect(try pod.field("dnsPolicy")?.text() == "ClusterFirstWithHostNet")
        #expect(try pod.field("securityContext")?.field("seccompProfile")?.field("type")?.text() == "Unconfined")
        let container = try #require(try pod.field("containers")?.list().first)
        let resources = try #require(container.field("resources"))
        #expect(try resources.field("requests")?.field("cpu")?.text() == "2" && resources.field("limits")?.field("cpu")?.text() == "2")
        let launcher = try #require(try spec.field("mpiReplicaSpecs")?.field("Launcher")?.field("template")?.field("spec")?.field("containers")?.list().first)
        let arguments = try #require(try launcher.field("args")?.list().map { try $0.text() })
        #expect(arguments == ["--np", "2", "-x", "PODGAP_KNOBS", "/usr/local/bin/podgap", "run", "allreduce", "--sizes", "4", "--iterations", "200",
                              "--out", "/results/knobs-allreduce.jsonl"])
        let environment = try #require(try launcher.field("env")?.list())
        #expect(try environment.contains { try $0.field("name")?.text() == "PODGAP_BTL" && $0.field("value")?.text() == "self,vader,tcp" })
        #expect(try environment.contains { try $0.field("name")?.text() == "PODGAP_KNOBS" && $0.field("value")?.text() == "guaranteed=true,slots=2,mtu=9000,seccomp=unconfined" })

        // Each knob with its measured effect; the CPU limit that hurt, left out with the reason.
        #expect(text.contains("# Applied, slots: 2:\n#   slots: 2 (pod-overlay-slots) recovers 90% [90, 90] of pod-overlay's allreduce small-message latency (4 B) gap (+100.0% against native-2node, 8 rounds)\n"))
        #expect(text.contains("# Applied, host-network:\n#   host-network (pod-host) recovers 80% [80, 80] of pod-overlay's"))
        #expect(text.contains("# Applied, guaranteed: true:\n#   guaranteed: true (pod-overlay-guaranteed) recovers 50% [50, 50]"))
        #expect(text.contains("# Not applied, cpu-limit: 0.9: it hurt.\n#   cpu-limit: 0.9 (pod-overlay-limit) adds 300% [300, 300] to pod-overlay's"))
        #expect(text.contains("#   Drop the CPU limit"))
        #expect(text.contains("static CPU Manager policy (--cpu-manager-policy=static)"))
        #expect(text.contains("# WARNING: seccomp unconfined"))
        #expect(text.contains("# mtu: 9000 is the CNI's setting, not the MPIJob's: the nodes' underlay at 9000, the pod network at 8950"))
        #expect(text.contains("value: \"guaranteed=true,slots=2,mtu=9000,seccomp=unconfined\""))
    }

    /// The runtime, huge pages and the image pull, where they helped: a RuntimeClass, huge pages
    /// requested = limited with their volume and the variable the ranks map their buffers by, and
    /// the pull policy; the client library accepts the job.
    @Test func runtimeHugePagesAndPullAreAppliedAsKubernetesSpellsThem() throws {
        let (_, job, _, _) = try Self.checkedJob([
            ("native-2node", "native-2node", "host", nil, 1),
            ("pod-overlay", "pod-overlay", "overlay", nil, 2),
            ("pod-overlay-crun", "pod-overlay: {label: pod-overlay-crun, runtime: crun}", "overlay", Knobs(runtime: .crun), 1.5),
            ("pod-overlay-hugepages", "pod-overlay: {label: pod-overlay-hugepages, hugepages: true}", "overlay", Knobs(hugepages: true), 1.6),
            ("pod-overlay-pull", "pod-overlay: {label: pod-overlay-pull, pull: if-not-present}", "overlay", Knobs(pull: .ifNotPresent), 1.7),
        ])
        let specs = try #require(job.field("spec")?.field("mpiReplicaSpecs"))
        let pod = try #require(specs.field("Worker")?.field("template")?.field("spec"))
        #expect(try pod.field("runtimeClassName")?.text() == "crun")
        let container = try #require(try pod.field("containers")?.list().first)
        #expect(try container.field("imagePullPolicy")?.text() == "IfNotPresent")
        let resources = try #require(container.field("resources"))
        #expect(try resources.field("requests")?.field("hugepages-2Mi")?.text() == "64Mi" && resources.field("limits")?.field("hugepages-2Mi")?.text() == "64Mi")
        #expect(try pod.field("volumes")?.list().contains { try $0.field("emptyDir")?.field("medium")?.text() == "HugePages-2Mi" } == true)
        #expect(try container.field("volumeMounts")?.list().contains { try $0.field("mountPath")?.text() == "/dev/hugepages" } == true)
        let launcher = try #require(try specs.field("Launcher")?.field("template")?.field("spec")?.field("containers")?.list().first)
        let arguments = try #require(try launcher.field("args")?.list().map { try $0.text() })
        #expect(arguments.starts(with: ["--np", "2", "-x", "PODGAP_KNOBS", "-x", "PODGAP_HUGEPAGES", "/usr/local/bin/podgap", "run"]))
        #expect(try launcher.field("env")?.list().contains { try $0.field("name")?.text() == "PODGAP_HUGEPAGES" && $0.field("value")?.text() == "/dev/hugepages" } == true)
    }

    @Test func aMisspelledFieldInAPodTemplateFailsTheCheck() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = try Recommendation(folder: folder, kernels: FakeKernels()).mpiJobs()
        for (right, wrong, says) in [("dnsPolicy:", "dnsPolcy:", "dnsPolcy: unknown field of V1PodSpec"),
                                     ("mountPath: /results", "mountpath: /results", "unknown field of V1VolumeMount"),
                                     ("slotsPerWorker: 2", "slotsPerWorker: \"2\"", "slotsPerWorker: must be int")] {
            let path = folder + "/bad.yaml"
            try text.replacingOccurrences(of: right, with: wrong).write(toFile: path, atomically: true, encoding: .utf8)
            let checked = try Self.check(path)
            #expect(checked.status == 1 && checked.output.contains(says), "\(wrong): \(checked.output)")
        }
    }

    @Test func theShippedMPIJobPassesTheSameCheck() throws {
        let checked = try Self.check(Self.repository.appendingPathComponent("containers/k8s/mpijob.yaml").path)
        #expect(checked.status == 0, "\(checked.output)")
    }

    @Test func foldersWithNothingToRecommendFromSayWhatToRun() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-recommend-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        func failure(_ folder: String) -> String? {
            do { _ = try Recommendation(folder: folder, kernels: FakeKernels()); return nil } catch { return "\(error)" }
        }
        let said = try #require(failure(empty))
        #expect(said.contains("holds no .jsonl results files") && said.contains("benchmarks/suites/knobs.yaml"), "\(said)")
        let plain = try Self.folder(environments: Array(Self.environments.prefix(2)))
        defer { try? FileManager.default.removeItem(atPath: plain) }
        #expect(failure(plain) == "\(plain): no environment there ran with knobs, so nothing says what to change: run podgap suite benchmarks/suites/knobs.yaml --budget 15m")
    }
}
