import Foundation
import Testing
@testable import RDMA

/// The parts of the verbs engine that need no adapter: control messages and data patterns.
@Suite struct VerbsProtocolTests {
    @Test func controlMessagesRoundTripLittleEndian() throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: ControlMessage.size, alignment: 8)
        defer { buffer.deallocate() }
        let message = ControlMessage(kind: .reply, flag: 1, first: 0x7f00_1234_5678_9abc, second: 0xdead_beef)
        message.write(to: buffer)
        #expect(try ControlMessage(reading: buffer) == message)
        let bytes = Array(UnsafeRawBufferPointer(start: buffer, count: ControlMessage.size))
        #expect(bytes[0..<4] == [6, 0, 0, 0])
        #expect(bytes[8..<16] == [0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12, 0x00, 0x7f])
        #expect(ControlMessage.size <= ControlMessage.receiveOffset - ControlMessage.sendOffset)
        #expect(ControlMessage.receiveOffset + ControlMessage.size <= ControlMessage.regionLength)

        buffer.storeBytes(of: UInt32(99).littleEndian, as: UInt32.self)
        #expect(throws: RDMAError.protocolViolation("unknown control message 99")) { try ControlMessage(reading: buffer) }
    }

    @Test func patternsDetectStaleTornAndForeignData() {
        let bytes = 4096
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 8)
        defer { buffer.deallocate() }
        Pattern.fill(buffer, bytes: bytes, sender: Pattern.client)
        #expect(Pattern.mismatch(buffer, bytes: bytes, sender: Pattern.client) == nil)
        // The other side's bytes, or the same sender's bytes for another size, do not pass.
        #expect(Pattern.mismatch(buffer, bytes: bytes, sender: Pattern.server) == 0)
        #expect(Pattern.mismatch(buffer, bytes: 2048, sender: Pattern.client) != nil)
        // One byte torn in the middle is found at its offset.
        buffer.storeBytes(of: ~buffer.load(fromByteOffset: 3000, as: UInt8.self), toByteOffset: 3000, as: UInt8.self)
        #expect(Pattern.mismatch(buffer, bytes: bytes, sender: Pattern.client) == 3000)
        // A zeroed buffer (nothing arrived) fails at once.
        memset(buffer, 0, bytes)
        #expect(Pattern.mismatch(buffer, bytes: bytes, sender: Pattern.client) == 0)
    }
}
