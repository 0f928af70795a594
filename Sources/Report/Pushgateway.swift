import Foundation
import Records

/// A Prometheus Pushgateway at `http://HOST[:PORT][/PREFIX]`, and one PUT of an exposition body
/// into a job's group. A plain HTTP/1.1 client over POSIX sockets rather than URLSession:
/// FoundationNetworking would add libcurl and its TLS libraries to the podgap binary's library
/// closure, which `podgap image` copies into every pod's image; and every step (name lookup,
/// connect, send, answer) is bounded by one deadline here. So `https` is refused by name.
public struct Pushgateway: Sendable {
    /// The URL as the user gave it, for messages.
    public let url: String
    let host: String
    let port: UInt16
    /// The URL's path without its trailing slash ("" for none): gateways behind a path prefix.
    let prefix: String

    /// The OpenMetrics media type. Debian 12's Pushgateway (1.5.1) reads any body that is not
    /// protobuf with the Prometheus text parser, to which `# UNIT` and `# EOF` are comments, so the
    /// same body as `report --format openmetrics` is accepted as it is.
    public static let contentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

    /// Parses the URL; the error says what is wrong with it and what to give instead.
    public init(_ url: String) throws {
        self.url = url
        let example = "give http://HOST:PORT, e.g. http://127.0.0.1:9091"
        // "localhost:9091" would parse with scheme "localhost": without "://" it is not a URL here.
        guard url.contains("://"), let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased() else {
            throw PushgatewayError("pushgateway URL '\(url)' does not parse: \(example)")
        }
        guard scheme == "http" else {
            throw PushgatewayError("pushgateway URL '\(url)': scheme '\(scheme)' is not supported (podgap pushes plain HTTP): \(example)")
        }
        guard let host = parts.host, !host.isEmpty else {
            throw PushgatewayError("pushgateway URL '\(url)' names no host: \(example)")
        }
        guard parts.user == nil, parts.password == nil, parts.query == nil, parts.fragment == nil else {
            throw PushgatewayError("pushgateway URL '\(url)' carries credentials, a query or a fragment, which a push does not take: \(example)")
        }
        // URLComponents accepts any port number; a TCP port is 1-65535.
        if let port = parts.port, !(1...65535).contains(port) {
            throw PushgatewayError("pushgateway URL '\(url)': port \(port) is not a TCP port (1-65535): \(example)")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = UInt16(parts.port ?? 80)
        var prefix = parts.percentEncodedPath
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.prefix = prefix
    }

    /// Where a push for `job` goes. A job name that is not a plain path segment is sent in the
    /// Pushgateway's base64url form (`job@base64/...`), so a slash in it stays in the name.
    public func endpoint(job: String) -> String {
        "http://\(authority)\(path(job: job))"
    }

    var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    func path(job: String) -> String {
        let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        if job.unicodeScalars.allSatisfy(plain.contains) { return "\(prefix)/metrics/job/\(job)" }
        let encoded = Data(job.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        return "\(prefix)/metrics/job@base64/\(encoded)"
    }

    /// PUTs `body` into `job`'s group (replacing what the group held: a report is a whole
    /// snapshot) and returns the gateway's HTTP status. Throws when the host does not resolve,
    /// nothing answers, the whole exchange takes longer than `timeout` seconds, or the status is
    /// not 2xx; the error is one line naming the endpoint and what happened.
    @discardableResult
    public func push(body: String, job: String, timeout: Double) throws -> Int {
        guard !job.isEmpty else { throw PushgatewayError("--job is empty: the Pushgateway groups pushes by job name; give one, e.g. podgap") }
        let endpoint = endpoint(job: job)
        let deadline = Date().addingTimeInterval(timeout)
        let seconds = String(format: "%g", timeout)
        func fail(_ what: String) -> PushgatewayError { PushgatewayError("pushgateway \(endpoint): \(what); nothing was pushed") }

        let addresses = try resolve(before: deadline, fail: fail)
        var connected: Int32?
        var reason = "no address"
        // The next address (IPv4 after IPv6, say) while time is left.
        for address in addresses where connected == nil && reason != Exchange.timedOut {
            do { connected = try Exchange.connect(address, before: deadline) } catch {
                reason = (error as? Exchange.Failure)?.reason ?? "\(error)"
            }
        }
        guard let descriptor = connected else {
            throw fail(reason == Exchange.timedOut ? "no connection within \(seconds)s" : "cannot connect: \(reason)")
        }
        defer { close(descriptor) }

        let payload = Array(body.utf8)
        let request = "PUT \(path(job: job)) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: podgap\r\n"
            + "Content-Type: \(Self.contentType)\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        do {
            try Exchange.send(Array(request.utf8) + payload, on: descriptor, before: deadline)
        } catch let error as Exchange.Failure {
            throw fail(error.reason == Exchange.timedOut ? "the request was not taken within \(seconds)s" : "sending failed: \(error.reason)")
        }
        let answer: [UInt8]
        do { answer = try Exchange.receive(on: descriptor, before: deadline) } catch let error as Exchange.Failure {
            throw fail(error.reason == Exchange.timedOut ? "no answer within \(seconds)s" : "reading the answer failed: \(error.reason)")
        }
        let text = String(decoding: answer, as: UTF8.self)
        // "\r\n" is one Character in Swift, and isNewline.
        let statusLine = text.prefix { !$0.isNewline }
        let fields = statusLine.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else {
            throw fail(answer.isEmpty ? "the connection closed without an answer (is it a Pushgateway?)"
                                      : "the answer is not HTTP: '\(Self.oneLine(String(text.prefix(80))))'")
        }
        guard (200..<300).contains(status) else {
            // The gateway says why in the body's first line (e.g. "pushed metrics are invalid ...").
            let reason = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
            let said = Self.oneLine(String(reason.prefix(300)))
            throw fail("HTTP \(fields.dropFirst().joined(separator: " "))" + (said.isEmpty ? "" : ": \(said)"))
        }
        return status
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// The host's addresses. getaddrinfo cannot be given a deadline, so it runs on a thread of its
    /// own and the push gives up at the deadline (the thread ends with the process).
    private func resolve(before deadline: Date, fail: (String) -> PushgatewayError) throws -> [Exchange.Address] {
        let outcome = Locked<Result<[Exchange.Address], Exchange.Failure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let host = host, port = port
        Thread.detachNewThread {
            outcome.value = Exchange.addresses(of: host, port: port)
            done.signal()
        }
        guard done.wait(timeout: .now() + max(0, deadline.timeIntervalSinceNow)) == .success, let result = outcome.value else {
            throw fail("the name \(host) did not resolve in time")
        }
        switch result {
        case .success(let addresses): return addresses
        case .failure(let error): throw fail("the name \(host) does not resolve: \(error.reason)")
        }
    }
}

/// What went wrong with a push, in one line.
public struct PushgatewayError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Non-blocking socket steps, each waiting with poll(2) no longer than the deadline.
enum Exchange {
    static let timedOut = "timed out"
    /// Enough for any status line and the gateway's error text; the rest of an answer is not read.
    static let answerLimit = 64 * 1024

    struct Failure: Error { var reason: String }

    struct Address: Sendable {
        var family: Int32
        var bytes: [UInt8]
    }

    static func systemReason(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    static func addresses(of host: String, port: UInt16) -> Result<[Address], Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0 else { return .failure(Failure(reason: String(cString: gai_strerror(code)))) }
        defer { freeaddrinfo(list) }
        var found: [Address] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr {
                let bytes = UnsafeRawBufferPointer(start: address, count: Int(current.pointee.ai_addrlen))
                found.append(Address(family: current.pointee.ai_family, bytes: Array(bytes)))
            }
            entry = current.pointee.ai_next
        }
        return found.isEmpty ? .failure(Failure(reason: "no address")) : .success(found)
    }

    /// Milliseconds left for poll(2), at least 0.
    static func remaining(_ deadline: Date) -> Int32 {
        Int32(max(0, min(Double(Int32.max), deadline.timeIntervalSinceNow * 1000)).rounded(.up))
    }

    /// Waits until `descriptor` is ready for `events` or the deadline passes.
    static func wait(_ descriptor: Int32, for events: Int16, before deadline: Date) throws {
        while true {
            let left = remaining(deadline)
            guard left > 0 else { throw Failure(reason: timedOut) }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, left)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw Failure(reason: systemReason()) }
        }
    }

    static func connect(_ address: Address, before deadline: Date) throws -> Int32 {
        let descriptor = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(reason: systemReason()) }
        let started = address.bytes.withUnsafeBytes {
            Glibc.connect(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        if started != 0 && errno != EINPROGRESS {
            let reason = systemReason()
            close(descriptor)
            throw Failure(reason: reason)
        }
        do {
            if started != 0 {
                try wait(descriptor, for: Int16(POLLOUT), before: deadline)
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
                if code != 0 { throw Failure(reason: systemReason(code)) }
            }
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    static func send(_ bytes: [UInt8], on descriptor: Int32, before deadline: Date) throws {
        var offset = 0
        while offset < bytes.count {
            try wait(descriptor, for: Int16(POLLOUT), before: deadline)
            // MSG_NOSIGNAL: a gateway that hangs up must give an error here, not kill podgap.
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure(reason: systemReason())
            }
            offset += sent
        }
    }

    /// Reads until the gateway closes the connection (the request said `Connection: close`) or
    /// the answer reaches `answerLimit`.
    static func receive(on descriptor: Int32, before deadline: Date) throws -> [UInt8] {
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while answer.count < answerLimit {
            try wait(descriptor, for: Int16(POLLIN), before: deadline)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure(reason: systemReason())
            }
            answer += buffer[..<count]
            if let length = complete(answer), answer.count >= length { break }
        }
        return answer
    }

    /// The length of the whole answer once its header is in and gives a Content-Length, so a
    /// gateway that keeps the connection open anyway is not waited on until the deadline.
    static func complete(_ answer: [UInt8]) -> Int? {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        guard answer.count >= end.count,
              let start = (0...(answer.count - end.count)).first(where: { answer[$0..<($0 + end.count)].elementsEqual(end) })
        else { return nil }
        let header = String(decoding: answer[..<start], as: UTF8.self).lowercased()
        for line in header.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            if let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                return start + end.count + length
            }
        }
        return nil
    }
}
