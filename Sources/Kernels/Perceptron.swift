import Compute
import Statistics
import Records

/// The MLP on the host (OpenBLAS), as the tests and the CPU training step use it.
public typealias Perceptron = MultilayerPerceptron<CPUBackend>

/// A multilayer perceptron without biases: `widths[0]` inputs, ReLU after every hidden layer, a
/// linear output, trained on mean squared error. Layer l's weights are a widths[l+1] x widths[l]
/// row-major block of one flat buffer, and its gradients sit at the same offsets of another, so
/// that a run of consecutive layers is one contiguous range to reduce. The algorithm is written
/// once here; `Backend` holds the buffers and does the arithmetic (OpenBLAS, or cuBLAS and NVRTC
/// kernels on a GPU).
/// A class because it owns large buffers that must not be copied.
public final class MultilayerPerceptron<Backend: ComputeBackend> {
    public let backend: Backend
    public let widths: [Int]
    public let batch: Int
    /// Where each layer's weights start in `weights` and `gradients`; the last entry is the total.
    public let offsets: [Int]
    public let weights: Backend.Buffer
    public let gradients: Backend.Buffer
    /// Activations per layer, batch x widths[l]; [0] is the input the caller fills, the last the output.
    private let activations: [Backend.Buffer]
    /// Two batch x max(widths) buffers for the gradient flowing backward, used in turn.
    private var delta: Backend.Buffer
    private var deltaNext: Backend.Buffer

    public var layerCount: Int { widths.count - 1 }
    public var parameterCount: Int { offsets[layerCount] }
    public var inputs: Backend.Buffer { activations[0] }
    public var outputs: Backend.Buffer { activations[layerCount] }

