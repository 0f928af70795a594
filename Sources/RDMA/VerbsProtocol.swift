/// The few control messages the verbs client and server exchange between measured points, sent
/// from and received into a small region of their own so that they never touch measured data.
/// 32 bytes, little-endian: kind, flag, first, second.
struct ControlMessage: Equatable {
    enum Kind: UInt32 {
        /// first: largest message; the server registers buffers that big.
        case hello = 1
        /// first: bytes, second: messages (warm-up included) to echo.
        case pingPong = 2
        /// first: bytes; the server answers with where to write.
        case bandwidth = 3
        /// first: bytes written; the server checks them.
        case check = 4
        case finish = 5
        /// flag: 1 when the check passed; first/second: address and key for RDMA writes.
        case reply = 6
    }

    static let size = 32
    /// Control region layout: the send slot, then the receive slot.
    static let sendOffset = 0
    static let receiveOffset = 64
    static let regionLength = 128

    var kind: Kind
    var flag: UInt32 = 0
    var first: UInt64 = 0
    var second: UInt64 = 0

    func write(to pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: kind.rawValue.littleEndian, toByteOffset: 0, as: UInt32.self)
        pointer.storeBytes(of: flag.littleEndian, toByteOffset: 4, as: UInt32.self)
        pointer.storeBytes(of: first.littleEndian, toByteOffset: 8, as: UInt64.self)
        pointer.storeBytes(of: second.littleEndian, toByteOffset: 16, as: UInt64.self)
    }

    init(kind: Kind, flag: UInt32 = 0, first: UInt64 = 0, second: UInt64 = 0) {
        self.kind = kind; self.flag = flag; self.first = first; self.second = second
    }

    init(reading pointer: UnsafeRawPointer) throws {
        let raw = UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard let kind = Kind(rawValue: raw) else { throw RDMAError.protocolViolation("unknown control message \(raw)") }
        self.kind = kind
        flag = UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        first = UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        second = UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
    }
}

/// The bytes each side sends, so that the receiver can tell a whole, correct message from stale
/// or torn memory: depends on the size and on who sent it.
enum Pattern {
    static let client: UInt8 = 0x5a
    static let server: UInt8 = 0xa5

    static func byte(_ index: Int, bytes: Int, sender: UInt8) -> UInt8 {
        // Fibonacci hashing spreads sizes (all powers of two) over the seed's eight bits.
        let seed = UInt8(truncatingIfNeeded: (UInt64(bytes) &* 0x9E37_79B9_7F4A_7C15) >> 56)
        return UInt8(truncatingIfNeeded: index &* 131 &+ (index >> 8)) ^ seed ^ sender
    }

    static func fill(_ pointer: UnsafeMutableRawPointer, bytes: Int, sender: UInt8) {
        let buffer = pointer.bindMemory(to: UInt8.self, capacity: bytes)
        for index in 0..<bytes { buffer[index] = byte(index, bytes: bytes, sender: sender) }
    }

    /// The first index that differs, or nil when all `bytes` match.
    static func mismatch(_ pointer: UnsafeRawPointer, bytes: Int, sender: UInt8) -> Int? {
        let buffer = pointer.bindMemory(to: UInt8.self, capacity: bytes)
        return (0..<bytes).first { buffer[$0] != byte($0, bytes: bytes, sender: sender) }
    }
}
