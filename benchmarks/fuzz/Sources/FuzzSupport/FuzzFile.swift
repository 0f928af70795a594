import CLibFuzzer
import Foundation

/// A file of this fuzzing process's own, rewritten for every input: the readers under test take
/// paths. In /dev/shm where there is one, so that a million inputs never reach a disk. Named by the
/// pid so that `run` removes it: libFuzzer ends the process with exit(), before any deinit.
public final class FuzzFile {
    public let path: String

    public init(name: String, extension suffix: String) {
        let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = "\(folder)/podgap-fuzz-\(getpid())-\(name).\(suffix)"
    }

    public func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(descriptor >= 0, "cannot write \(path): \(String(cString: strerror(errno)))")
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            precondition(written > 0 || errno == EINTR, "cannot write \(path): \(String(cString: strerror(errno)))")
            offset += max(written, 0)
        }
    }

    public func remove() { unlink(path) }

    deinit { remove() }
}

/// The input as text, the way the CLI reads files (invalid UTF-8 repaired, not refused).
public func text(_ start: UnsafePointer<UInt8>?, _ count: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
}

/// Runs libFuzzer on `test` with this process's arguments (-max_total_time=..., corpus folders).
/// `test` must not trap on any input: a trap is a finding.
public func fuzz(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}

/// A property every input must keep. fatalError, not precondition: release builds keep its text.
public func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
