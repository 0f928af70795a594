import Foundation
import Spawn

/// What a finished tool left behind.
public struct ToolOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs Debian's own tools (ip, runc, umoci, the CNI plugins) and reports their failures in words.
enum Subprocess {
    /// Runs `executable` with `arguments` and waits; stdin is `input` or /dev/null.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    input: String? = nil, check: Bool = true) throws -> ToolOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        do { try process.run() } catch {
            throw PodsError.failed("cannot start \(executable): \(error.localizedDescription)")
        }
        if let inputPipe, let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so that a chatty tool cannot fill one and block.
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        let result = ToolOutput(status: process.terminationStatus,
                                stdout: String(decoding: outData, as: UTF8.self),
                                stderr: String(decoding: errData, as: UTF8.self))
        if check && result.status != 0 {
            let name = URL(fileURLWithPath: executable).lastPathComponent
            let detail = result.stderr.isEmpty ? result.stdout : result.stderr
            let line = detail.split(separator: "\n").last.map(String.init) ?? "no output"
            throw PodsError.failed("\(name) \(arguments.prefix(6).joined(separator: " ")) failed (\(result.status)): \(line)")
        }
        return result
    }

    /// `name` found on PATH (or root's sbin folders); its absence is bad input naming the package.
    static func require(_ name: String, package: String) throws -> String {
        guard let path = Executable.find(name) else {
            throw PodsError.badInput("\(name) is not installed: run scripts/setup (or apt-get install \(package))")
        }
        return path
    }
}

/// Holds what the stderr reader collected; read only after the reader has finished.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
