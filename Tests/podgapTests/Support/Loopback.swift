import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Records

/// Sockets on 127.0.0.1 for tests that talk HTTP to a server they start: never another address.
enum Loopback {
    /// A socket bound to 127.0.0.1 on a port the kernel picks; `listening` also listens (and
    /// never accepts: connections complete in the kernel's backlog, then nothing answers).
    static func bind(listening: Bool) throws -> (descriptor: Int32, port: UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                Glibc.bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound, !listening || listen(descriptor, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw LoopbackError("bind/listen on 127.0.0.1: \(reason)")
        }
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }

    /// A port nothing listens on at the moment (bound, read, closed).
    static func freePort() throws -> UInt16 {
        let (descriptor, port) = try bind(listening: false)
        close(descriptor)
        return port
    }

    /// GET with Foundation's own client (not podgap's), nil when nothing answered in time.
    static func get(_ url: String, timeout: Double) -> (status: Int, body: String)? {
        let answer = Locked<(status: Int, body: String)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let request = URLRequest(url: URL(string: url)!, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        let task = URLSession.shared.dataTask(with: request) { data, response, _ in
            if let response = response as? HTTPURLResponse {
                answer.value = (response.statusCode, String(decoding: data ?? Data(), as: UTF8.self))
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout + 1) == .timedOut { task.cancel() }
        return answer.value
    }
}

struct LoopbackError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
