import Foundation
import Spawn
import Testing

@Suite struct ExecutableTests {
    @Test func findsOnPathThenInTheSbinFolders() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-exe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tool = folder.appendingPathComponent("podgap-test-tool").path
        try "#!/bin/sh\n".write(toFile: tool, atomically: true, encoding: .utf8)
        #expect(Executable.find("podgap-test-tool", path: folder.path) == nil, "not executable yet")
        chmod(tool, 0o755)
        #expect(Executable.find("podgap-test-tool", path: "/nonexistent:" + folder.path) == tool)
        // PATH comes first: an sh earlier on PATH wins over /bin/sh.
        let sh = folder.appendingPathComponent("sh").path
        try "#!/bin/dash\n".write(toFile: sh, atomically: true, encoding: .utf8)
        chmod(sh, 0o755)
        #expect(Executable.find("sh", path: folder.path) == sh)
        // Without PATH, the fallback folders still find sh.
        #expect(Executable.find("sh", path: nil) != nil)
        #expect(Executable.find("podgap-no-such-tool-\(getpid())") == nil)
        #expect(Executable.find(tool) == tool, "a path is only checked")
        #expect(Executable.find(folder.path + "/missing") == nil)
    }
}
