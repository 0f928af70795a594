import Foundation

/// Networks people train data-parallel, with their published size and cost: the gradients a step
/// reduces (trainable parameters, sent as float32) and the arithmetic a sample costs. The model's
/// projections (`--model`) and the training step's proxies (`--proxy`) read them from here.
///
/// FLOPs count a multiply and an add as two. A training step costs three forward passes per
/// sample (the backward pass is about twice the forward: gradients with respect to the inputs and
/// to the weights), the convention of Kaplan et al. 2020 (C = 6N per token) and of MLPerf.
public struct ReferenceNetwork: Sendable, Equatable {
    /// The name used on the command line: densenet121, resnet50, bert-base, gpt2.
    public var name: String
    public var title: String
    /// Trainable parameters, as the reference implementation counts them.
    public var parameters: Int
    public var parameterSource: String
    /// One forward pass over one sample (an image, or a whole sequence).
    public var forwardFLOPsPerSample: Double
    public var flopSource: String
    /// What one sample is: "224x224 image", "sequence of 128 tokens".
    public var sample: String
    /// Samples per GPU per step in the reference runs podgap compares with.
    public var referenceBatch: Int
    /// The width of the network's output (classes, or the model width), for a proxy's last layer.
    public var outputWidth: Int
    /// The width a proxy's hidden layers use: the network's widest dense dimension.
    public var hiddenWidth: Int

    public var gradientBytes: Int { parameters * 4 }
    public var trainingFLOPsPerSample: Double { 3 * forwardFLOPsPerSample }

    public static let all: [ReferenceNetwork] = [
        // CheXNet (the study podgap reproduces) replaces the 1000-way classifier with 14 outputs.
        ReferenceNetwork(
            name: "densenet121", title: "DenseNet-121 (CheXNet, 14 classes)", parameters: 6_968_206,
            parameterSource: "torchvision densenet121: 7,978,856 parameters with the ImageNet head; CheXNet's 14-class head (1024x14+14) instead of 1024x1000+1000 gives 6,968,206",
            forwardFLOPsPerSample: 2 * 2.83e9,
            flopSource: "torchvision DenseNet121_Weights: 2.83 G multiply-adds per 224x224 image (its 'GFLOPS' column counts multiply-adds, as timm's GMACs for the same weights show); the 14-class head saves 1 M of them",
            sample: "224x224 image", referenceBatch: 64, outputWidth: 14, hiddenWidth: 1024),
        ReferenceNetwork(
            name: "resnet50", title: "ResNet-50", parameters: 25_557_032,
            parameterSource: "torchvision resnet50 / Keras ResNet50: 25,557,032 parameters (He et al. 2015, ImageNet head)",
            forwardFLOPsPerSample: 2 * 4.09e9,
            flopSource: "torchvision ResNet50_Weights: 4.09 G multiply-adds per 224x224 image (He et al. 2015 quote 3.8 G without the classifier and shortcut projections)",
            sample: "224x224 image", referenceBatch: 64, outputWidth: 1000, hiddenWidth: 2048),
        ReferenceNetwork(
            name: "bert-base", title: "BERT-base, sequence 128", parameters: 109_482_240,
            parameterSource: "Hugging Face bert-base-uncased BertModel: 109,482,240 parameters (Devlin et al. 2018 quote 110M), 85,054,464 of them outside the embeddings",
            forwardFLOPsPerSample: 128 * (2 * 85_054_464 + 2 * 12 * 128 * 768),
            flopSource: "Kaplan et al. 2020 (arXiv:2001.08361) Table 1: 2N + 2 n_layer n_ctx d_model per token, N = 85,054,464 non-embedding parameters, 12 layers, d_model 768, 128 tokens",
            sample: "sequence of 128 tokens", referenceBatch: 32, outputWidth: 768, hiddenWidth: 3072),
        ReferenceNetwork(
            name: "gpt2", title: "GPT-2 small, sequence 1024", parameters: 124_439_808,
            parameterSource: "Hugging Face gpt2 (small) GPT2Model: 124,439,808 parameters (Radford et al. 2019 quote 117M with a different count), 85,054,464 of them outside the embeddings",
            forwardFLOPsPerSample: 1024 * (2 * 85_054_464 + 2 * 12 * 1024 * 768),
            flopSource: "Kaplan et al. 2020 (arXiv:2001.08361) Table 1: 2N + 2 n_layer n_ctx d_model per token, N = 85,054,464 non-embedding parameters, 12 layers, d_model 768, 1024 tokens",
            sample: "sequence of 1024 tokens", referenceBatch: 8, outputWidth: 768, hiddenWidth: 3072),
    ]

    /// Other spellings people use for the same networks.
    public static let aliases = ["densenet-121": "densenet121", "chexnet": "densenet121", "resnet-50": "resnet50",
                                 "bert": "bert-base", "gpt2-small": "gpt2", "gpt-2": "gpt2"]

    /// The network called `name` (any listed spelling), or nil.
    public static func named(_ name: String) -> ReferenceNetwork? {
        let key = name.lowercased().replacingOccurrences(of: "_", with: "-")
        let canonical = aliases[key] ?? key
        return all.first { $0.name == canonical }
    }
}
