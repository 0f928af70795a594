import Foundation

/// A one-line progress indicator on stderr, shown only when stderr is a terminal so that logs and
/// CI output stay clean.
public final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private let started = Date()
    private var lastWidth = 0

    public init(enabled: Bool = isatty(STDERR_FILENO) != 0) {
        self.enabled = enabled
    }

    public func update(_ what: String, step: Int, of total: Int) {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(started)
        var line = "\(what)  [\(step)/\(total)]  \(Int(elapsed))s"
        if step > 1 {
            let remaining = elapsed / Double(step - 1) * Double(total - step + 1)
            line += ", ~\(Int(remaining))s left"
        }
        let padding = String(repeating: " ", count: max(lastWidth - line.count, 0))
        lastWidth = line.count
        FileHandle.standardError.write(Data(("\r" + line + padding).utf8))
    }

    public func finish() {
        guard enabled, lastWidth > 0 else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: lastWidth) + "\r").utf8))
        lastWidth = 0
    }
}
