import Records

/// An MLP that stands in for a published network in the training step: the same gradient bytes
/// per step (the parameters match) and the same FLOPs per sample. An MLP's dense layers spend
/// about 6 FLOPs per parameter per row of its batch, while a convolution reuses its weights at
/// every pixel and a transformer at every token, so a proxy sample is several MLP rows (`rows`),
/// as many as bring its FLOPs to the network's, the way a token or a pixel position is a row of
/// the network's own matrix products.
public enum ProxyWorkload: String, CaseIterable, Sendable {
    case densenet121
    case resnet50
    case bertBase = "bert-base"
    case gpt2Small = "gpt2-small"

    public var network: ReferenceNetwork { ReferenceNetwork.named(rawValue)! }

    /// The shape of the stand-in.
    public struct Shape: Equatable, Sendable {
        /// Layer widths, input first: [input, hidden x (layers - 1), output].
        public var widths: [Int]
        /// MLP rows per sample of the network.
        public var rows: Int

        public var parameters: Int { zip(widths, widths.dropFirst()).map { $0 * $1 }.reduce(0, +) }
        public var gradientBytes: Int { parameters * MemoryLayout<Float>.size }

        /// One row through `TrainingStep`'s step: forward, weight gradients, and input gradients
        /// for every layer but the first (MultilayerPerceptron.flopsPerStep per row).
        public var flopsPerRow: Double {
            zip(widths, widths.dropFirst()).enumerated().reduce(0) { total, pair in
                total + 2 * Double(pair.element.0) * Double(pair.element.1) * (pair.offset > 0 ? 3 : 2)
            }
        }

        public var flopsPerSample: Double { Double(rows) * flopsPerRow }
    }

    /// Hidden layers `hiddenWidth` wide and as many as fit; the output as wide as the network's;
    /// the input width takes up the rest of the parameters, so they match to within half a
    /// hidden width. Rows per sample then round the FLOPs to within half a row's.
    public var shape: Shape {
        let network = network
        let hidden = network.hiddenWidth, output = network.outputWidth
        let square = hidden * hidden
        // At least one hidden layer after the input; the input layer then holds 0.5-1.5 hidden widths.
        let middle = max(0, Int((Double(network.parameters - hidden * output) / Double(square) - 1.5).rounded(.down)))
        let input = max(1, Int((Double(network.parameters - middle * square - hidden * output) / Double(hidden)).rounded()))
        let widths = [input] + Array(repeating: hidden, count: middle + 1) + [output]
        var shape = Shape(widths: widths, rows: 1)
        shape.rows = max(1, Int((network.trainingFLOPsPerSample / shape.flopsPerRow).rounded()))
        return shape
    }

    /// How close a stand-in must come: gradient bytes to 0.1%, FLOPs per sample to 1%.
    public static let parameterTolerance = 0.001
    public static let flopTolerance = 0.01
}
