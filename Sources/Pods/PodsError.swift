/// Why a pods or image command stopped: bad input (exit 2, nothing created), something this
/// machine lacks (exit 3, nothing created), or a failure on the way.
public enum PodsError: Error, CustomStringConvertible, Equatable {
    /// The user can fix it: a bad flag, a missing tool or image, no root.
    case badInput(String)
    /// The machine lacks what was asked for: a GPU, user namespaces.
    case unavailable(String)
    /// Something failed while creating or running; what was created has been removed.
    case failed(String)

    public var description: String {
        switch self {
        case .badInput(let message), .unavailable(let message), .failed(let message): return message
        }
    }

    public var isBadInput: Bool {
        if case .badInput = self { return true }
        return false
    }
}
