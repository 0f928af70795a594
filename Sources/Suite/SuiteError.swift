/// Why a suite cannot run, in one line naming the file, the YAML path and what is allowed.
public struct SuiteError: Error, CustomStringConvertible, Equatable {
    public var description: String
    /// Stopped by Ctrl-C (SIGINT) rather than by a problem: the command exits 130, not 2.
    public var interrupted = false
    public init(_ description: String, interrupted: Bool = false) { self.description = description; self.interrupted = interrupted }

    /// `FILE:LINE: path: problem` (the line where YAML knows it).
    static func at(_ file: String, _ line: Int?, _ path: String, _ problem: String) -> SuiteError {
        let location = line.map { "\(file):\($0)" } ?? file
        return SuiteError(path.isEmpty ? "\(location): \(problem)" : "\(location): \(path): \(problem)")
    }
}
