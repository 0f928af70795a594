import Foundation

/// One measured point of the verbs baseline.
public struct VerbsPoint: Sendable, Equatable {
    public var bytes: Int
    public var warmup: Int
    public var iterations: Int
    /// Seconds per message: half a round trip (ping-pong), or a window's time divided by its
    /// messages (bandwidth).
    public var samples: [Double]
    /// Wall time of the timed messages, all of them.
    public var elapsed: Double
    public var verified: Bool
    public var verification: String
}

/// The measuring side of `verbs-pingpong` / `verbs-bw`, like perftest's client: it connects to
/// a `VerbsServer`, drives every point, and times it.
public final class VerbsClient {
    /// Largest message; both sides register two buffers this big (send and receive).
    public let capacity: Int
    private let connection: VerbsConnection
    private let control: Region
    private let data: Region

    public var device: String { connection.deviceName }
    public var port: Int { connection.portNumber }

    public init(server: String, port: Int, capacity: Int, timeout: Double) throws {
        var control: Region?
        connection = try VerbsConnection(connectingTo: server, port: port, deadline: Clock.now() + timeout) {
            control = try $0.register(length: ControlMessage.regionLength)
        }
        self.control = control!
        self.capacity = capacity
        data = try connection.register(length: 2 * capacity)
        let reply = try exchange(ControlMessage(kind: .hello, first: UInt64(capacity)))
        guard reply.flag == 1 else { throw RDMAError.protocolViolation("the server refused \(capacity)-byte buffers") }
    }

    /// Send/receive ping-pong, as `ib_send_lat`: each sample is half a round trip.
    public func pingPong(bytes: Int, warmup: Int, iterations: Int) throws -> VerbsPoint {
        try check(bytes)
        Pattern.fill(data.base, bytes: bytes, sender: Pattern.client)
        memset(data.base + capacity, 0, bytes)
        let total = warmup + iterations
        _ = try exchange(ControlMessage(kind: .pingPong, first: UInt64(bytes), second: UInt64(total)))
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        var elapsed = 0.0
        for index in 0..<total {
            try connection.postReceive(data, offset: capacity, length: bytes)
            // The server reports its check right after the last pong; be ready for it.
            if index == total - 1 { try connection.expectControl(into: control) }
            let start = Clock.now()
            try connection.postSend(data, length: bytes)
            let received = try connection.awaitReceive()
            _ = try connection.awaitSends()
            let end = Clock.now()
            guard received == bytes else { throw RDMAError.protocolViolation("pong of \(received) bytes, expected \(bytes)") }
            if index >= warmup {
                samples.append((end - start) / 2)
                elapsed += end - start
            }
        }
        let report = try connection.receiveControl(from: control)
        let mine = Pattern.mismatch(data.base + capacity, bytes: bytes, sender: Pattern.server)
        return point(bytes: bytes, warmup: warmup, iterations: iterations, samples: samples, elapsed: elapsed,
                     serverMismatch: report.flag == 1 ? nil : Int(report.first), clientMismatch: mine,
                     what: "every byte of the last ping and pong arrived as sent")
    }

    /// RDMA writes kept `window` deep, as `ib_write_bw`: each sample is one window's time per message.
    public func bandwidth(bytes: Int, warmup: Int, iterations: Int) throws -> VerbsPoint {
        try check(bytes)
        Pattern.fill(data.base, bytes: bytes, sender: Pattern.client)
        let target = try exchange(ControlMessage(kind: .bandwidth, first: UInt64(bytes)))
        let remote = (address: target.first, key: UInt32(truncatingIfNeeded: target.second))
        let window = Int(VerbsConnection.sendDepth / 2)
        _ = try stream(bytes: bytes, count: warmup, window: window, remote: remote)
        let (samples, elapsed) = try stream(bytes: bytes, count: iterations, window: window, remote: remote)
        let report = try exchange(ControlMessage(kind: .check, first: UInt64(bytes)))
        return point(bytes: bytes, warmup: warmup, iterations: iterations, samples: samples, elapsed: elapsed,
                     serverMismatch: report.flag == 1 ? nil : Int(report.first), clientMismatch: nil,
                     what: "the server's buffer held every written byte")
    }

    /// Tells the server to finish; the connection closes when the client goes.
    public func finish() throws {
        try connection.send(ControlMessage(kind: .finish), through: control)
    }

    private func stream(bytes: Int, count: Int, window: Int, remote: (address: UInt64, key: UInt32)) throws
        -> (samples: [Double], elapsed: Double) {
        guard count > 0 else { return ([], 0) }
        var posted = 0, completed = 0, marked = 0
        var samples: [Double] = []
        let start = Clock.now()
        var mark = start
        while completed < count {
            while posted < count && posted - completed < window {
                try connection.postSend(data, length: bytes, remote: remote)
                posted += 1
            }
            completed += try connection.awaitSends(max: 16)
            if completed - marked >= window || completed == count {
                let now = Clock.now()
                samples.append((now - mark) / Double(completed - marked))
                mark = now
                marked = completed
            }
        }
        return (samples, mark - start)
    }

    private func exchange(_ message: ControlMessage) throws -> ControlMessage {
        try connection.expectControl(into: control)
        try connection.send(message, through: control)
        let reply = try connection.receiveControl(from: control)
        guard reply.kind == .reply else { throw RDMAError.protocolViolation("expected a reply, got \(reply.kind)") }
        return reply
    }

    private func check(_ bytes: Int) throws {
        guard bytes >= 1, bytes <= capacity else {
            throw RDMAError.protocolViolation("\(bytes) bytes is outside the registered 1...\(capacity)")
        }
    }

    private func point(bytes: Int, warmup: Int, iterations: Int, samples: [Double], elapsed: Double,
                       serverMismatch: Int?, clientMismatch: Int?, what: String) -> VerbsPoint {
        var problems: [String] = []
        if let serverMismatch { problems.append("the server saw a wrong byte at offset \(serverMismatch)") }
        if let clientMismatch { problems.append("the client saw a wrong byte at offset \(clientMismatch)") }
        return VerbsPoint(bytes: bytes, warmup: warmup, iterations: iterations, samples: samples, elapsed: elapsed,
                          verified: problems.isEmpty, verification: problems.isEmpty ? what : problems.joined(separator: "; "))
    }
}
