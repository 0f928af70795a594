import Compute
#if canImport(Glibc)
import Glibc
#endif

/// Memory in an anonymous mapping of its own, returned with munmap: page-aligned, as OSU allocates
/// its buffers, and outside malloc's heap. Where a buffer lies decides where Open MPI's per-call
/// temporaries land after it, and a temporary 16 bytes past a page boundary makes the copy into it
/// 4K-alias with the page-aligned buffer it copies from (16 KiB allreduce: 12-13 us instead of
/// 9.5; benchmarks/README). Mapped, the buffers leave the heap as a C program's would be; and
/// scratch freed this way leaves glibc's dynamic mmap threshold where it was.
public struct PageBuffer<Element> {
    public let buffer: UnsafeMutableBufferPointer<Element>
    private let byteCount: Int

    /// `count` elements, uninitialized (zero pages until written). A count of zero maps one element,
    /// so that the buffer still has an address.
    public init(count: Int) throws {
        byteCount = max(count, 1) * MemoryLayout<Element>.stride
        guard let start = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              start != MAP_FAILED else {
            throw StepFailure("cannot map \(byteCount) bytes (\(String(cString: strerror(errno)))); free memory, or ask for smaller sizes")
        }
        buffer = UnsafeMutableBufferPointer(start: start.bindMemory(to: Element.self, capacity: max(count, 1)), count: count)
    }

    /// Unmaps the memory; the buffer must not be used after.
    public func release() { munmap(buffer.baseAddress, byteCount) }
}
