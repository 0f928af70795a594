/// Parameters a kernel cannot run with, found before any MPI traffic; the message names the option.
public struct InvalidParameters: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(description: String) { self.description = description }
}

/// A step that could not complete once running (a stalled reduction, a device fault): what
/// happened, in a sentence.
public struct StepFailure: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
