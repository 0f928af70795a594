import CMPI

/// An MPI call that returned something other than `MPI_SUCCESS`, with MPI's own words for it.
public struct MPIError: Error, CustomStringConvertible, Equatable {
    public let code: Int32
    public let call: String
    public let message: String

    public var description: String { "\(call) failed: \(message) (MPI error \(code))" }

    @usableFromInline
    init(code: Int32, call: String) {
        self.code = code
        self.call = call
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        if MPI_Error_string(code, &text, &length) == MPI_SUCCESS {
            message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        } else {
            message = "unknown MPI error"
        }
    }
}

/// Turns an MPI return code into a thrown `MPIError`; `call` names the function for the message.
@inlinable @inline(__always)
func check(_ code: Int32, _ call: @autoclosure () -> String) throws {
    if code != MPI_SUCCESS { throw MPIError(code: code, call: call()) }
}
