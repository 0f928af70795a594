/// Networks whose gradients the projection knows by name: trainable parameters, as their
/// reference implementations count them, sent as float32 (4 bytes each).
public struct KnownModel: Equatable, Sendable {
    public var name: String
    public var parameters: Int
    public var source: String

    public var gradientBytes: Int { parameters * 4 }

    public static let all: [KnownModel] = [
        // CheXNet replaces the 1000-way classifier with 14 outputs: 7,978,856 - 1,025,000 + 14,350.
        KnownModel(name: "densenet121", parameters: 6_968_206,
                   source: "torchvision densenet121: 7,978,856 parameters with the ImageNet head; CheXNet's 14-class head (1024x14+14) instead of 1024x1000+1000 gives 6,968,206"),
        KnownModel(name: "resnet50", parameters: 25_557_032,
                   source: "torchvision resnet50 / Keras ResNet50: 25,557,032 parameters (He et al. 2015, ImageNet head)"),
        KnownModel(name: "bert-base", parameters: 109_482_240,
                   source: "Hugging Face bert-base-uncased BertModel: 109,482,240 parameters (Devlin et al. 2018 quote 110M)"),
        KnownModel(name: "gpt2", parameters: 124_439_808,
                   source: "Hugging Face gpt2 (small) GPT2Model: 124,439,808 parameters (Radford et al. 2019 quote 117M with a different count)"),
    ]

    public static func named(_ name: String) throws -> KnownModel {
        let key = name.lowercased().replacingOccurrences(of: "_", with: "-")
        let aliases = ["densenet-121": "densenet121", "chexnet": "densenet121", "resnet-50": "resnet50",
                       "bert": "bert-base", "gpt2-small": "gpt2", "gpt-2": "gpt2"]
        let canonical = aliases[key] ?? key
        guard let model = all.first(where: { $0.name == canonical }) else {
            throw ModelError("--model '\(name)' is not in the model table: use one of \(all.map(\.name).joined(separator: ", ")), or --gradient-bytes N")
        }
        return model
    }
}
