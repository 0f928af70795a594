import ArgumentParser
import Kernels
import Compute

/// The training step a command runs (`run train`) or times the GEMMs of (`run gemm`), and where
/// it computes: one declaration, so both take the same options with the same words and defaults.
struct StepOptions: ParsableArguments {
    @Option(help: "Layer widths of the step, input first, e.g. 1024,4096,4096,1024 (the default). Not with --proxy.")
    var layers: String?

    @Option(parsing: .unconditional, help: "Samples per rank per step (default 64, or the --proxy network's reference batch).")
    var batch: Int?

    @Option(help: "Stand in for a published network: layer widths and rows per sample chosen so that the step's gradient bytes and FLOPs per sample match its own.")
    var proxy: ProxyWorkload?

    @Option(help: "Where the step computes: cpu (OpenBLAS) or cuda (one GPU per rank, chosen by local rank).")
    var device: ComputeDevice = .cpu

    @Option(help: "GEMM precision on cuda: fp32, or tensor cores rounding inputs to tf32 or bf16 (storage and accumulation stay fp32).")
    var precision: Precision = .fp32

    static let defaultLayers = "1024,4096,4096,1024"
    static let defaultBatch = 64

    /// --proxy and --layers both say the widths: refused together.
    func checkWidthsGivenOnce() throws {
        if proxy != nil, layers != nil { throw InvalidParameters(description: "--proxy and --layers both give the layer widths: use one") }
    }

    /// The layer widths: the proxy's, the given ones, or the default.
    func widths() throws -> [Int] {
        try checkWidthsGivenOnce()
        return try proxy?.shape.widths ?? TrainingStep.parseWidths(layers ?? StepOptions.defaultLayers)
    }

    /// Samples per rank: the given batch, the proxy's reference batch, or the default.
    var samples: Int { batch ?? proxy?.network.referenceBatch ?? StepOptions.defaultBatch }

    /// Rows of the first GEMM per sample (a proxy's tokens per sample), 1 for a plain MLP.
    var rowsPerSample: Int { proxy?.shape.rows ?? 1 }
}

extension ComputeDevice: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension ProxyWorkload: ExpressibleByArgument {}
