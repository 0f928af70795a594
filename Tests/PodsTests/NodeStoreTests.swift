import Foundation
import Testing
@testable import Pods

/// A node store's snapshot rules on folders written here (what umoci would have made, without
/// umoci): which snapshot a pull trusts, which the store keeps while a job runs from it, and what
/// goes when. A job is live while its state folder exists in the run root.
@Suite struct NodeStoreTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    struct Scene {
        let root: String
        let store: NodeStore
        var snapshots: String { store.snapshots }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-nodestore-\(UUID().uuidString)").path
            let jobs = Store(environment: ["PODGAP_RUN_ROOT": root + "/run", "PODGAP_IMAGE_STORE": root + "/image"])
            store = NodeStore(folder: root + "/registry/nodes/n0", jobs: jobs)
            try FileManager.default.createDirectory(atPath: store.layout, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/run", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: store.folder + "/.lock", contents: nil)
        }

        /// A snapshot folder as `NodeStore.unpack` leaves it (complete unless told), linked as current where asked.
        @discardableResult
        func snapshot(_ name: String, complete: Bool = true, current: Bool = false, users: [String] = []) throws -> String {
            let path = "\(snapshots)/\(name)"
            try FileManager.default.createDirectory(atPath: path + "/rootfs/etc", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: path + "/users", withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: URL(fileURLWithPath: path + "/config.json"))
            if complete {
                try Data("{\"from_descriptor_path\":{\"descriptor_walk\":[{\"digest\":\"\(NodeStoreTests.digest)\"}]}}".utf8)
                    .write(to: URL(fileURLWithPath: path + "/umoci.json"))
            }
            for user in users { FileManager.default.createFile(atPath: "\(path)/users/\(user)", contents: nil) }
            if current {
                unlink(store.link(NodeStoreTests.digest))
                try FileManager.default.createSymbolicLink(atPath: store.link(NodeStoreTests.digest), withDestinationPath: name)
            }
            return path
        }

        /// `job` live: its state folder exists.
        func run(_ job: String) throws { try FileManager.default.createDirectory(atPath: "\(root)/run/\(job)", withIntermediateDirectories: true) }
        func end(_ job: String) { rmdir("\(root)/run/\(job)") }

        var entries: Set<String> { Set(NodeStore.entries(snapshots)) }
        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    var name: String { NodeStore.name(NodeStoreTests.digest) }

    @Test func onlyACompleteSnapshotThroughItsLinkIsTrusted() throws {
        let scene = try Scene()
        defer { scene.remove() }
        // A whole snapshot under a temporary name (podgap killed before the rename), and one complete but unlinked.
        try scene.snapshot("new-\(name)-4242")
        try scene.snapshot("\(name)-unlinked")
        #expect(scene.store.currentSnapshot(NodeStoreTests.digest) == nil)
        // Linked but without umoci's metadata: not trusted either.
        try scene.snapshot("\(name)-partial", complete: false, current: true)
        #expect(scene.store.currentSnapshot(NodeStoreTests.digest) == nil)
        let good = try scene.snapshot("\(name)-good", current: true)
        #expect(scene.store.currentSnapshot(NodeStoreTests.digest) == good)
        // A link that leads out of the store is never followed.
        unlink(scene.store.link(NodeStoreTests.digest))
        try FileManager.default.createSymbolicLink(atPath: scene.store.link(NodeStoreTests.digest), withDestinationPath: good)
        #expect(scene.store.currentSnapshot(NodeStoreTests.digest) == nil)
    }

    @Test func aSweepKeepsTheCurrentSnapshotAndThoseLiveJobsRunFrom() throws {
        let scene = try Scene()
        defer { scene.remove() }
        try scene.run("live")
        try scene.snapshot("new-\(name)-4242")
        FileManager.default.createFile(atPath: scene.store.folder + "/oci.new-4242", contents: nil)
        try scene.snapshot("\(name)-old-in-use", users: ["live"])
        try scene.snapshot("\(name)-old-stale", users: ["crashed"])
        try scene.snapshot("\(name)-current", current: true)
        try FileManager.default.createSymbolicLink(atPath: "\(scene.snapshots)/dangling", withDestinationPath: "\(name)-gone")
        scene.store.sweep()
        #expect(scene.entries == [name, "\(name)-current", "\(name)-old-in-use"])
        #expect(!FileManager.default.fileExists(atPath: scene.store.folder + "/oci.new-4242"))
        #expect(scene.store.users("\(name)-old-in-use") == ["live"])
    }

    @Test func emptyingTheStoreLeavesOnlyWhatALiveJobRunsFromUntilItsDown() throws {
        let scene = try Scene()
        defer { scene.remove() }
        try scene.run("warm")
        let inUse = try scene.snapshot("\(name)-1", current: true, users: ["warm"])
        scene.store.empty()
        // `pull: always`: the layout and the link go; the snapshot in use stays where it is, no longer current.
        #expect(!FileManager.default.fileExists(atPath: scene.store.layout))
        #expect(scene.entries == ["\(name)-1"] && scene.store.currentSnapshot(NodeStoreTests.digest) == nil)
        #expect(FileManager.default.fileExists(atPath: inUse + "/rootfs/etc"))
        scene.store.release(job: "warm")
        #expect(!FileManager.default.fileExists(atPath: scene.snapshots), "the last user's down removes it")
        #expect(FileManager.default.fileExists(atPath: scene.store.folder), "the store stays for later pulls")
    }

    @Test func aStoreRemovedWhileAJobRunsGoesWithThatJobsDown() throws {
        let scene = try Scene()
        defer { scene.remove() }
        try scene.run("a")
        try scene.run("b")
        try scene.snapshot("\(name)-1", current: true, users: ["a", "b"])
        let kept = scene.store.remove()
        #expect(kept.count == 1 && kept[0].contains("in use by a, b"), "\(kept)")
        #expect(scene.entries == ["\(name)-1"] && FileManager.default.fileExists(atPath: scene.store.removalMark))
        scene.store.release(job: "a")
        #expect(scene.entries == ["\(name)-1"], "b still runs from it")
        scene.end("b")
        scene.store.release(job: "b")
        #expect(!FileManager.default.fileExists(atPath: scene.root + "/registry/nodes"), "the store and the folders above it up to nodes/ are gone")
        #expect(FileManager.default.fileExists(atPath: scene.root + "/registry"))
    }

    @Test func storesAreFoundForEveryNodeAndGroup() throws {
        let scene = try Scene()
        defer { scene.remove() }
        let nodes = scene.root + "/registry/nodes"
        for path in ["n1", "s1ab-e2/n0", "s1ab-e2/n1", "s1ab-e2/other"] {
            try FileManager.default.createDirectory(atPath: "\(nodes)/\(path)", withIntermediateDirectories: true)
        }
        #expect(Set(NodeStore.all(under: nodes)) == Set(["n0", "n1", "s1ab-e2/n0", "s1ab-e2/n1"].map { "\(nodes)/\($0)" }))
    }
}
