import Compute
import Statistics
import Records
/// A regression task anyone can regenerate from a seed: inputs uniform in [-1, 1), targets a fixed
/// random linear map of them (the "teacher"). Sample i is the same on every rank and in every run,
/// so N ranks with batch B see exactly the samples one rank with batch N*B sees.
public struct SyntheticTask {
    public let inputWidth: Int
    public let outputWidth: Int
    public let seed: UInt64
    /// outputWidth x inputWidth, row-major; variance 1/inputWidth keeps targets of order one.
    private let teacher: [Float]

    public init(inputWidth: Int, outputWidth: Int, seed: UInt64) {
        self.inputWidth = inputWidth
        self.outputWidth = outputWidth
        self.seed = seed
        var generator = SeededGenerator(seed: seed ^ 0x7465_6163_6865_72)
        let scale = Float((3.0 / Double(inputWidth)).squareRoot())
        teacher = (0..<(outputWidth * inputWidth)).map { _ in generator.nextSignedFloat() * scale }
    }

    /// Fills `count` samples starting at global sample `first`: inputs (count x inputWidth) and
    /// targets (count x outputWidth).
    public func fill(inputs: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>, first: Int, count: Int) {
        for sample in 0..<count {
            var generator = SeededGenerator(seed: seed &+ UInt64(first + sample) &* 0x9E37_79B9_7F4A_7C15)
            for index in 0..<inputWidth { inputs[sample * inputWidth + index] = generator.nextSignedFloat() }
        }
        // Row by row so that a sample's target never depends on how many samples share the call.
        teacher.withUnsafeBufferPointer { teacher in
            for sample in 0..<count {
                Matrix.multiply(inputs + sample * inputWidth, teacher.baseAddress!, into: targets + sample * outputWidth,
                                m: 1, n: outputWidth, k: inputWidth, transposeB: true)
            }
        }
    }
}
