import Foundation
import Testing
@testable import Kernels
import Compute

/// Message buffers (and the machine-state probe's scratch) live in mappings of their own, outside
/// malloc's heap, so that neither moves where Open MPI's temporaries land (benchmarks/README).
@Suite(.serialized) struct PageBufferTests {
    @Test func aBufferIsAPageAlignedMappingOfItsOwnAndGoneOnRelease() throws {
        let mapping = try PageBuffer<Float>(count: (1 << 20) + 3)
        mapping.buffer.initialize(repeating: 2)
        #expect(mapping.buffer.count == (1 << 20) + 3)
        #expect(mapping.buffer.reduce(0, +) == Float(2 * ((1 << 20) + 3)))
        // malloc hands out 16 bytes past a chunk header, never a page start (a block it maps sits
        // 16 bytes into its mapping), and its heap is the "[heap]" mapping.
        let start = UInt(bitPattern: mapping.buffer.baseAddress!)
        #expect(start % UInt(sysconf(Int32(_SC_PAGESIZE))) == 0)
        #expect(try mappingName(covering: start) != "[heap]")
        mapping.release()
        #expect(try mappingName(covering: start) == nil)
    }

    @Test func anEmptyBufferStillHasAnAddress() throws {
        let mapping = try PageBuffer<UInt8>(count: 0)
        defer { mapping.release() }
        #expect(mapping.buffer.count == 0)
        #expect(mapping.buffer.baseAddress != nil)
    }

    @Test func aMappingTooLargeForTheMachineIsAnErrorNotATrap() {
        #expect(throws: StepFailure.self) { try PageBuffer<UInt8>(count: 1 << 62) }
    }

    /// The `hugepages` knob's path, on a hugetlbfs this test mounts in a folder of its own (as a
    /// pod's /dev/hugepages) with pages it reserves and gives back: the mapping's KernelPageSize is
    /// the huge page size, the pool's free pages drop while it is mapped, and a sum over it is right.
    @Test(.enabled(if: geteuid() == 0, "reserving huge pages and mounting hugetlbfs need root"))
    func aMessageBufferUnderTheKnobIsMappedFromHugePages() throws {
        let knob = "/proc/sys/vm/nr_hugepages"
        let old = try String(contentsOfFile: knob, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try "\((Int(old) ?? 0) + 4)\n".write(toFile: knob, atomically: false, encoding: .utf8)
        defer { try? "\(old)\n".write(toFile: knob, atomically: false, encoding: .utf8) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-huge-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        defer { rmdir(folder) }
        try #require(run("/bin/mount", ["-t", "hugetlbfs", "-o", "pagesize=2M,size=8M", "podgap-test", folder]) == 0)
        defer { _ = run("/bin/umount", [folder]) }
        let before = MessagePages.tally.value
        defer { MessagePages.tally.value = before }
        let freeBefore = try hugePagesFree()

        let mapped = try #require(MessagePages.mapHuge(3 << 20, in: folder), "3 MiB from the pool: \(MessagePages.tally.value?.reason ?? "")")
        #expect(mapped.bytes == 4 << 20, "rounded up to whole 2 MiB pages")
        #expect(MessagePages.kernelPageBytes(of: mapped.start) == 2 << 20)
        let floats = mapped.start.bindMemory(to: Float.self, capacity: mapped.bytes / 4)
        let buffer = UnsafeMutableBufferPointer(start: floats, count: mapped.bytes / 4)
        buffer.initialize(repeating: 0.5)
        #expect(buffer.reduce(0, +) == Float(mapped.bytes / 8))
        #expect(try hugePagesFree() == freeBefore - 2, "two huge pages in use while mapped")
        #expect(MessagePages.tally.value?.huge == (before?.huge ?? 0) + 1)
        #expect(MessagePages.tally.value?.pageBytes == 2 << 20)
        munmap(mapped.start, mapped.bytes)
        #expect(try hugePagesFree() == freeBefore, "back to the pool once unmapped (the file was unlinked)")
        // More than the mount's 8 MiB: refused at mmap, said, and counted as ordinary.
        #expect(MessagePages.mapHuge(10 << 20, in: folder) == nil)
        #expect(MessagePages.tally.value?.reason?.hasPrefix("cannot map 10485760 bytes of huge pages from \(folder)") == true)
    }

    @Test func aFolderThatIsNotHugetlbfsFallsBackToOrdinaryPagesAndSaysWhy() throws {
        let before = MessagePages.tally.value
        defer { MessagePages.tally.value = before }
        MessagePages.tally.value = nil
        let folder = FileManager.default.temporaryDirectory.path
        #expect(MessagePages.mapHuge(1 << 20, in: folder) == nil)
        let tally = try #require(MessagePages.tally.value)
        #expect(tally.huge == 0 && tally.ordinary == 1 && !tally.allHuge)
        #expect(tally.reason?.contains("not huge pages: is it a hugetlbfs mount?") == true, "\(tally.reason ?? "")")
        #expect(MessagePages.mapHuge(1 << 20, in: "/nonexistent") == nil)
        #expect(MessagePages.tally.value?.ordinary == 2 && MessagePages.tally.value?.reason == tally.reason, "the first reason is kept")
    }

    private func hugePagesFree() throws -> Int {
        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let line = try #require(meminfo.split(separator: "\n").first { $0.hasPrefix("HugePages_Free:") })
        return try #require(Int(line.split(separator: " ").last ?? ""))
    }

    private func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The name (path or "[heap]", "" when anonymous) of the /proc/self/maps line covering this
    /// address, nil when none does.
    private func mappingName(covering address: UInt) throws -> String? {
        for line in try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let range = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            if range.count == 2, range[0] <= address, address < range[1] { return fields.count > 5 ? String(fields[5]) : "" }
        }
        return nil
    }
}
