/// Why a profile, a record set or a projection request cannot be used; each says what to change.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
