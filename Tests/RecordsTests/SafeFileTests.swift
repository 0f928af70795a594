import Foundation
import Testing
import Records

/// What a pod can leave where the host reads its records: each is refused, none is followed.
@Suite struct SafeFileTests {
    @Test func readsARegularFileAndRefusesLinksFIFOsFoldersAndOversizedFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("safefile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

        try Data("{\"a\":1}\n".utf8).write(to: URL(fileURLWithPath: path("records.jsonl")))
        #expect(try SafeFile.read(path("records.jsonl"), limit: 100) == Data("{\"a\":1}\n".utf8))
        #expect(try SafeFile.read(path("absent.jsonl"), limit: 100) == nil)

        // A link to a host file: refused, the file behind it unread.
        try Data("secret".utf8).write(to: URL(fileURLWithPath: path("host-file")))
        try FileManager.default.createSymbolicLink(atPath: path("link.jsonl"), withDestinationPath: path("host-file"))
        #expect(throws: SafeFile.Refused(path: path("link.jsonl"), reason: "is a symbolic link; refused (a pod may not point the host at other files)")) {
            try SafeFile.read(path("link.jsonl"), limit: 100)
        }
        // A FIFO with no writer would block a plain open forever.
        #expect(mkfifo(path("fifo.jsonl"), 0o600) == 0)
        let started = Date()
        #expect(throws: SafeFile.Refused(path: path("fifo.jsonl"), reason: "is not a regular file; refused")) {
            try SafeFile.read(path("fifo.jsonl"), limit: 100)
        }
        #expect(Date().timeIntervalSince(started) < 1)
        try FileManager.default.createDirectory(atPath: path("dir.jsonl"), withIntermediateDirectories: false)
        #expect(throws: SafeFile.Refused.self) { try SafeFile.read(path("dir.jsonl"), limit: 100) }
        #expect(throws: SafeFile.Refused(path: path("records.jsonl"), reason: "is 8 bytes, above the 7-byte limit; refused")) {
            try SafeFile.read(path("records.jsonl"), limit: 7)
        }
        #expect(try String(contentsOfFile: path("host-file"), encoding: .utf8) == "secret")
    }
}

@Suite struct SafeFileCollectTests {
    @Test func appendsWhatAPodWroteAndRefusesALink() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-collect-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let host = folder + "/host.jsonl"
        try "{\"a\":1}\n".write(toFile: folder + "/pod.jsonl", atomically: false, encoding: .utf8)
        try SafeFile.collect(folder + "/pod.jsonl", into: host, limit: 1 << 20)
        try SafeFile.collect(folder + "/pod.jsonl", into: host, limit: 1 << 20)
        #expect(try String(contentsOfFile: host, encoding: .utf8) == "{\"a\":1}\n{\"a\":1}\n")
        try SafeFile.collect(folder + "/absent.jsonl", into: host, limit: 1 << 20)
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.jsonl", withDestinationPath: "/etc/passwd")
        #expect(throws: SafeFile.Refused.self) { try SafeFile.collect(folder + "/link.jsonl", into: host, limit: 1 << 20) }
        #expect(try String(contentsOfFile: host, encoding: .utf8) == "{\"a\":1}\n{\"a\":1}\n", "nothing of the link's target")
    }
}
