import Records
import Kernels
import Testing

/// The stand-ins' arithmetic against the published table: gradient bytes and FLOPs per sample.
@Suite struct ProxyWorkloadTests {
    @Test(arguments: ProxyWorkload.allCases)
    func aProxyMatchesItsNetworksGradientsAndFLOPs(proxy: ProxyWorkload) {
        let shape = proxy.shape, network = proxy.network
        let bytes = Double(shape.gradientBytes), expectedBytes = Double(network.gradientBytes)
        #expect(abs(bytes - expectedBytes) <= ProxyWorkload.parameterTolerance * expectedBytes,
                "\(proxy): \(shape.gradientBytes) gradient bytes against \(network.gradientBytes)")
        let flops = shape.flopsPerSample, expectedFLOPs = network.trainingFLOPsPerSample
        #expect(abs(flops - expectedFLOPs) <= ProxyWorkload.flopTolerance * expectedFLOPs,
                "\(proxy): \(flops) FLOPs per sample against \(expectedFLOPs)")
        // The shape is a real MLP the step can run: hidden layers at the network's width, its output.
        #expect(shape.widths.count >= 3 && shape.widths.last == network.outputWidth)
        #expect(shape.widths.dropFirst().dropLast().allSatisfy { $0 == network.hiddenWidth })
        #expect(shape.widths.allSatisfy { $0 >= 1 && $0 <= 1 << 16 })
        #expect(shape.rows >= 1)
    }

    /// The step's own FLOP count (Network.flopsPerStep, what gemm_gflops divides) agrees with
    /// the shape's: the proxy's FLOPs are the ones the step does.
    @Test func theStepCountsTheSameFLOPsAsTheShape() {
        let shape = ProxyWorkload.densenet121.shape
        let model = Perceptron(widths: shape.widths, batch: shape.rows * 2, seed: 1)
        #expect(model.flopsPerStep == 2 * shape.flopsPerSample)
        #expect(model.parameterCount == shape.parameters)
    }

    /// The published numbers the proxies are built from, as the table in benchmarks/gpu/README.md states them.
    @Test func theTableHoldsThePublishedNumbers() {
        let densenet = ReferenceNetwork.named("densenet121")!
        #expect(densenet.parameters == 6_968_206 && densenet.gradientBytes == 27_872_824)
        #expect(abs(densenet.trainingFLOPsPerSample - 16.98e9) < 0.01e9)
        let resnet = ReferenceNetwork.named("resnet-50")!
        #expect(resnet.parameters == 25_557_032 && abs(resnet.trainingFLOPsPerSample - 24.54e9) < 0.01e9)
        // Kaplan et al.: 2N + 2 n_layer n_ctx d_model per token, forward.
        let bert = ReferenceNetwork.named("bert")!
        #expect(bert.parameters == 109_482_240 && bert.forwardFLOPsPerSample == 128 * 172_468_224)
        let gpt2 = ReferenceNetwork.named("gpt2-small")!
        #expect(gpt2.parameters == 124_439_808 && gpt2.forwardFLOPsPerSample == 1024 * 188_983_296)
        #expect(ProxyWorkload.allCases.map(\.network.name) == ["densenet121", "resnet50", "bert-base", "gpt2"])
    }

    @Test func densenetsShapeIsTheOneTheREADMEQuotes() {
        let shape = ProxyWorkload.densenet121.shape
        #expect(shape.widths == [1671] + Array(repeating: 1024, count: 6) + [14])
        #expect(shape.parameters == 6_968_320)
        #expect(shape.rows == 442)
    }
}
