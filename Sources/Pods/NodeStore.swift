import Foundation
import Spawn

/// One emulated node's image store, kept as a kubelet's node keeps its own: the OCI layout the
/// node pulled (`oci/`, the image cache) and that image unpacked once (`snapshots/<digest hex>/`,
/// a runc bundle), as containerd's snapshotter keeps unpacked layers, so that a warm start pays
/// neither the pull nor the unpack. Every pod of every job on the node runs from the snapshot's
/// rootfs, mounted read-only: no pod writes into it.
///
/// Lifetime: a job that runs from a snapshot marks it (`users/<job>`) under the store's lock and
/// `pods down` removes the mark. A mark is live while its job's state folder exists (a job that
/// crashed without `down` has none). A snapshot a live job marks is never removed: emptying the
/// store (`pull: always`, `registry down`) retires it (renames it out of the way), and whoever next
/// holds the lock after its last user has gone removes it.
///
/// Trust: a snapshot is used only under its final name, which only the rename of a temporary
/// folder that umoci finished unpacking gives it; a podgap killed mid-unpack leaves a temporary
/// folder, which the next holder of the lock removes.
struct NodeStore {
    let folder: String
    /// Whose job state folders mark a job as live.
    let jobs: Store

    static let temporaryPrefix = "new-"
    static let retiredPrefix = "retired-"
    /// Inside a snapshot: one empty file per job that runs from it.
    static let usersFolder = "users"

    var layout: String { folder + "/oci" }
    var snapshots: String { folder + "/snapshots" }

    /// The snapshot of the image whose manifest has `digest`.
    func snapshot(_ digest: String) -> String { "\(snapshots)/\(NodeStore.name(digest))" }

    static func name(_ digest: String) -> String { digest.replacingOccurrences(of: "sha256:", with: "") }

    /// Runs `body` holding the store's lock; the store is made where missing.
    func locked<T>(_ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let lock = try FolderLock(folder)
        defer { lock.release() }
        return try body()
    }

    /// Under the lock: what a podgap killed while it held the lock left (a half-pulled layout, a
    /// half-unpacked snapshot: never trusted), and retired snapshots no live job marks.
    func sweep() {
        for entry in NodeStore.entries(folder) where entry.hasPrefix("oci.new-") { FileTree.remove("\(folder)/\(entry)") }
        for entry in NodeStore.entries(snapshots)
        where entry.hasPrefix(NodeStore.temporaryPrefix) || (entry.hasPrefix(NodeStore.retiredPrefix) && users(entry).isEmpty) {
            FileTree.remove("\(snapshots)/\(entry)")
        }
        rmdir(snapshots)
    }

    /// Under the lock, a cold node (`pull: always`): the layout and every snapshot go, but for
    /// those a live job runs from, which are retired until it has gone.
    func empty() throws {
        FileTree.remove(layout)
        for entry in NodeStore.entries(snapshots) where !entry.hasPrefix(NodeStore.temporaryPrefix) && !entry.hasPrefix(NodeStore.retiredPrefix) {
            try retire(entry)
        }
        sweep()
    }

    /// The live jobs that mark snapshot `name` (a folder in `snapshots`).
    func users(_ name: String) -> [String] {
        NodeStore.entries("\(snapshots)/\(name)/\(NodeStore.usersFolder)").filter { FileManager.default.fileExists(atPath: jobs.jobFolder($0)) }
    }

