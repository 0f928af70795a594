/// Parameters a kernel cannot run with, found before any MPI traffic; the message names the option.
public struct InvalidParameters: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) { self.description = description }
}
