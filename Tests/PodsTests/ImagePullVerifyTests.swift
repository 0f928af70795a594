import Foundation
import Testing
@testable import Pods

/// The check of a pulled layout, on a small OCI layout written here: the whole check hashes
/// every blob; the check after a fresh skopeo copy (which hashed the layers as it read them)
/// hashes the manifest and the config and checks the layers' sizes and presence.
@Suite struct ImagePullVerifyTests {
    struct Layout {
        let folder: String
        var layer: String

        /// index.json -> manifest -> config + one layer, every blob named by its sha256.
        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-layout-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder + "/blobs/sha256", withIntermediateDirectories: true)
            let config = try Layout.put(Data("{\"architecture\":\"amd64\"}".utf8), in: folder)
            layer = try Layout.put(Data(repeating: 7, count: 4096), in: folder).digest
            let manifest = try Layout.put(Data("""
                {"schemaVersion":2,"config":{"digest":"\(config.digest)","size":\(config.size)},"layers":[{"digest":"\(layer)","size":4096}]}
                """.utf8), in: folder)
            try Data("""
                {"schemaVersion":2,"manifests":[{"digest":"\(manifest.digest)","size":\(manifest.size),"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}
                """.utf8).write(to: URL(fileURLWithPath: folder + "/index.json"))
            layer = folder + "/blobs/" + layer.replacingOccurrences(of: ":", with: "/")
        }

        static func put(_ data: Data, in folder: String) throws -> (digest: String, size: Int) {
            let temporary = folder + "/new"
            try data.write(to: URL(fileURLWithPath: temporary))
            let sum = try Subprocess.run("/usr/bin/sha256sum", [temporary]).stdout.prefix(64)
            try FileManager.default.moveItem(atPath: temporary, toPath: folder + "/blobs/sha256/" + sum)
            return ("sha256:" + sum, data.count)
        }
    }

    @Test func layersAreHashedUnlessSkopeoJustDidAndTheirSizesAlwaysChecked() throws {
        let layout = try Layout()
        defer { try? FileManager.default.removeItem(atPath: layout.folder) }
        let whole = try ImagePull.verify(layout: layout.folder, tag: "latest")
        #expect(try ImagePull.verify(layout: layout.folder, tag: "latest", hashingLayers: false) == whole)
        #expect(whole.bytes > 4096 && whole.digest.hasPrefix("sha256:"))

        // One byte of the layer changed, its size kept: only the whole check hashes it.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: layout.layer))
        bytes[100] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: layout.layer))
        #expect(throws: PodsError.self) { try ImagePull.verify(layout: layout.folder, tag: "latest") }
        #expect(try ImagePull.verify(layout: layout.folder, tag: "latest", hashingLayers: false).digest == whole.digest)
        // A layer cut short, or gone: refused either way.
        try bytes.prefix(100).write(to: URL(fileURLWithPath: layout.layer))
        #expect(throws: PodsError.self) { try ImagePull.verify(layout: layout.folder, tag: "latest", hashingLayers: false) }
        try FileManager.default.removeItem(atPath: layout.layer)
        #expect(throws: PodsError.self) { try ImagePull.verify(layout: layout.folder, tag: "latest", hashingLayers: false) }
        // No such tag.
        #expect(throws: PodsError.self) { try ImagePull.verify(layout: layout.folder, tag: "other", hashingLayers: false) }
    }

    /// A warm store's image: where the node holds a complete snapshot of it, its layers (which
    /// no pod reads) are not hashed again; without one they are, since umoci is about to unpack them.
    @Test func aWarmStoreHashesItsLayersOnlyWhereItHasNoSnapshot() throws {
        let layout = try Layout()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-warm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root); try? FileManager.default.removeItem(atPath: layout.folder) }
        let store = NodeStore(folder: root, jobs: Store(environment: ["PODGAP_RUN_ROOT": root + "/run"]))
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: layout.folder, toPath: store.layout)
        let layer = store.layout + layout.layer.dropFirst(layout.folder.count)
        let whole = try ImagePull.presentImage(in: store, tag: "latest")

        var bytes = try Data(contentsOf: URL(fileURLWithPath: layer))
        bytes[100] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: layer))
        #expect(throws: PodsError.self) { try ImagePull.presentImage(in: store, tag: "latest") }

        // The node's complete snapshot of that image, linked as current, as `NodeStore.use` leaves it.
        let name = NodeStore.name(whole.digest) + "-1"
        try FileManager.default.createDirectory(atPath: "\(store.snapshots)/\(name)/rootfs", withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(store.snapshots)/\(name)/config.json"))
        try Data("{\"descriptor_walk\":[{\"digest\":\"\(whole.digest)\"}]}".utf8).write(to: URL(fileURLWithPath: "\(store.snapshots)/\(name)/umoci.json"))
        try FileManager.default.createSymbolicLink(atPath: store.link(whole.digest), withDestinationPath: name)
        #expect(try ImagePull.presentImage(in: store, tag: "latest") == whole)
    }

    @Test func aChangedManifestOrConfigIsCaughtWithoutHashingLayers() throws {
        let layout = try Layout()
        defer { try? FileManager.default.removeItem(atPath: layout.folder) }
        let blobs = layout.folder + "/blobs/sha256"
        // The config is the smallest blob besides the manifest: change a byte of each small blob in turn.
        let small = try FileManager.default.contentsOfDirectory(atPath: blobs).filter { $0 != URL(fileURLWithPath: layout.layer).lastPathComponent }
        #expect(small.count == 2)
        for name in small {
            let path = blobs + "/" + name
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            var changed = original
            changed[changed.count - 2] = UInt8(ascii: " ")
            try changed.write(to: URL(fileURLWithPath: path))
            #expect(throws: PodsError.self) { try ImagePull.verify(layout: layout.folder, tag: "latest", hashingLayers: false) }
            try original.write(to: URL(fileURLWithPath: path))
        }
    }
}
