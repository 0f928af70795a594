import Foundation
import Records
import Spawn
import Testing
@testable import Pods

/// Pods outlive an upgrade of podgap: the state an older podgap saved must still let `pods down`,
/// `list` and `launch` act on them. The fixture is what 97d55fc^ (before knobs, with `spec.cpus`)
/// wrote for a 2-node overlay job with `--cpus 0.5` and a launch in progress
/// (Fixtures/legacy-state-writer.swift holds that version's structs and wrote it).
@Suite struct JobStateTests {
    static let legacyState = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/legacy-state.json")

    /// A run root of its own holding the legacy job's state, `launchPID` set to `pid` when given.
    static func store(launchPID pid: pid_t? = nil) throws -> (store: Store, root: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-jobstate-\(UUID().uuidString)").path
        let store = Store(environment: ["PODGAP_RUN_ROOT": root + "/run", "PODGAP_IMAGE_STORE": root + "/image"])
        try FileManager.default.createDirectory(atPath: store.jobFolder("legacy"), withIntermediateDirectories: true)
        var text = try String(contentsOf: legacyState, encoding: .utf8)
        if let pid { text = text.replacingOccurrences(of: "\"launchPID\" : 4242", with: "\"launchPID\" : \(pid)") }
        try text.write(toFile: JobState.path(store, "legacy"), atomically: true, encoding: .utf8)
        return (store, root)
    }

    @Test func stateAnOlderPodgapSavedLoadsWithItsCPULimitAsTheKnob() throws {
        let (store, root) = try JobStateTests.store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try String(contentsOf: JobStateTests.legacyState, encoding: .utf8).contains("\"cpus\" : 0.5"), "the fixture is the old format")

        let state = try JobState.load(store, job: "legacy")
        #expect(state.spec.knobs == Knobs(cpuLimit: 0.5))
        #expect(state.spec.network == .overlay && state.spec.nodes == 2 && state.spec.containers)
        #expect(state.pods.map(\.name) == ["legacy-p0", "legacy-p1"])
        #expect(state.nodeNetns == ["pg4834b852-n0", "pg4834b852-n1"])
        #expect(state.launchPID == 4242)
        #expect(state.bundle == "/var/lib/podgap/bundles/0f3c9a1e", "the image prune keeps the bundle old pods run from")

        // Saved again (as `launch` does when it records its PID), it is today's format.
        try state.save(store)
        let saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: JobState.path(store, "legacy")))) as? [String: Any])
        let spec = try #require(saved["spec"] as? [String: Any])
        #expect(spec["cpus"] == nil)
        #expect((spec["knobs"] as? [String: Any])?["cpu-limit"] as? Double == 0.5)
        #expect(try JobState.load(store, job: "legacy").spec == state.spec)
    }

    @Test func todaysStateAndUnreadableStatePassThroughTheUpgradeUnchanged() throws {
        let current = Data(#"{"spec":{"knobs":{"slots":2},"cpus":3}}"#.utf8)
        #expect(JobState.upgraded(current) == current, "a spec with knobs is not rewritten")
        let garbage = Data("not json".utf8)
        #expect(JobState.upgraded(garbage) == garbage)
        let (store, root) = try JobStateTests.store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "{}".write(toFile: JobState.path(store, "legacy"), atomically: true, encoding: .utf8)
        let error = try #require(throws: PodsError.self) { try JobState.load(store, job: "legacy") }
        #expect(error.description.contains("podgap pods down --name legacy"))
    }

    /// `down` ends the launch an old state names (mpirun's session), then removes the job's folder.
    @Test func downEndsTheLaunchAnOldStateNames() throws {
        let launch = try Session(["/bin/sleep", "60"], environment: [:])
        defer { if launch.poll() == nil { _ = launch.end(grace: 0) } }
        let (store, root) = try JobStateTests.store(launchPID: launch.pid)
        defer { try? FileManager.default.removeItem(atPath: root) }

        let removed = PodJob.down(job: "legacy", store: store)
        #expect(removed.contains("launch session \(launch.pid)"))
        #expect(launch.wait(seconds: 5) == 128 + SIGKILL, "the launch's session was killed")
        #expect(!FileManager.default.fileExists(atPath: store.jobFolder("legacy")))
    }
}
