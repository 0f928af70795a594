import Foundation
import Spawn

/// What a finished tool left behind.
public struct ToolOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs Debian's own tools (ip, runc, umoci, the CNI plugins) through Spawn's one runner and
/// reports their failures in words.
enum Subprocess {
    /// Longest any tool may take: far above a runc start or an image layer (seconds), so that
    /// only a hung tool reaches it.
    static let timeout: Double = 600

    /// Runs `executable` with `arguments` and waits; stdin is `input` or /dev/null.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    input: String? = nil, check: Bool = true, timeout: Double = Subprocess.timeout) throws -> ToolOutput {
        let name = URL(fileURLWithPath: executable).lastPathComponent
        let captured: CapturedOutput
        do {
            captured = try Child.capture([executable] + arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                                         input: input, timeout: timeout)
        } catch let error as SpawnError {
            throw PodsError.failed(error.description)
        }
        if captured.timedOut {
            throw PodsError.failed("\(name) \(arguments.prefix(6).joined(separator: " ")) did not finish in \(Int(timeout)) s and was ended")
        }
        let result = ToolOutput(status: captured.status, stdout: captured.stdout, stderr: captured.stderr)
        if check && result.status != 0 {
            let detail = result.stderr.isEmpty ? result.stdout : result.stderr
            let line = detail.split(separator: "\n").last.map(String.init) ?? "no output"
            throw PodsError.failed("\(name) \(arguments.prefix(6).joined(separator: " ")) failed (\(result.status)): \(line)")
        }
        return result
    }

    /// `name` found on PATH (or root's sbin folders); its absence is bad input naming the package.
    static func require(_ name: String, package: String) throws -> String {
        do { return try Executable.require(name, package: package) } catch let missing as MissingExecutable {
            throw PodsError.badInput(missing.description)
        }
    }
}
