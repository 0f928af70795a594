import Foundation
import Spawn

/// One emulated node's image store, kept as a kubelet's node keeps its own: the OCI layout the
/// node pulled (`oci/`, the image cache) and that image unpacked once (a snapshot, a runc bundle
/// in `snapshots/`), as containerd's snapshotter keeps unpacked layers, so that a warm start pays
/// neither the pull nor the unpack. Every pod of every job on the node runs from the snapshot's
/// rootfs, mounted read-only: no pod writes into it.
///
/// Names: each snapshot is a folder of its own, `snapshots/<digest hex>-<unique>`, whose path
/// never changes while it exists (the runtime keeps a pod's rootfs path, and `runc exec` enters
/// it); `snapshots/<digest hex>`, a link to one of them, says which is the image's current
/// snapshot, the one later jobs reuse. Only the lock's holder changes either.
///
/// Lifetime: a job that runs from a snapshot marks it (`users/<job>`) under the store's lock and
/// `pods down` removes the mark. A mark is live while its job's state folder exists (a job that
/// crashed without `down` has none). Emptying the store (`pull: always`, `registry down`) removes
/// the links and every snapshot no live job marks; one still in use stays where it is until its
/// last user's `pods down` (or the next holder of the lock after it) removes it.
///
/// Trust: a snapshot is reused only through its link, which is made only after umoci finished
/// unpacking into a temporary folder, was checked, and the folder renamed; a podgap killed before
/// that leaves a temporary folder or an unlinked one, which the next holder of the lock removes.
struct NodeStore {
    let folder: String
    /// Whose job state folders mark a job as live.
    let jobs: Store

    static let temporaryPrefix = "new-"
    /// Inside a snapshot: one empty file per job that runs from it.
    static let usersFolder = "users"

    var layout: String { folder + "/oci" }
    var snapshots: String { folder + "/snapshots" }

    /// The link to the current snapshot of the image whose manifest has `digest`.
    func link(_ digest: String) -> String { "\(snapshots)/\(NodeStore.name(digest))" }

    static func name(_ digest: String) -> String { digest.replacingOccurrences(of: "sha256:", with: "") }

    /// Runs `body` holding the store's lock; the store is made where missing.
    func locked<T>(_ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let lock = try FolderLock(folder)
        defer { lock.release() }
        return try body()
    }

