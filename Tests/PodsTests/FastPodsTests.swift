import Foundation
import Testing
@testable import Pods

/// What `pods up` and `pods down` now do from podgap's own process instead of a tool's
/// (issue 27, item 3): the runtimes' container lists and removing a job's folder.
@Suite struct FastPodsTests {
    static func scratch() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-fastpods-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func aRuntimesContainersAreTheFoldersOfItsStateRoot() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let outside = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        for id in ["job-p1", "job-p0"] { try FileManager.default.createDirectory(atPath: "\(root)/\(id)", withIntermediateDirectories: false) }
        FileManager.default.createFile(atPath: "\(root)/not-a-container", contents: Data("x".utf8))
        try FileManager.default.createSymbolicLink(atPath: "\(root)/link-p2", withDestinationPath: outside)
        #expect(Runtime.containers(inStateRoot: root) == ["job-p0", "job-p1"])
        #expect(Runtime.containers(inStateRoot: root + "/missing").isEmpty)
        let runc = try Runtime(.runc, environment: ["PODGAP_RUNC": "/bin/true"])
        #expect(runc.stateRoot == "/run/runc", "runc's default --root for root")
    }

    @Test func removingAJobFolderRemovesItAllAndFollowsNoLink() throws {
        let folder = try Self.scratch() + "/job"
        let outside = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.createDirectory(atPath: folder + "/pods/job-p0", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/cni/n0/podgap-job", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside + "/kept", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: outside + "/kept/file", contents: Data("host".utf8))
        for path in ["/pods/job-p0/config.json", "/pods/job-p0/log", "/cni/n0/podgap-job/198.19.0.2", "/etc-hosts"] {
            #expect(FileManager.default.createFile(atPath: folder + path, contents: Data("x".utf8)))
        }
        // Links to a folder and to a file outside: each goes as a link; what it names stays.
        try FileManager.default.createSymbolicLink(atPath: folder + "/pods/job-p0/rootfs", withDestinationPath: outside + "/kept")
        try FileManager.default.createSymbolicLink(atPath: folder + "/cni/hosts", withDestinationPath: outside + "/kept/file")
        #expect(FileTree.remove(folder))
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(try String(contentsOfFile: outside + "/kept/file", encoding: .utf8) == "host")
        #expect(FileTree.remove(folder), "a folder already gone is gone")
        rmdir((folder as NSString).deletingLastPathComponent)
    }
}
