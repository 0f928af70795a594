import Statistics
import Records
import Kernels
import Compute
import Testing

@Suite struct MatrixTests {
    /// Row-major reference: C = op(A) op(B).
    func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var sum: Double = 0
            for p in 0..<k {
                let x = transposeA ? a[p * m + i] : a[i * k + p]
                let y = transposeB ? b[j * k + p] : b[p * n + j]
                sum += Double(x) * Double(y)
            }
            c[i * n + j] = Float(sum)
        } }
        return c
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesANaiveLoop(transposeA: Bool, transposeB: Bool) {
        let (m, n, k) = (7, 5, 9)
        var generator = SeededGenerator(seed: 42)
        let a = (0..<(m * k)).map { _ in generator.nextSignedFloat() }
        let b = (0..<(k * n)).map { _ in generator.nextSignedFloat() }
        var c = [Float](repeating: 0, count: m * n)
        Matrix.multiply(a, b, into: &c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
        let expected = naive(a, b, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
        for index in c.indices { #expect(abs(c[index] - expected[index]) < 1e-5, "element \(index)") }
    }

    @Test func leadingDimensionsSelectABlockOfColumns() {
        // C[:, 2..<5] of a 4 x 6 result from B[:, 2..<5] of a 3 x 6 matrix.
        var generator = SeededGenerator(seed: 7)
        let a = (0..<12).map { _ in generator.nextSignedFloat() }, b = (0..<18).map { _ in generator.nextSignedFloat() }
        var c = [Float](repeating: 9, count: 24)
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                Matrix.multiply(a, b.baseAddress! + 2, into: c.baseAddress! + 2, m: 4, n: 3, k: 3, ldb: 6, ldc: 6)
            }
        }
        let whole = naive(a, b, m: 4, n: 6, k: 3, transposeA: false, transposeB: false)
        for row in 0..<4 { for column in 0..<6 {
            let value = c[row * 6 + column]
            if (2..<5).contains(column) { #expect(abs(value - whole[row * 6 + column]) < 1e-5) } else { #expect(value == 9) }
        } }
    }

    @Test func flopsCountAMultiplyAndAnAdd() {
        #expect(Matrix.flops(m: 2, n: 3, k: 4) == 48)
        let model = Perceptron(widths: [4, 8, 2], batch: 3, seed: 1)
        // Forward and weight gradients for both layers, input gradients for the second only.
        let first: Double = 2 * 3 * 4 * 8 * 2, second: Double = 2 * 3 * 8 * 2 * 3
        #expect(model.flopsPerStep == first + second)
    }
}

@Suite struct PerceptronTests {
    func makeBatch(_ model: Perceptron, task: SyntheticTask, first: Int) -> [Float] {
        var targets = [Float](repeating: 0, count: model.batch * model.widths.last!)
        task.fill(inputs: model.inputs.baseAddress!, targets: &targets, first: first, count: model.batch)
        return targets
    }

    func loss(_ model: Perceptron, targets: [Float]) -> Double {
        model.forward()
        return model.outputGradient(targets: targets, divisor: model.batch * model.widths.last!) / Double(model.batch * model.widths.last!)
    }

    /// Back-propagation against central differences of the loss, weight by weight (a sample of them).
    @Test func gradientsMatchFiniteDifferences() {
        let widths = [5, 7, 6, 3]
        let model = Perceptron(widths: widths, batch: 4, seed: 3)
        let task = SyntheticTask(inputWidth: 5, outputWidth: 3, seed: 9)
        let targets = makeBatch(model, task: task, first: 0)
        _ = loss(model, targets: targets)
        model.backward()
        let analytic = Array(model.gradients)
        var checked = 0
        for index in stride(from: 0, to: model.parameterCount, by: 3) {
            let saved = model.weights[index]
            let h: Float = 1e-2
            model.weights[index] = saved + h
            let up = loss(model, targets: targets)
            model.weights[index] = saved - h
            let down = loss(model, targets: targets)
            model.weights[index] = saved
            let numeric = (up - down) / Double(2 * h)
            #expect(abs(numeric - Double(analytic[index])) < 2e-3 + 0.02 * abs(numeric), "weight \(index): \(numeric) vs \(analytic[index])")
            checked += 1
        }
        #expect(checked == 32)
    }

    /// The data-parallel claim: N ranks of batch B, gradients summed, equal one rank of batch N*B.
    @Test func summedGradientsOfSplitBatchesEqualTheWholeBatch() {
        let widths = [6, 16, 8, 4], ranks = 3, batch = 5
        let task = SyntheticTask(inputWidth: 6, outputWidth: 4, seed: 11)
        let whole = Perceptron(widths: widths, batch: ranks * batch, seed: 2)
        let wholeTargets = makeBatch(whole, task: task, first: 0)
        whole.forward()
        _ = whole.outputGradient(targets: wholeTargets, divisor: ranks * batch * 4)
        whole.backward()
        var summed = [Float](repeating: 0, count: whole.parameterCount)
        for rank in 0..<ranks {
            let part = Perceptron(widths: widths, batch: batch, seed: 2)
            let targets = makeBatch(part, task: task, first: rank * batch)
            part.forward()
            _ = part.outputGradient(targets: targets, divisor: ranks * batch * 4)
            part.backward()
            for index in summed.indices { summed[index] += part.gradients[index] }
        }
        let scale = whole.gradients.map(abs).max()!
        #expect(scale > 0)
        for index in summed.indices { #expect(abs(summed[index] - whole.gradients[index]) <= 1e-5 * scale, "gradient \(index)") }
    }

    @Test func chunkedBackwardReportsLayersLastFirstAndMatches() {
        let widths = [8, 32, 24, 4]
        let task = SyntheticTask(inputWidth: 8, outputWidth: 4, seed: 5)
        let plain = Perceptron(widths: widths, batch: 6, seed: 4), chunked = Perceptron(widths: widths, batch: 6, seed: 4)
        for model in [plain, chunked] {
            let targets = makeBatch(model, task: task, first: 0)
            model.forward()
            _ = model.outputGradient(targets: targets, divisor: 24)
        }
        plain.backward()
        var done: [Int] = [], pieces = 0
        chunked.backward(chunkFlops: 500, betweenChunks: { pieces += 1 }, layerDone: { done.append($0) })
        #expect(done == [2, 1, 0])
        #expect(pieces > 6)
        for index in 0..<plain.parameterCount { #expect(abs(plain.gradients[index] - chunked.gradients[index]) < 1e-6) }
    }

    @Test func sgdLowersTheLossOnTheSyntheticTask() {
        let model = Perceptron(widths: [16, 32, 8], batch: 32, seed: 1)
        let task = SyntheticTask(inputWidth: 16, outputWidth: 8, seed: 2)
        var losses: [Double] = []
        for step in 0..<60 {
            let targets = makeBatch(model, task: task, first: step * 32)
            model.forward()
            losses.append(model.outputGradient(targets: targets, divisor: 32 * 8) / Double(32 * 8))
            model.backward()
            model.update(learningRate: 0.1)
        }
        let early = losses.prefix(10).reduce(0, +) / 10, late = losses.suffix(10).reduce(0, +) / 10
        #expect(late < 0.7 * early, "loss \(early) -> \(late)")
    }

    @Test func checksumSeesOneBitOfOneWeight() {
        let a = Perceptron(widths: [4, 4], batch: 1, seed: 1), b = Perceptron(widths: [4, 4], batch: 1, seed: 1)
        #expect(a.checksum == b.checksum)
        b.weights[7] = Float(bitPattern: b.weights[7].bitPattern ^ 1)
        #expect(a.checksum != b.checksum)
    }

    @Test func samplesDoNotDependOnHowTheBatchIsSplit() {
        let task = SyntheticTask(inputWidth: 5, outputWidth: 3, seed: 8)
        var inputs = [Float](repeating: 0, count: 20), targets = [Float](repeating: 0, count: 12)
        task.fill(inputs: &inputs, targets: &targets, first: 10, count: 4)
        var lateInputs = [Float](repeating: 0, count: 10), lateTargets = [Float](repeating: 0, count: 6)
        task.fill(inputs: &lateInputs, targets: &lateTargets, first: 12, count: 2)
        #expect(Array(inputs[10...]) == lateInputs)
        #expect(Array(targets[6...]) == lateTargets)
        #expect(inputs.allSatisfy { (-1..<1).contains($0) })
    }
}

@Suite struct TrainParametersTests {
    @Test func bucketsFollowTheBackwardOrderAndTheCap() {
        // Default model: 16 MiB, 64 MiB and 16 MiB of gradients, last layer first.
        let widths = [1024, 4096, 4096, 1024]
        #expect(TrainingStep.buckets(widths: widths, capBytes: 25 << 20) == [2..<3, 1..<2, 0..<1])
        #expect(TrainingStep.buckets(widths: widths, capBytes: 1 << 30) == [0..<3])
        #expect(TrainingStep.buckets(widths: [8, 8, 8, 8, 8], capBytes: 2 * 256) == [2..<4, 0..<2])
        #expect(TrainingStep.buckets(widths: [8, 8], capBytes: 1) == [0..<1])
    }

    @Test func layerListsParse() throws {
        #expect(try TrainingStep.parseWidths("1024,4096,4096,1024") == [1024, 4096, 4096, 1024])
        #expect(try TrainingStep.parseWidths("3,2") == [3, 2])
    }

    @Test(arguments: ["", "1024", "1024,,8", "1024,0", "a,b", "8,-1", "8,100000"])
    func malformedLayerListsNameTheValue(text: String) {
        do {
            _ = try TrainingStep.parseWidths(text)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect("\(error)".contains("'\(text)'"))
        }
    }

    @Test func batchZeroIsRefused() {
        #expect(throws: InvalidParameters.self) { try TrainingStep(widths: [4, 4], batch: 0).validate() }
        #expect(throws: InvalidParameters.self) { try TrainingStep(widths: [4, 4], batch: 1, steps: 0).validate() }
        #expect(throws: Never.self) { try TrainingStep(widths: [4, 4], batch: 1).validate() }
    }
}
