import Foundation
import Testing
@testable import Pods

@Suite struct ImageTests {
    func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-image-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @Test func contentHashFollowsEveryByteAndNothingElse() throws {
        let first = try temporaryFile("alpha"), second = try temporaryFile("beta")
        defer { try? FileManager.default.removeItem(atPath: first); try? FileManager.default.removeItem(atPath: second) }
        let digest = try Image.contentHash([first, second])
        #expect(digest.count == 64)
        #expect(try Image.contentHash([first, second]) == digest)
        let stats = Image.stats([first, second])
        try "alphA".write(toFile: first, atomically: false, encoding: .utf8) // same size, one byte
        #expect(try Image.contentHash([first, second]) != digest)
        #expect(Image.stats([first, second]) != stats)
        try "alpha".write(toFile: first, atomically: false, encoding: .utf8)
        #expect(try Image.contentHash([first, second]) == digest, "the same bytes hash the same")
        #expect(Image.stats(["/nonexistent/podgap"]) == ["missing"])
    }

    /// A folder holding an entrypoint and the seccomp profile beside it, as containers/ does.
    func containersFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-image-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: folder + "/entrypoint", atomically: false, encoding: .utf8)
        try "{}\n".write(toFile: folder + "/seccomp.json", atomically: false, encoding: .utf8)
        return folder
    }

    @Test func closureHoldsTheBinaryItsLibrariesAndOpenMPI() throws {
        let folder = try containersFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let entrypoint = folder + "/entrypoint"
        let image = try Image(binary: "/bin/sleep", entrypoint: entrypoint)
        let files = try image.closure()
        #expect(files.prefix(3) == ["/bin/sleep", entrypoint, folder + "/seccomp.json"])
        #expect(files.contains { $0.hasSuffix("/libc.so.6") })
        #expect(files.contains { $0.hasSuffix("/ld-linux-x86-64.so.2") })
        #expect(files.contains("/bin/sh"))
        if FileManager.default.fileExists(atPath: "/usr/bin/orted") {
            #expect(files.contains("/usr/bin/orted"))
            #expect(files.contains { $0.hasSuffix("/libopen-rte.so.40") }, "orted's libraries, found by ldd")
            #expect(files.contains { $0.contains("/openmpi3/mca_btl_tcp.so") }, "dlopened MCA components")
        }
        #expect(Set(files).count == files.count, "no file twice")
    }

    @Test func refusesMissingInputs() throws {
        #expect(throws: PodsError.badInput("--binary '/nonexistent/podgap' is not an executable file")) {
            try Image(binary: "/nonexistent/podgap", entrypoint: "/bin/sh")
        }
        #expect(throws: PodsError.self) { try Image(binary: "/bin/sleep", entrypoint: "/nonexistent/entrypoint") }
        // An entrypoint without the seccomp profile beside it: the pods would run unconfined.
        let folder = try containersFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.removeItem(atPath: folder + "/seccomp.json")
        let error = try? #require(throws: PodsError.self) { try Image(binary: "/bin/sleep", entrypoint: folder + "/entrypoint") }
        #expect(error?.description.contains("seccomp.json") == true)
    }
}