    /// Removes snapshot `name`, or renames it out of the way while a live job runs from it.
    func retire(_ name: String) throws {
        let path = "\(snapshots)/\(name)"
        guard !users(name).isEmpty else { FileTree.remove(path); return }
        let retired = "\(snapshots)/\(NodeStore.retiredPrefix)\(name)-\(UUID().uuidString.prefix(8))"
        guard rename(path, retired) == 0 else {
            throw PodsError.failed("cannot retire the snapshot \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Under the lock: the snapshot of image `digest` (`tag` in the layout) for `job`, marked as
    /// used by it: the store's own where it is complete, else unpacked from the layout now
    /// (`made`). A snapshot under its final name that is not complete was changed behind
    /// podgap's back: it is retired and made again.
    func use(digest: String, tag: String, job: String, timeout: Double) throws -> (bundle: String, made: Bool) {
        let final = snapshot(digest)
        let present = FileManager.default.fileExists(atPath: final)
        if present && !NodeStore.isComplete(final, digest: digest) { try retire(NodeStore.name(digest)) }
        let made = !present || !FileManager.default.fileExists(atPath: final)
        if made { try unpack(digest: digest, tag: tag, into: final, timeout: timeout) }
        let mark = "\(final)/\(NodeStore.usersFolder)/\(job)"
        guard FileManager.default.createFile(atPath: mark, contents: nil) else {
            throw PodsError.failed("cannot mark the snapshot \(final) as used by \(job)")
        }
        return (final, made)
    }

    /// Whether `snapshot` is probably usable: untrusted folders are never looked at (see `NodeStore`).
    func holdsCompleteSnapshot(_ digest: String) -> Bool { NodeStore.isComplete(snapshot(digest), digest: digest) }

    /// umoci into a temporary folder, checked, then renamed to `final`: the rename is what makes a snapshot trusted.
    private func unpack(digest: String, tag: String, into final: String, timeout: Double) throws {
        try FileManager.default.createDirectory(atPath: snapshots, withIntermediateDirectories: true)
        let temporary = "\(snapshots)/\(NodeStore.temporaryPrefix)\(NodeStore.name(digest))-\(getpid())"
        FileTree.remove(temporary)
        do {
            let umoci = try Subprocess.require("umoci", package: "umoci")
            try Subprocess.run(umoci, ["unpack", "--image", "\(layout):\(tag)", temporary], timeout: timeout)
            guard NodeStore.isComplete(temporary, digest: digest) else {
                throw PodsError.failed("umoci left \(temporary) without a rootfs, config.json or the metadata of \(digest)")
            }
            // Made here, so that marking the snapshot later changes `users/`, never the snapshot's own folder.
            try FileManager.default.createDirectory(atPath: "\(temporary)/\(NodeStore.usersFolder)", withIntermediateDirectories: false)
            Image.searchable(temporary)
            guard rename(temporary, final) == 0 else {
                throw PodsError.failed("cannot move the snapshot to \(final): \(String(cString: strerror(errno)))")
            }
        } catch {
            FileTree.remove(temporary)
            throw error
        }
    }

    /// A bundle umoci finished: config.json, rootfs/, and umoci.json (its metadata, written after
    /// the rootfs) naming the manifest `digest`.
    static func isComplete(_ bundle: String, digest: String) -> Bool {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: bundle + "/rootfs", isDirectory: &isFolder), isFolder.boolValue,
              FileManager.default.fileExists(atPath: bundle + "/config.json"),
              let meta = FileManager.default.contents(atPath: bundle + "/umoci.json") else { return false }
        return String(decoding: meta, as: UTF8.self).contains("\"digest\":\"\(digest)\"")
    }

    /// Left in a store that `remove` had to keep for a running job: its last user's `down` removes the store.
    var removalMark: String { folder + "/removed" }

    /// `pods down` of `job`: its marks go, then what no live job needs; the store too where
    /// `remove` was asked for while the job ran. Nothing where the store is gone.
    func release(job: String) {
        guard FileManager.default.fileExists(atPath: folder + "/.lock"), let lock = try? FolderLock(folder) else { return }
        defer { lock.release() }
        for entry in NodeStore.entries(snapshots) { unlink("\(snapshots)/\(entry)/\(NodeStore.usersFolder)/\(job)") }
        sweep()
        if FileManager.default.fileExists(atPath: removalMark) && !FileManager.default.fileExists(atPath: snapshots) { removeFolder() }
    }

    /// Empties the store and removes it (`registry down`, a suite's stores); snapshots a live job
    /// runs from stay, retired, and so does the store holding them until their last user's
    /// `down`. Returns what it kept.
    func remove() -> [String] {
        guard FileManager.default.fileExists(atPath: folder), let lock = try? FolderLock(folder) else { return [] }
        defer { lock.release() }
        try? empty()
        let kept = NodeStore.entries(snapshots).map { "snapshot \(snapshots)/\($0) (in use by \(users($0).joined(separator: ", ")))" }
        if kept.isEmpty { removeFolder() } else { FileManager.default.createFile(atPath: removalMark, contents: nil) }
        return kept
    }

    /// The store's folder, and the folders above it up to the registry's `nodes/` where that leaves them empty.
    private func removeFolder() {
        FileTree.remove(folder)
        let parent = URL(fileURLWithPath: folder).deletingLastPathComponent()
        if parent.lastPathComponent != "nodes" { rmdir(parent.path) }
    }

    /// The node stores under `nodes` (a registry's `nodes/`): `n<i>` there, and a suite group's `<group>/n<i>`.
    static func all(under nodes: String) -> [String] {
        entries(nodes).flatMap { entry -> [String] in
            let path = "\(nodes)/\(entry)"
            return isNode(entry) ? [path] : entries(path).filter(isNode).map { "\(path)/\($0)" }
        }
    }

    private static func isNode(_ name: String) -> Bool { name.hasPrefix("n") && Int(name.dropFirst()) != nil }

    static func entries(_ folder: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] }
}
