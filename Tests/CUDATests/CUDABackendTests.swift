import Foundation
import CUDA
import Kernels
import Compute
import Statistics
import Testing

/// The CUDA backend on a real GPU against the CPU backend: these run on a GPU host (they skip,
/// saying so, wherever no CUDA driver with a device is found, as on podgap's CI).
enum RealCUDA {
    /// The device's context, made once, with the real libraries (never the tests' stand-ins).
    nonisolated(unsafe) static let context: DeviceContext? = {
        var environment = ProcessInfo.processInfo.environment
        environment["PODGAP_CUDA_LIBRARY_PATH"] = nil
        guard let driver = try? Driver.load(environment: environment), (try? driver.deviceCount()) ?? 0 > 0 else { return nil }
        return try? DeviceContext(driver: driver, ordinal: 0)
    }()
}

@Suite(.serialized, .enabled(if: RealCUDA.context != nil, "no CUDA device (no libcuda.so.1 with a GPU behind it)"))
struct CUDABackendTests {
    static func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in generator.nextSignedFloat() * scale }
    }

    /// NVRTC compiles the elementwise kernels for this device, and each does what the CPU's loop does.
    @Test func nvrtcKernelsCompileAndMatchTheCPU() throws {
        let gpu = try CUDABackend(context: RealCUDA.context!, precision: .fp32), cpu = CPUBackend()
        let count = 1 << 20 | 37
        var a = Self.randomValues(count, seed: 3, scale: 3), b = Self.randomValues(count, seed: 4)
        a[0] = 0; a[1] = -0.0
        let scale: Float = 2.0 / 65536, alpha: Float = -0.05
        let buffers = try (0..<5).map { _ in try gpu.makeBuffer(count: count) }
        defer { buffers.forEach(gpu.release) }
        let (values, other, mask, delta, y) = (buffers[0].start, buffers[1].start, buffers[2].start, buffers[3].start, buffers[4].start)
        try gpu.upload(a, count: count, to: values)
        try gpu.upload(a, count: count, to: other)
        try gpu.upload(b, count: count, to: mask)
        try gpu.upload(b, count: count, to: y)
        gpu.rectify(values, count: count)
        gpu.maskRectified(mask, by: other, count: count)
        try gpu.upload(b, count: count, to: delta)
        gpu.lossGradient(outputs: other, targets: delta, into: delta, count: count, scale: scale, slot: 3)
        gpu.addScaled(other, times: alpha, to: y, count: count)
        try gpu.synchronize()
        func host(_ address: DeviceElement) throws -> [Float] { try gpu.withHostCopy(of: address, count: count) { Array($0) } }

        var relu = a, masked = b, expectedDelta = [Float](repeating: 0, count: count), axpy = b, targets = b
        relu.withUnsafeMutableBufferPointer { cpu.rectify($0.baseAddress!, count: count) }
        a.withUnsafeMutableBufferPointer { activation in
            masked.withUnsafeMutableBufferPointer { cpu.maskRectified($0.baseAddress!, by: activation.baseAddress!, count: count) }
            targets.withUnsafeMutableBufferPointer { t in
                expectedDelta.withUnsafeMutableBufferPointer { d in
                    cpu.lossGradient(outputs: activation.baseAddress!, targets: t.baseAddress!, into: d.baseAddress!, count: count, scale: scale, slot: 0)
                }
            }
            axpy.withUnsafeMutableBufferPointer { cpu.addScaled(activation.baseAddress!, times: alpha, to: $0.baseAddress!, count: count) }
        }
        #expect(try host(values).map(\.bitPattern) == relu.map(\.bitPattern))
        #expect(try host(mask).map(\.bitPattern) == masked.map(\.bitPattern))
        #expect(try host(delta).map(\.bitPattern) == expectedDelta.map(\.bitPattern))
        let sums = try gpu.lossSums(4)
        #expect(abs(sums[3] - cpu.lossSums(1)[0]) <= 1e-9 * cpu.lossSums(1)[0])
        let gotY = try host(y)
        for index in stride(from: 0, to: count, by: 997) { #expect(abs(gotY[index] - axpy[index]) <= axpy[index].ulp * 1.01) }
    }

    /// cuBLAS, called row-major through the operand swap, against OpenBLAS in every transpose.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesOpenBLAS(transposeA: Bool, transposeB: Bool) throws {
        let gpu = try CUDABackend(context: RealCUDA.context!, precision: .fp32)
        let (m, n, k) = (67, 45, 129)
        let a = Self.randomValues(m * k, seed: 5), b = Self.randomValues(k * n, seed: 6)
        var expected = [Float](repeating: 0, count: m * n)
        Matrix.multiply(a, b, into: &expected, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
        let buffers = try [m * k, k * n, m * n].map { try gpu.makeBuffer(count: $0) }
        defer { buffers.forEach(gpu.release) }
        try gpu.upload(a, count: m * k, to: buffers[0].start)
        try gpu.upload(b, count: k * n, to: buffers[1].start)
        gpu.multiply(buffers[0].start, buffers[1].start, into: buffers[2].start, m: m, n: n, k: k,
                     transposeA: transposeA, transposeB: transposeB,
                     lda: transposeA ? m : k, ldb: transposeB ? k : n, ldc: n)
        let got = try gpu.withHostCopy(of: buffers[2].start, count: m * n) { Array($0) }
        for index in got.indices { #expect(abs(got[index] - expected[index]) <= 1e-4, "element \(index)") }
    }

    /// Ten steps of the MLP on each backend from the same weights and samples. Tolerances, as a
    /// share of the largest weight: fp32 1e-5 (summation order only); tf32 2e-2 and bf16 5e-2
    /// (inputs rounded to 10 and 7 mantissa bits in every product).
    @Test(arguments: [(Precision.fp32, Float(1e-5)), (Precision.tf32, Float(2e-2)), (Precision.bf16, Float(5e-2))])
    func cpuAndCUDABackendsTrainToTheSameWeights(precision: Precision, tolerance: Float) throws {
        let widths = [64, 256, 128, 10], batch = 32
        let cpu = Perceptron(widths: widths, batch: batch, seed: 7)
        let gpu = try MultilayerPerceptron(widths: widths, batch: batch, seed: 7, backend: try CUDABackend(context: RealCUDA.context!, precision: precision))
        let task = SyntheticTask(inputWidth: widths[0], outputWidth: widths.last!, seed: 8)
        let targets = try gpu.backend.makeBuffer(count: batch * widths.last!)
        defer { gpu.backend.release(targets) }
        var inputs = [Float](repeating: 0, count: batch * widths[0]), expected = [Float](repeating: 0, count: batch * widths.last!)
        for step in 0..<10 {
            task.fill(inputs: &inputs, targets: &expected, first: step * batch, count: batch)
            cpu.inputs.baseAddress!.update(from: inputs, count: inputs.count)
            cpu.forward()
            _ = cpu.outputGradient(targets: expected, divisor: batch * widths.last!)
            cpu.backward()
            cpu.update(learningRate: 0.05)
            try gpu.backend.upload(inputs, count: inputs.count, to: gpu.inputs.start)
            try gpu.backend.upload(expected, count: expected.count, to: targets.start)
            gpu.forward()
            gpu.outputGradient(targets: targets.start, divisor: batch * widths.last!, slot: step)
            gpu.backward()
            gpu.update(learningRate: 0.05)
        }
        try gpu.backend.synchronize()
        let cpuWeights = Array(cpu.weights), gpuWeights = try gpu.hostWeights()
        let largest = cpuWeights.map(abs).max()!
        let worst = zip(cpuWeights, gpuWeights).map { abs($0 - $1) }.max()!
        #expect(worst <= tolerance * largest, "\(precision): largest difference \(worst), largest weight \(largest)")
        let losses = try gpu.backend.lossSums(10)
        #expect(losses[9] < losses[0], "the loss fell on the GPU: \(losses)")
    }
}