    /// The links in `snapshots` (name, target's name) and the snapshot folders; temporary entries apart.
    private func listing() -> (links: [(name: String, target: String)], folders: [String], temporary: [String]) {
        var links: [(String, String)] = [], folders: [String] = [], temporary: [String] = []
        for entry in NodeStore.entries(snapshots) {
            if entry.hasPrefix(NodeStore.temporaryPrefix) {
                temporary.append(entry)
            } else if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(snapshots)/\(entry)") {
                links.append((entry, target))
            } else {
                folders.append(entry)
            }
        }
        return (links, folders, temporary)
    }

    /// Under the lock: what a podgap killed while it held the lock left (a half-pulled layout, a
    /// half-made snapshot: never trusted), links to no snapshot, and snapshots no link names and
    /// no live job marks.
    func sweep() {
        for entry in NodeStore.entries(folder) where entry.hasPrefix("oci.new-") { FileTree.remove("\(folder)/\(entry)") }
        let (links, folders, temporary) = listing()
        for entry in temporary { FileTree.remove("\(snapshots)/\(entry)") }
        for link in links where !folders.contains(link.target) { unlink("\(snapshots)/\(link.name)") }
        for entry in folders where !links.contains(where: { $0.target == entry }) && users(entry).isEmpty {
            FileTree.remove("\(snapshots)/\(entry)")
        }
        rmdir(snapshots)
    }

    /// Under the lock, a cold node (`pull: always`): the layout and every snapshot go, but for
    /// those a live job runs from, which no later job reuses.
    func empty() {
        FileTree.remove(layout)
        for link in listing().links { unlink("\(snapshots)/\(link.name)") }
        sweep()
    }

    /// The live jobs that mark snapshot `name` (a folder in `snapshots`), in order.
    func users(_ name: String) -> [String] {
        NodeStore.entries("\(snapshots)/\(name)/\(NodeStore.usersFolder)").filter { FileManager.default.fileExists(atPath: jobs.jobFolder($0)) }.sorted()
    }

    /// The current snapshot of image `digest`, where its link names one that umoci completed.
    func currentSnapshot(_ digest: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link(digest)), !target.contains("/") else { return nil }
        let path = "\(snapshots)/\(target)"
        return NodeStore.isComplete(path, digest: digest) ? path : nil
    }

    /// Under the lock: the snapshot of image `digest` (`tag` in the layout) for `job`, marked as
    /// used by it: the current one where it is complete, else one unpacked from the layout now
    /// (`made`), which becomes current. A current snapshot that is not complete was changed
    /// behind podgap's back: its link goes (and the snapshot with it, unless a job runs from it).
    func use(digest: String, tag: String, job: String, timeout: Double) throws -> (bundle: String, made: Bool) {
        let current = currentSnapshot(digest)
        if current == nil {
            unlink(link(digest))
            sweep()
        }
        let snapshot = try current ?? unpack(digest: digest, tag: tag, timeout: timeout)
        let mark = "\(snapshot)/\(NodeStore.usersFolder)/\(job)"
        guard FileManager.default.createFile(atPath: mark, contents: nil) else {
            throw PodsError.failed("cannot mark the snapshot \(snapshot) as used by \(job)")
        }
        return (snapshot, current == nil)
    }

    /// umoci into a temporary folder, checked, renamed to a name of its own, then linked as the
    /// image's current snapshot (a link made under a temporary name and renamed over the old one).
    private func unpack(digest: String, tag: String, timeout: Double) throws -> String {
        try FileManager.default.createDirectory(atPath: snapshots, withIntermediateDirectories: true)
        let name = NodeStore.name(digest)
        let temporary = "\(snapshots)/\(NodeStore.temporaryPrefix)\(name)-\(getpid())"
        let unique = "\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        let final = "\(snapshots)/\(unique)"
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
            let newLink = "\(snapshots)/\(NodeStore.temporaryPrefix)link-\(getpid())"
            unlink(newLink)
            guard symlink(unique, newLink) == 0, rename(newLink, link(digest)) == 0 else {
                throw PodsError.failed("cannot link \(link(digest)) to the snapshot \(unique): \(String(cString: strerror(errno)))")
            }
        } catch {
            FileTree.remove(temporary)
            throw error
        }
        return final
    }

    /// A bundle umoci made of the manifest `digest`: config.json, rootfs/, and umoci's metadata
    /// (umoci.json) naming that digest. (What makes a snapshot trusted is the rename after umoci
    /// exited well; this catches one changed since.)
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
        for entry in listing().folders { unlink("\(snapshots)/\(entry)/\(NodeStore.usersFolder)/\(job)") }
        sweep()
        if FileManager.default.fileExists(atPath: removalMark) && !FileManager.default.fileExists(atPath: snapshots) { removeFolder() }
    }

    /// Empties the store and removes it (`registry down`, a suite's stores); snapshots a live job
    /// runs from stay (no longer current), and so does the store holding them until their last
    /// user's `down`. Returns what it kept.
    func remove() -> [String] {
        guard FileManager.default.fileExists(atPath: folder), let lock = try? FolderLock(folder) else { return [] }
        defer { lock.release() }
        empty()
        let kept = listing().folders.map { "snapshot \(snapshots)/\($0) (in use by \(users($0).joined(separator: ", ")))" }
        if kept.isEmpty { removeFolder() } else { FileManager.default.createFile(atPath: removalMark, contents: nil) }
        return kept
    }

    /// The store's folder, and the folders above it up to the registry's `nodes/` where that leaves them empty.
    private func removeFolder() {
        FileTree.remove(folder)
        var parent = URL(fileURLWithPath: folder).deletingLastPathComponent()
        if parent.lastPathComponent != "nodes" {
            rmdir(parent.path)
            parent = parent.deletingLastPathComponent()
        }
        rmdir(parent.path)
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
