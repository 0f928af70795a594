import Foundation
import Testing

/// The git commit is embedded when podgap is built: a binary copied into another git checkout, or
/// outside any, still names the commit it was built from (it used to name the checkout it sat in).
@Suite struct BuildInfoTests {
    @Test func aCopiedBinaryNamesItsOwnBuild() throws {
        let head = try Shell.run("/usr/bin/git", ["-C", Shell.repositoryRoot.path, "rev-parse", "HEAD"])
        try #require(head.status == 0, "not a git checkout: \(head.stderr)")
        let commit = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Another checkout, with a commit of its own, around the copy.
        let other = try Shell.run("/bin/sh", ["-c", "cd '\(folder.path)' && git init -q && git -c user.name=t -c user.email=t@example.org commit -q --allow-empty -m other && git rev-parse HEAD"])
        try #require(other.status == 0, "\(other.stderr)")
        let copy = folder.appendingPathComponent("bin/podgap")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Shell.podgap, toPath: copy.path)

        let env = try Shell.run(copy.path, ["env", "--json"], timeout: 60)
        #expect(env.status == 0, "\(env.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(env.stdout.utf8)) as? [String: Any])
        let recorded = try #require(object["gitCommit"] as? String)
        // This checkout's HEAD, or a commit before it when the binary was built before a commit
        // ("-dirty" when the tree that built it had uncommitted changes); never the other checkout's.
        let built = recorded.hasSuffix("-dirty") ? String(recorded.dropLast(6)) : recorded
        #expect(built.count == 40 && !built.hasPrefix(other.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let ancestor = try Shell.run("/usr/bin/git", ["-C", Shell.repositoryRoot.path, "merge-base", "--is-ancestor", built, commit])
        #expect(ancestor.status == 0, "\(recorded) is not \(commit) or a commit before it")

        let version = try Shell.run(copy.path, ["--version"], timeout: 30)
        #expect(version.status == 0)
        #expect(version.stdout.contains(recorded), "\(version.stdout)")
    }
}
