/// Exit codes users and scripts can rely on (docs/exit-codes.md); new ones only with that page.
public enum ExitStatus: Int32, Sendable {
    case unverified = 1
    case badInput = 2
    case noDevice = 3
    case timedOut = 124
    case interrupted = 130
}

/// A failure with the words to show and the exit code to leave with: the CLI prints `message` as
/// one line and exits with `code`.
public struct RunFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var code: ExitStatus
    /// Print on every rank (a rank-local fault), not only rank 0.
    public var everyRank: Bool

    public init(message: String, code: ExitStatus, everyRank: Bool = false) {
        self.message = message; self.code = code; self.everyRank = everyRank
    }

    public static func badInput(_ message: String) -> RunFailure { RunFailure(message: message, code: .badInput) }

    public var description: String { message }
}
