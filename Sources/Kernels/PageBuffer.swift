import Compute
import Foundation
import Records
#if canImport(Glibc)
import Glibc
#endif

/// Memory in a mapping of its own, returned with munmap: page-aligned, as OSU allocates its
/// buffers, and outside malloc's heap. Where a buffer lies decides where Open MPI's per-call
/// temporaries land after it, and a temporary 16 bytes past a page boundary makes the copy into it
/// 4K-alias with the page-aligned buffer it copies from (16 KiB allreduce: 12-13 us instead of
/// 9.5; benchmarks/README). Mapped, the buffers leave the heap as a C program's would be; and
/// scratch freed this way leaves glibc's dynamic mmap threshold where it was.
///
/// Message buffers (`message: true`) come from huge pages where the `hugepages` knob asks for
/// them (`MessagePages`); everything else from ordinary anonymous pages.
public struct PageBuffer<Element> {
    public let buffer: UnsafeMutableBufferPointer<Element>
    private let byteCount: Int

    /// `count` elements, uninitialized (zero pages until written). A count of zero maps one element,
    /// so that the buffer still has an address. A message buffer under the `hugepages` knob is
    /// mapped from the pod's hugetlbfs; where that fails it says so on stderr and in the records
    /// (`MessagePages.tally`) and comes from ordinary pages.
    public init(count: Int, message: Bool = false) throws {
        let wanted = max(count, 1) * MemoryLayout<Element>.stride
        var mapped: (start: UnsafeMutableRawPointer, bytes: Int)?
        if message, let folder = MessagePages.folder.value {
            mapped = MessagePages.mapHuge(wanted, in: folder)
        }
        if mapped == nil {
            guard let start = mmap(nil, wanted, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  start != MAP_FAILED else {
                throw StepFailure("cannot map \(wanted) bytes (\(String(cString: strerror(errno)))); free memory, or ask for smaller sizes")
            }
            mapped = (start, wanted)
        }
        let (start, bytes) = mapped!
        byteCount = bytes
        buffer = UnsafeMutableBufferPointer(start: start.bindMemory(to: Element.self, capacity: max(count, 1)), count: count)
    }

    /// Unmaps the memory; the buffer must not be used after.
    public func release() { munmap(buffer.baseAddress, byteCount) }
}

/// Where this process's message buffers come from: under the `hugepages` knob, the hugetlbfs
/// folder the pod mounts (`HugePageBuffers.variable`), else ordinary pages; and what they came
/// from so far, for the records.
public enum MessagePages {
    /// The hugetlbfs folder message buffers are mapped from; nil for ordinary pages.
    public static let folder = Locked<String?>(ProcessInfo.processInfo.environment[HugePageBuffers.variable])
    /// This process's buffers so far, nil without the knob.
    public static let tally = Locked<HugePageBuffers?>(nil)

    /// `bytes` rounded up to whole huge pages, mapped shared from an unlinked file in `folder`
    /// (hugetlbfs reserves the pages at mmap, so a pool too small fails here, not later with a
    /// SIGBUS); nil, said loudly, where that cannot be.
    static func mapHuge(_ bytes: Int, in folder: String) -> (start: UnsafeMutableRawPointer, bytes: Int)? {
        var mapped: (UnsafeMutableRawPointer, Int)?
        var reason: String?
        var pageBytes: Int?
        var template = Array("\(folder)/podgap-buffer-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if descriptor < 0 {
            reason = "cannot make a file in \(folder): \(String(cString: strerror(errno)))"
        } else {
            // Unlinked at once: the pages go back to the pool when the mapping goes, even after a crash.
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            // hugetlbfs says its page size as the block size.
            var info = statvfs()
            let page = fstatvfs(descriptor, &info) == 0 ? Int(info.f_bsize) : 0
            let size = (bytes + max(page, 1) - 1) / max(page, 1) * max(page, 1)
            if page <= 0 {
                reason = "cannot read \(folder)'s page size: \(String(cString: strerror(errno)))"
            } else if let start = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), start != MAP_FAILED {
                // Proof, not trust: the kernel's page size for this very mapping.
                let kernelPage = kernelPageBytes(of: start)
                if let kernelPage, kernelPage == page, page > sysconf(Int32(_SC_PAGESIZE)) {
                    mapped = (start, size)
                    pageBytes = page
                } else {
                    munmap(start, size)
                    reason = "\(folder) maps \(kernelPage.map { "\($0 / 1024) kB" } ?? "unknown") pages, not huge pages: is it a hugetlbfs mount?"
                }
            } else {
                reason = "cannot map \(size) bytes of huge pages from \(folder) (\(String(cString: strerror(errno)))): reserve more (/proc/sys/vm/nr_hugepages) or ask for smaller sizes"
            }
            close(descriptor)
        }
        var first = false
        tally.update { tally in
            var counts = tally ?? HugePageBuffers(folder: folder)
            if mapped != nil { counts.huge += 1; counts.pageBytes = pageBytes } else {
                counts.ordinary += 1
                first = counts.reason == nil
                counts.reason = counts.reason ?? reason
            }
            tally = counts
        }
        if let reason, first {
            FileHandle.standardError.write(Data("podgap: hugepages: \(reason); message buffers come from ordinary pages instead\n".utf8))
        }
        return mapped
    }

    /// `KernelPageSize` of the mapping starting at `address`, from /proc/self/smaps; nil where none starts there.
    public static func kernelPageBytes(of address: UnsafeMutableRawPointer) -> Int? {
        // Read to its end: Foundation's whole-file read stops after the first page of a /proc file.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps"), let data = try? handle.readToEnd() else { return nil }
        try? handle.close()
        let smaps = String(decoding: data, as: UTF8.self)
        let start = String(UInt(bitPattern: address), radix: 16)
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), !line.hasSuffix(" kB"), line[..<dash].allSatisfy(\.isHexDigit) {
                // A mapping's header: "start-end perms offset dev inode path" (leading zeros dropped).
                inMapping = line[..<dash].drop(while: { $0 == "0" }) == start
            } else if inMapping, line.hasPrefix("KernelPageSize:") {
                return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
            }
        }
        return nil
    }
}
