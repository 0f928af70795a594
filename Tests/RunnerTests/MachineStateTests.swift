import Foundation
import Testing
@testable import Runner

/// The machine-state probe runs before every kernel, so it must leave no trace in how malloc serves
/// the kernel and Open MPI afterwards: its scratch bypasses malloc (benchmarks/README, "16 KiB").
@Suite(.serialized) struct MachineStateTests {
    @Test func probeScratchIsNotMallocsAndIsUnmappedOnRelease() throws {
        let array = try ProbeArray(count: (1 << 23) / MemoryLayout<Float>.stride)
        array.initialize(repeating: 1)
        // malloc hands out 16 bytes past a chunk header, never a page start (a block it maps sits
        // 16 bytes into its mapping), and its heap is the "[heap]" mapping.
        let start = UInt(bitPattern: array.baseAddress!)
        #expect(start % UInt(sysconf(Int32(_SC_PAGESIZE))) == 0)
        #expect(try mapping(covering: start) != "[heap]")
        array.release()
        #expect(try mapping(covering: start) == nil)
    }

    @Test func probeMeasuresBothRates() throws {
        let probe = try MachineState.measure()
        #expect(probe.sumGBps > 0)
        #expect(probe.gemmGflops > 0)
        #expect(probe.seconds > 0)
    }

    /// The name (path or "[heap]", "" when anonymous) of the /proc/self/maps line covering this
    /// address, nil when none does.
    private func mapping(covering address: UInt) throws -> String? {
        for line in try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let range = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            if range.count == 2, range[0] <= address, address < range[1] { return fields.count > 5 ? String(fields[5]) : "" }
        }
        return nil
    }
}
