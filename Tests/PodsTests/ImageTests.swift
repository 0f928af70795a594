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

    @Test func closureHoldsTheBinaryItsLibrariesAndOpenMPI() throws {
        let entrypoint = try temporaryFile("#!/bin/sh\n")
        defer { try? FileManager.default.removeItem(atPath: entrypoint) }
        let image = try Image(binary: "/bin/sleep", entrypoint: entrypoint)
        let files = try image.closure()
        #expect(files.prefix(2) == ["/bin/sleep", entrypoint])
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

    @Test func refusesMissingInputs() {
        #expect(throws: PodsError.badInput("--binary '/nonexistent/podgap' is not an executable file")) {
            try Image(binary: "/nonexistent/podgap", entrypoint: "/bin/sh")
        }
        #expect(throws: PodsError.self) { try Image(binary: "/bin/sleep", entrypoint: "/nonexistent/entrypoint") }
    }
}
