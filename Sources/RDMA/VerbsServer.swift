import Foundation

/// The passive side of `verbs-pingpong` / `verbs-bw`, like perftest's server: accepts one client,
/// echoes its pings, offers its buffer for RDMA writes, checks what arrived, and ends when the
/// client says so.
public enum VerbsServer {
    public struct Served: Sendable, Equatable {
        public var device: String
        public var port: Int
        public var points: Int
    }

    /// Serves one client on `address` (every RDMA address when nil) and `port`; `listening` is
    /// called once the port is open, so callers can say the client may start.
    public static func serve(address: String?, port: Int, timeout: Double, listening: () -> Void) throws -> Served {
        var controlRegion: Region?
        let connection = try VerbsConnection(listeningOn: address, port: port, deadline: Clock.now() + timeout,
                                             listening: listening) { connection in
            let region = try connection.register(length: ControlMessage.regionLength)
            try connection.expectControl(into: region)
            controlRegion = region
        }
        let control = controlRegion!
        var data: Region?
        var capacity = 0
        var points = 0
        while true {
            let message = try connection.receiveControl(from: control)
            let bytes = Int(clamping: message.first)
            switch message.kind {
            case .hello:
                guard bytes >= 1, bytes <= 1 << 31 else { throw RDMAError.protocolViolation("asked for \(bytes)-byte buffers") }
                capacity = bytes
                data = try connection.register(length: 2 * capacity)
                try connection.expectControl(into: control)
                try connection.send(ControlMessage(kind: .reply, flag: 1), through: control)
            case .pingPong:
                let data = try buffer(data, fitting: bytes, capacity: capacity)
                let count = Int(clamping: message.second)
                guard count >= 1 else { throw RDMAError.protocolViolation("ping-pong of \(count) messages") }
                Pattern.fill(data.base, bytes: bytes, sender: Pattern.server)
                memset(data.base + capacity, 0, bytes)
                try connection.postReceive(data, offset: capacity, length: bytes)
                try connection.send(ControlMessage(kind: .reply, flag: 1), through: control)
                for index in 0..<count {
                    let received = try connection.awaitReceive()
                    guard received == bytes else { throw RDMAError.protocolViolation("ping of \(received) bytes, expected \(bytes)") }
                    // Re-arm before answering: the client's next message may follow the pong at once.
                    if index < count - 1 {
                        try connection.postReceive(data, offset: capacity, length: bytes)
                    } else {
                        try connection.expectControl(into: control)
                    }
                    try connection.postSend(data, length: bytes)
                    _ = try connection.awaitSends()
                }
                try connection.send(report(data, bytes: bytes, capacity: capacity), through: control)
                points += 1
            case .bandwidth:
                let data = try buffer(data, fitting: bytes, capacity: capacity)
                memset(data.base + capacity, 0, bytes)
                try connection.expectControl(into: control)
                try connection.send(ControlMessage(kind: .reply, flag: 1, first: data.address(capacity),
                                                   second: UInt64(data.remoteKey)), through: control)
            case .check:
                let data = try buffer(data, fitting: bytes, capacity: capacity)
                try connection.expectControl(into: control)
                try connection.send(report(data, bytes: bytes, capacity: capacity), through: control)
                points += 1
            case .finish:
                return Served(device: connection.deviceName, port: connection.portNumber, points: points)
            case .reply:
                throw RDMAError.protocolViolation("a reply arrived where a request was expected")
            }
        }
    }

    private static func buffer(_ data: Region?, fitting bytes: Int, capacity: Int) throws -> Region {
        guard let data else { throw RDMAError.protocolViolation("a request came before hello") }
        guard bytes >= 1, bytes <= capacity else {
            throw RDMAError.protocolViolation("\(bytes) bytes is outside the registered 1...\(capacity)")
        }
        return data
    }

    /// flag 1 when the received half holds the client's pattern; otherwise the first bad offset.
    private static func report(_ data: Region, bytes: Int, capacity: Int) -> ControlMessage {
        let bad = Pattern.mismatch(data.base + capacity, bytes: bytes, sender: Pattern.client)
        return ControlMessage(kind: .reply, flag: bad == nil ? 1 : 0, first: UInt64(bad ?? 0))
    }
}
