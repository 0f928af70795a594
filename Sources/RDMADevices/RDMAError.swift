/// What can go wrong with RDMA, worded for the person at the terminal.
public enum RDMAError: Error, CustomStringConvertible, Equatable {
    /// No usable device: the normal answer on machines without RDMA, which commands that need one
    /// turn into exit 3. The text starts "no RDMA device: ".
    case noDevice(String)
    /// A verbs or librdmacm call failed.
    case verbs(call: String, reason: String)
    /// The peer broke the ping-pong / bandwidth protocol or the connection went away.
    case protocolViolation(String)
    case timedOut(String)

    public var description: String {
        switch self {
        case .noDevice(let why): return "no RDMA device: \(why)"
        case .verbs(let call, let reason): return "\(call) failed: \(reason)"
        case .protocolViolation(let what): return "verbs peer: \(what)"
        case .timedOut(let what): return "timed out \(what)"
        }
    }
}
