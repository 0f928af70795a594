import Statistics
import Records
/// A multilayer perceptron without biases: `widths[0]` inputs, ReLU after every hidden layer, a
/// linear output, trained on mean squared error. Layer l's weights are a widths[l+1] x widths[l]
/// row-major block of one flat buffer, and its gradients sit at the same offsets of another, so
/// that a run of consecutive layers is one contiguous range to reduce.
/// A class because it owns large buffers that must not be copied.
public final class Perceptron {
    public let widths: [Int]
    public let batch: Int
    /// Where each layer's weights start in `weights` and `gradients`; the last entry is the total.
    public let offsets: [Int]
    public let weights: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    /// Activations per layer, batch x widths[l]; [0] is the input the caller fills, the last the output.
    private let activations: [UnsafeMutableBufferPointer<Float>]
    /// Two batch x max(widths) buffers for the gradient flowing backward, used in turn.
    private var delta: UnsafeMutableBufferPointer<Float>
    private var deltaNext: UnsafeMutableBufferPointer<Float>

    public var layerCount: Int { widths.count - 1 }
    public var parameterCount: Int { offsets[layerCount] }
    public var inputs: UnsafeMutableBufferPointer<Float> { activations[0] }
    public var outputs: UnsafeMutableBufferPointer<Float> { activations[layerCount] }

