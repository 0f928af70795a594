import Dispatch
import Compute
import Kernels
import MPI
import Records
import Statistics

/// The machine-state probe every launch runs before its kernel: a fixed amount of work, a
/// memory-bound float sum and a short compute-bound GEMM, timed. Machines like this one switch
/// between a fast and a slow mode for minutes; two launches whose probes differ ran in different
/// modes, and a report can tell them apart. About 20-50 ms on a 2-core VM. The measuring half of
/// Records' `MachineProbe` (the value every record keeps), where MPI and BLAS are at hand.
extension MachineProbe {
    /// y += x over this many float32 elements: two 8 MiB arrays, more than most L2 caches.
    static let sumElements = 1 << 21
    static let sumPasses = 3
    /// One 256 x 256 x 256 product (34 MFLOP), a few times.
    static let gemmSide = 256
    static let gemmPasses = 5

    /// Every rank probes at once, as they run the kernel; the record keeps the slowest rank's
    /// rates and its time. Collective.
    public static func probe(on communicator: Communicator) throws -> MachineProbe {
        try communicator.barrier()
        let mine = try measure()
        let rates = try communicator.allreduce([mine.sumGBps, mine.gemmGflops], operation: .min)
        let seconds = try communicator.allreduce(mine.seconds, operation: .max)
        return MachineProbe(sumGBps: rates[0], gemmGflops: rates[1], seconds: seconds)
    }

    /// This process alone: the median pass of each part. OpenBLAS runs one thread meanwhile, so
    /// ranks sharing cores measure the same work whatever thread count the kernel set.
    public static func measure() throws -> MachineProbe {
        let threads = Matrix.threads
        Matrix.threads = 1
        defer { Matrix.threads = threads }
        let start = now()

        // Mapped directly, not through malloc: freeing 8 MiB that malloc had mapped raises glibc's
        // dynamic mmap threshold, after which Open MPI's temporaries come from the heap at other
        // page offsets. That made the 16 KiB allreduce after the probe a third slower than
        // osu_allreduce's, whose process never frees such a block (benchmarks/README).
        let xMapping = try PageBuffer<Float>(count: sumElements)
        defer { xMapping.release() }
        let yMapping = try PageBuffer<Float>(count: sumElements)
        defer { yMapping.release() }
        let x = xMapping.buffer, y = yMapping.buffer
        x.initialize(repeating: 0.5)
        y.initialize(repeating: 1)
        let sumTimes = (0..<sumPasses).map { _ in
            timed { Matrix.addScaled(x.baseAddress!, times: 1, to: y.baseAddress!, count: sumElements) }
        }
        // Read x and y, write y.
        let sumBytes = Double(3 * sumElements * MemoryLayout<Float>.size)

        let side = gemmSide
        let aMapping = try PageBuffer<Float>(count: side * side)
        defer { aMapping.release() }
        let bMapping = try PageBuffer<Float>(count: side * side)
        defer { bMapping.release() }
        let cMapping = try PageBuffer<Float>(count: side * side)
        defer { cMapping.release() }
        let a = aMapping.buffer, b = bMapping.buffer, c = cMapping.buffer
        a.initialize(repeating: 0.25)
        b.initialize(repeating: 0.5)
        c.initialize(repeating: 0)
        let gemmTimes = (0..<gemmPasses).map { _ in
            timed { Matrix.multiply(a.baseAddress!, b.baseAddress!, into: c.baseAddress!, m: side, n: side, k: side) }
        }
        let flops = Matrix.flops(m: side, n: side, k: side)

        let sumMedian = Median.ofSorted(sumTimes.sorted()), gemmMedian = Median.ofSorted(gemmTimes.sorted())
        return MachineProbe(sumGBps: sumMedian > 0 ? sumBytes / sumMedian / 1e9 : 0,
                            gemmGflops: gemmMedian > 0 ? flops / gemmMedian / 1e9 : 0,
                            seconds: now() - start)
    }

    /// A monotonic clock that needs no MPI: the verbs baselines probe without it.
    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private static func timed(_ body: () -> Void) -> Double {
        let start = now()
        body()
        return now() - start
    }
}
