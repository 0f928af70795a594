/// Why a suite cannot run, in one line naming the file, the YAML path and what is allowed.
public struct SuiteError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// `FILE:LINE: path: problem` (the line where YAML knows it).
    static func at(_ file: String, _ line: Int?, _ path: String, _ problem: String) -> SuiteError {
        let location = line.map { "\(file):\($0)" } ?? file
        return SuiteError(path.isEmpty ? "\(location): \(problem)" : "\(location): \(path): \(problem)")
    }
}