    /// Weights drawn uniformly with He scaling from `seed`: every rank given the same seed starts
    /// from the same weights, as data-parallel training requires.
    public init(widths: [Int], batch: Int, seed: UInt64) {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 } && batch > 0, "at least one layer, positive sizes")
        self.widths = widths
        self.batch = batch
        var offsets = [0]
        for layer in 0..<(widths.count - 1) { offsets.append(offsets[layer] + widths[layer] * widths[layer + 1]) }
        self.offsets = offsets
        let count = offsets[widths.count - 1]
        weights = .allocate(capacity: count)
        gradients = .allocate(capacity: count)
        gradients.initialize(repeating: 0)
        var generator = SeededGenerator(seed: seed)
        for layer in 0..<(widths.count - 1) {
            let scale = Float((6.0 / Double(widths[layer])).squareRoot())
            for index in offsets[layer]..<offsets[layer + 1] { weights[index] = generator.nextSignedFloat() * scale }
        }
        activations = widths.map { width in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: batch * width)
            buffer.initialize(repeating: 0)
            return buffer
        }
        let widest = widths.max()!
        delta = .allocate(capacity: batch * widest)
        deltaNext = .allocate(capacity: batch * widest)
        delta.initialize(repeating: 0)
        deltaNext.initialize(repeating: 0)
    }

    deinit {
        weights.deallocate(); gradients.deallocate()
        activations.forEach { $0.deallocate() }
        delta.deallocate(); deltaNext.deallocate()
    }

    /// The elements of `weights` (and `gradients`) that belong to layers `layers`.
    public func parameterRange(of layers: Range<Int>) -> Range<Int> { offsets[layers.lowerBound]..<offsets[layers.upperBound] }

    /// Runs the batch in `inputs` through every layer into `outputs`.
    public func forward() {
        for layer in 0..<layerCount {
            let input = activations[layer], output = activations[layer + 1]
            Matrix.multiply(input.baseAddress!, weights.baseAddress! + offsets[layer], into: output.baseAddress!,
                            m: batch, n: widths[layer + 1], k: widths[layer], transposeB: true)
            if layer < layerCount - 1 {
                for index in 0..<output.count where output[index] < 0 { output[index] = 0 }
            }
        }
    }

    /// Squared error of `outputs` against `targets` (summed, not averaged), and the loss gradient
    /// at the output, `2 (output - target) / divisor`, where divisor is the global batch times the
    /// output width: the mean over every sample of every rank once gradients are summed.
    public func outputGradient(targets: UnsafePointer<Float>, divisor: Int) -> Double {
        let output = outputs
        let scale = 2 / Float(divisor)
        var sum = 0.0
        for index in 0..<output.count {
            let difference = output[index] - targets[index]
            sum += Double(difference * difference)
            delta[index] = difference * scale
        }
        return sum
    }

    /// Back-propagates from the output gradient into `gradients`, last layer first. GEMMs run in
    /// pieces of about `chunkFlops` so that `betweenChunks` can drive communication progress;
    /// `layerDone(l)` is called the moment layer l's weight gradient is complete.
    public func backward(chunkFlops: Double, betweenChunks: () throws -> Void,
                         layerDone: (Int) throws -> Void) rethrows {
        for layer in stride(from: layerCount - 1, through: 0, by: -1) {
            let fanIn = widths[layer], fanOut = widths[layer + 1]
            let input = activations[layer].baseAddress!, g = delta.baseAddress!
            let layerWeights = weights.baseAddress! + offsets[layer], layerGradient = gradients.baseAddress! + offsets[layer]
            // dW (fanOut x fanIn) = G^T (fanOut x batch) * input (batch x fanIn), a block of rows at a time.
            let rows = Perceptron.piece(of: fanOut, flopsPerUnit: Matrix.flops(m: 1, n: fanIn, k: batch), chunkFlops: chunkFlops)
            for first in stride(from: 0, to: fanOut, by: rows) {
                let count = min(rows, fanOut - first)
                Matrix.multiply(g + first, input, into: layerGradient + first * fanIn,
                                m: count, n: fanIn, k: batch, transposeA: true, lda: fanOut, ldb: fanIn, ldc: fanIn)
                try betweenChunks()
            }
            try layerDone(layer)
            guard layer > 0 else { break }
            // dInput (batch x fanIn) = G (batch x fanOut) * W (fanOut x fanIn), a block of columns at a time.
            let next = deltaNext.baseAddress!
            let columns = Perceptron.piece(of: fanIn, flopsPerUnit: Matrix.flops(m: batch, n: 1, k: fanOut), chunkFlops: chunkFlops)
            for first in stride(from: 0, to: fanIn, by: columns) {
                let count = min(columns, fanIn - first)
                Matrix.multiply(g, layerWeights + first, into: next + first,
                                m: batch, n: count, k: fanOut, lda: fanOut, ldb: fanIn, ldc: fanIn)
                try betweenChunks()
            }
            // Through the ReLU: no gradient where the activation was clipped.
            let activation = activations[layer]
            for index in 0..<(batch * fanIn) where activation[index] <= 0 { next[index] = 0 }
            swap(&delta, &deltaNext)
        }
    }

    /// Back-propagates in whole GEMMs, with nothing to do between them.
    public func backward() {
        backward(chunkFlops: .infinity, betweenChunks: {}, layerDone: { _ in })
    }

    /// Plain SGD: weights -= rate * gradients.
    public func update(learningRate: Float) {
        Matrix.addScaled(gradients.baseAddress!, times: -learningRate, to: weights.baseAddress!, count: parameterCount)
    }

    /// Floating-point operations of one training step on this rank: forward, weight gradients, and
    /// input gradients for every layer but the first.
    public var flopsPerStep: Double {
        (0..<layerCount).reduce(0) { total, layer in
            let product = Matrix.flops(m: batch, n: widths[layer + 1], k: widths[layer])
            return total + product * (layer > 0 ? 3 : 2)
        }
    }

    /// FNV-1a over the weights' bit patterns: equal exactly when every weight is bit-identical
    /// (up to the hash's collisions).
    public var checksum: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for weight in weights {
            hash = (hash ^ UInt64(weight.bitPattern)) &* 0x100_0000_01b3
        }
        return hash
    }

    private static func piece(of total: Int, flopsPerUnit: Double, chunkFlops: Double) -> Int {
        guard chunkFlops.isFinite else { return total }
        return max(1, min(total, Int(chunkFlops / flopsPerUnit)))
    }
}
