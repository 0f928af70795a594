import Foundation
import Records
import Spawn

/// A node pulling the pod image from the registry into its image store, and unpacking it there
/// once, as a kubelet does under `imagePullPolicy` before it creates a pod, its snapshotter
/// keeping the unpacked image for later pods. The store (`Registry.State.nodeStore`, a
/// `NodeStore`) outlives jobs, as a node's image cache does: `if-not-present` finds the layout
/// and the snapshot a former job left (neither pull nor unpack), `always` empties the store
/// first (both, every time). Pods mount the snapshot's rootfs read-only. A pull that fails
/// leaves neither a partial layout nor a partial snapshot that is later trusted.
struct ImagePull {
    /// Longest a pull (or a push) may take before it counts as stalled; `PODGAP_PULL_TIMEOUT` (seconds) overrides it.
    static let defaultTimeout = 120.0
    static var timeout: Double {
        ProcessInfo.processInfo.environment["PODGAP_PULL_TIMEOUT"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? defaultTimeout
    }

    let registry: Registry
    let state: Registry.State
    let policy: Knobs.Pull
    let tag: String
    let network: LinkCommands
    /// The job whose pods will run from the snapshot (its mark in the snapshot, `NodeStore`).
    let job: String
    /// Whose node stores: nil the nodes every job shares, else a group of nodes of their own (`JobSpec.nodeStores`).
    var group: String? = nil

    /// Node `node` (namespace `netns`) brings the image into its store per `policy` and into
    /// its snapshot; `link` names its veth to the registry, removed again once it has pulled.
    func run(node: Int, netns: String, link: String) throws -> PulledImage {
        let phase = { (name: String, error: Error) in
            PodsError.failed("registry \(registry.endpoint), phase \(name) (node n\(node)): \(error)")
        }
        let store = NodeStore(folder: state.nodeStore(node, group: group), jobs: registry.store)
        return try store.locked {
            unlink(store.removalMark)
            store.sweep()
            if policy == .always { store.empty() }
            let layout = store.layout

            let started = Date()
            var bytes: Int64 = 0
            var verified: (digest: String, bytes: Int64)
            if policy == .ifNotPresent, let present = try? ImagePull.presentImage(in: store, tag: tag) {
                verified = present
            } else {
                FileTree.remove(layout)
                let incoming = layout + ".new-\(getpid())"
                FileTree.remove(incoming)
                defer { FileTree.remove(incoming) }
                do {
                    try registry.attach(netns, link: link, network: network)
                    defer { registry.detach(link: link, network: network) }
                    let skopeo = try Subprocess.require("skopeo", package: "skopeo")
                    let seconds = ImagePull.timeout
                    try Subprocess.run(network.nsenter, ["--net=\(LinkCommands.path(netns))", skopeo, "--command-timeout", "\(Int(seconds))s",
                                                         "copy", "--quiet", "--retry-times", "0", "--src-tls-verify=false",
                                                         registry.reference(tag), "oci:\(incoming):\(tag)"], timeout: seconds + 5)
                } catch let error as PodsError where error.description.hasPrefix("registry ") {
                    throw error
                } catch {
                    throw phase("pull", error)
                }
                do {
                    // skopeo hashed every blob as it read it from the registry (and names it by that
                    // hash): hashing the layers again here doubled the pull's CPU on a busy node.
                    verified = try ImagePull.verify(layout: incoming, tag: tag, hashingLayers: false)
                    if let pushed = state.pushed[tag], pushed != verified.digest {
                        throw PodsError.failed("digest mismatch: the registry served \(verified.digest) for \(Registry.repository):\(tag), \(pushed) was pushed")
                    }
                } catch {
                    throw phase("verify", error)
                }
                guard rename(incoming, layout) == 0 else { throw phase("pull", PodsError.failed("cannot move the pulled layout into \(layout): \(String(cString: strerror(errno)))")) }
                bytes = verified.bytes
            }
            let pulled = Date()

            let snapshot: (bundle: String, made: Bool)
            do {
                snapshot = try store.use(digest: verified.digest, tag: tag, job: job, timeout: ImagePull.timeout)
            } catch {
                throw phase("unpack", error)
            }
            return PulledImage(node: node, digest: verified.digest, bytes: bytes, pulled: bytes > 0,
                               pullSeconds: pulled.timeIntervalSince(started), unpackSeconds: Date().timeIntervalSince(pulled),
                               bundle: snapshot.bundle, snapshot: snapshot.made ? .made : .reused,
                               unpackedBytes: snapshot.made ? verified.bytes : 0, store: store.folder)
        }
    }

    /// The image `tag` a warm store holds, checked: where its snapshot is complete the pods never
    /// read the layers, so the manifest and config are hashed and the layers' sizes checked (as
    /// after a pull); else every blob is hashed, since umoci is about to unpack them.
    static func presentImage(in store: NodeStore, tag: String) throws -> (digest: String, bytes: Int64) {
        let light = try verify(layout: store.layout, tag: tag, hashingLayers: false)
        return store.currentSnapshot(light.digest) != nil ? light : try verify(layout: store.layout, tag: tag)
    }

    /// Checks an OCI layout's image `tag`: the manifest and every blob it names hash to their
    /// digests and have their sizes. Returns the manifest's digest and the bytes of all of them.
    /// `hashingLayers: false` hashes only the manifest and the config and checks the layers'
    /// sizes: for a layout skopeo has just written, which checked each layer's digest as it read
    /// it, the manifest's digest (checked against the push) then vouches for the layers.
    static func verify(layout: String, tag: String, hashingLayers: Bool = true) throws -> (digest: String, bytes: Int64) {
        func json(_ path: String) throws -> [String: Any] {
            guard let data = FileManager.default.contents(atPath: path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw PodsError.failed("\(path) is missing or not JSON")
            }
            return object
        }
        func blob(_ digest: String) -> String { "\(layout)/blobs/" + digest.replacingOccurrences(of: ":", with: "/") }
        let index = try json(layout + "/index.json")
        let manifests = (index["manifests"] as? [[String: Any]]) ?? []
        guard let entry = manifests.first(where: { (($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"]) == tag }),
              let digest = entry["digest"] as? String else {
            throw PodsError.failed("\(layout) holds no image tagged \(tag)")
        }
        let manifest = try json(blob(digest))
        let config = manifest["config"] as? [String: Any]
        let layers = (manifest["layers"] as? [[String: Any]]) ?? []
        var expected = [(digest: digest, size: (entry["size"] as? NSNumber)?.int64Value)]
        for descriptor in [config].compactMap({ $0 }) + layers {
            guard let digest = descriptor["digest"] as? String else { throw PodsError.failed("a descriptor in \(digest) names no digest") }
            expected.append((digest: digest, size: (descriptor["size"] as? NSNumber)?.int64Value))
        }
        for item in expected where !item.digest.hasPrefix("sha256:") {
            throw PodsError.failed("\(item.digest): only sha256 digests are checked")
        }
        // The manifest and the config come first in `expected`; the layers after them.
        let hashed = hashingLayers ? expected : Array(expected.prefix(config == nil ? 1 : 2))
        let sums = try Subprocess.run("/usr/bin/sha256sum", hashed.map { blob($0.digest) }, check: false)
        let computed = sums.stdout.split(separator: "\n").map { String($0.prefix(64)) }
        var bytes: Int64 = 0
        for (position, item) in expected.enumerated() {
            let path = blob(item.digest)
            if position < hashed.count {
                guard position < computed.count, "sha256:" + computed[position] == item.digest else {
                    throw PodsError.failed("digest mismatch: \(path) does not hash to \(item.digest)")
                }
            }
            guard let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value else {
                throw PodsError.failed("\(path) is missing")
            }
            if let wanted = item.size, wanted != size { throw PodsError.failed("\(path) has \(size) bytes, its descriptor says \(wanted)") }
            bytes += size
        }
        return (digest, bytes)
    }
}

/// What one node's pull did: the image's manifest digest, the bytes it pulled (0 when its store
/// had the image), whether it unpacked the image or found it unpacked, and how long the pull and
/// the unpack took.
public struct PulledImage: Codable, Sendable, Equatable {
    public var node: Int
    public var digest: String
    public var bytes: Int64
    public var pulled: Bool
    public var pullSeconds: Double
    public var unpackSeconds: Double
    /// The runc bundle the node's pods run from: its store's snapshot of the image.
    public var bundle: String
    /// Whether the node unpacked the image into a new snapshot or found one; nil in the state of
    /// an older podgap, which unpacked into each job.
    public var snapshot: SnapshotUse?
    /// The image's bytes (as stored, the unit of `bytes`) the node unpacked: 0 when it reused its snapshot.
    public var unpackedBytes: Int64?
    /// The node's image store (`NodeStore`), whose snapshot marks this job until `pods down`.
    public var store: String?

    public enum SnapshotUse: String, Codable, Sendable {
        case made, reused
    }
}

/// An exclusive lock on a folder (a node's image store), so that two jobs' pulls on the same
/// node do not write the same layout.
struct FolderLock {
    private let descriptor: Int32

    init(_ folder: String) throws {
        descriptor = open(folder + "/.lock", O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw PodsError.failed("cannot open \(folder)/.lock: \(String(cString: strerror(errno)))") }
        flock(descriptor, LOCK_EX)
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
