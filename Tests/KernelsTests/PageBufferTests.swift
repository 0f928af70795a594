import Foundation
import Testing
import Kernels
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