    /// Weights drawn uniformly with He scaling from `seed`: every rank given the same seed starts
    /// from the same weights, as data-parallel training requires, on any backend.
    public init(widths: [Int], batch: Int, seed: UInt64, backend: Backend) throws {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 } && batch > 0, "at least one layer, positive sizes")
        self.backend = backend
        self.widths = widths
        self.batch = batch
        var offsets = [0]
        for layer in 0..<(widths.count - 1) { offsets.append(offsets[layer] + widths[layer] * widths[layer + 1]) }
        self.offsets = offsets
        let count = offsets[widths.count - 1]
        var initial = [Float](repeating: 0, count: count)
        var generator = SeededGenerator(seed: seed)
        for layer in 0..<(widths.count - 1) {
            let scale = Float((6.0 / Double(widths[layer])).squareRoot())
            for index in offsets[layer]..<offsets[layer + 1] { initial[index] = generator.nextSignedFloat() * scale }
        }
        weights = try backend.makeBuffer(count: count)
        gradients = try backend.makeBuffer(count: count)
        activations = try widths.map { try backend.makeBuffer(count: batch * $0) }
        let widest = widths.max()!
        delta = try backend.makeBuffer(count: batch * widest)
        deltaNext = try backend.makeBuffer(count: batch * widest)
        try backend.upload(initial, count: count, to: backend.address(of: weights))
    }

    deinit {
        backend.release(weights); backend.release(gradients)
        activations.forEach(backend.release)
        backend.release(delta); backend.release(deltaNext)
    }

    /// The elements of `weights` (and `gradients`) that belong to layers `layers`.
    public func parameterRange(of layers: Range<Int>) -> Range<Int> { offsets[layers.lowerBound]..<offsets[layers.upperBound] }

    private func address(_ buffer: Backend.Buffer) -> Backend.Address { backend.address(of: buffer) }

    /// Runs the batch in `inputs` through every layer into `outputs`.
    public func forward() {
        for layer in 0..<layerCount {
            let input = address(activations[layer]), output = address(activations[layer + 1])
            backend.multiply(input, address(weights) + offsets[layer], into: output,
                             m: batch, n: widths[layer + 1], k: widths[layer], transposeB: true)
            if layer < layerCount - 1 { backend.rectify(output, count: batch * widths[layer + 1]) }
        }
    }

    /// The loss gradient at the output, `2 (output - target) / divisor`, where divisor is the
    /// global batch times the output width: the mean over every sample of every rank once
    /// gradients are summed. The squared error of `outputs` against `targets` (summed, not
    /// averaged) is kept in the backend's loss slot `slot`.
    public func outputGradient(targets: Backend.Address, divisor: Int, slot: Int) {
        backend.lossGradient(outputs: address(outputs), targets: targets, into: address(delta),
                             count: batch * widths[layerCount], scale: 2 / Float(divisor), slot: slot)
    }

    /// Back-propagates from the output gradient into `gradients`, last layer first. GEMMs run in
    /// pieces of about `chunkFlops` so that `betweenChunks` can drive communication progress;
    /// `layerDone(l)` is called the moment layer l's weight gradient is complete (on a backend
    /// that queues work: the moment its GEMMs are queued).
    public func backward(chunkFlops: Double, betweenChunks: () throws -> Void,
                         layerDone: (Int) throws -> Void) rethrows {
        for layer in stride(from: layerCount - 1, through: 0, by: -1) {
            let fanIn = widths[layer], fanOut = widths[layer + 1]
            let input = address(activations[layer]), g = address(delta)
            let layerWeights = address(weights) + offsets[layer], layerGradient = address(gradients) + offsets[layer]
            // dW (fanOut x fanIn) = G^T (fanOut x batch) * input (batch x fanIn), a block of rows at a time.
            let rows = MultilayerPerceptron.piece(of: fanOut, flopsPerUnit: Matrix.flops(m: 1, n: fanIn, k: batch), chunkFlops: chunkFlops)
            for first in stride(from: 0, to: fanOut, by: rows) {
                let count = min(rows, fanOut - first)
                backend.multiply(g + first, input, into: layerGradient + first * fanIn,
                                 m: count, n: fanIn, k: batch, transposeA: true, lda: fanOut, ldb: fanIn, ldc: fanIn)
                try betweenChunks()
            }
            try layerDone(layer)
            guard layer > 0 else { break }
            // dInput (batch x fanIn) = G (batch x fanOut) * W (fanOut x fanIn), a block of columns at a time.
            let next = address(deltaNext)
            let columns = MultilayerPerceptron.piece(of: fanIn, flopsPerUnit: Matrix.flops(m: batch, n: 1, k: fanOut), chunkFlops: chunkFlops)
            for first in stride(from: 0, to: fanIn, by: columns) {
                let count = min(columns, fanIn - first)
                backend.multiply(g, layerWeights + first, into: next + first,
                                 m: batch, n: count, k: fanOut, lda: fanOut, ldb: fanIn, ldc: fanIn)
                try betweenChunks()
            }
            // Through the ReLU: no gradient where the activation was clipped.
            backend.maskRectified(next, by: address(activations[layer]), count: batch * fanIn)
            swap(&delta, &deltaNext)
        }
    }

    /// Back-propagates in whole GEMMs, with nothing to do between them.
    public func backward() {
        backward(chunkFlops: .infinity, betweenChunks: {}, layerDone: { _ in })
    }

    /// Plain SGD: weights -= rate * gradients.
    public func update(learningRate: Float) {
        backend.addScaled(address(gradients), times: -learningRate, to: address(weights), count: parameterCount)
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
    public func weightsChecksum() throws -> UInt64 {
        try backend.withHostCopy(of: address(weights), count: parameterCount) { MultilayerPerceptron.fnv1a($0) }
    }

    /// The weights in host memory.
    public func hostWeights() throws -> [Float] {
        try backend.withHostCopy(of: address(weights), count: parameterCount) { Array($0) }
    }

    static func fnv1a(_ values: UnsafeBufferPointer<Float>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in values {
            hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01b3
        }
        return hash
    }

    private static func piece(of total: Int, flopsPerUnit: Double, chunkFlops: Double) -> Int {
        guard chunkFlops.isFinite else { return total }
        return max(1, min(total, Int(chunkFlops / flopsPerUnit)))
    }
}

extension MultilayerPerceptron where Backend == CPUBackend {
    /// An MLP in host memory on a backend of its own.
    public convenience init(widths: [Int], batch: Int, seed: UInt64) {
        // The CPU backend's allocations cannot fail short of the process running out of memory.
        try! self.init(widths: widths, batch: batch, seed: seed, backend: CPUBackend())
    }

    /// The loss gradient from targets in host memory; returns the summed squared error.
    public func outputGradient(targets: UnsafePointer<Float>, divisor: Int) -> Double {
        outputGradient(targets: UnsafeMutablePointer(mutating: targets), divisor: divisor, slot: 0)
        return backend.lossSums(1)[0]
    }

    /// FNV-1a over the weights' bit patterns.
    public var checksum: UInt64 { MultilayerPerceptron.fnv1a(UnsafeBufferPointer(weights)) }
}
