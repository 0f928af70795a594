import Records
/// Networks whose gradients the projection knows by name: trainable parameters, as their
/// reference implementations count them, sent as float32 (4 bytes each).
public struct KnownModel: Equatable, Sendable {
    public var name: String
    public var parameters: Int
    public var source: String

    public var gradientBytes: Int { parameters * 4 }

    /// The networks of the shared reference table (Records' ReferenceNetwork).
    public static let all: [KnownModel] = ReferenceNetwork.all.map {
        KnownModel(name: $0.name, parameters: $0.parameters, source: $0.parameterSource)
    }

    public static func named(_ name: String) throws -> KnownModel {
        guard let network = ReferenceNetwork.named(name), let model = all.first(where: { $0.name == network.name }) else {
            throw ModelError("--model '\(name)' is not in the model table: use one of \(all.map(\.name).joined(separator: ", ")), or --gradient-bytes N")
        }
        return model
    }
}
