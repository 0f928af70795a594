import Probes
import ArgumentParser
import Records
import Kernels
import Runner

struct GEMMCommand: KernelCommand {
    static let configuration = CommandConfiguration(
        commandName: GEMMCheck.name,
        abstract: "The training step's GEMMs timed alone (cuBLAS or OpenBLAS), each checked against float64; on cuda, fp32 shapes also through plain cublasSgemm.",
        discussion: "See docs/gpus.md.")

    @Option(help: "Layer widths of the step whose GEMMs to time (default 1024,4096,4096,1024).")
    var layers: String?

    @Option(help: "Samples per rank (default 64, or the --proxy network's reference batch).")
    var batch: Int?

    @Option(help: "The step of a proxy network's stand-in (see run train --proxy).")
    var proxy: ProxyWorkload?

    @Option(help: "Time this product instead, MxNxK (row-major, no transposes); repeatable, e.g. 4096x4096x4096.")
    var shape: [String] = []

    @Option(help: "cpu (OpenBLAS) or cuda (cuBLAS).")
    var device: ComputeDevice = .cpu

    @Option(help: "fp32, tf32 or bf16 (cuda).")
    var precision: Precision = .fp32

    @Option(help: "Calls per timed trial.")
    var calls = 10

    @Option(help: "Timed trials (the median counts).")
    var trials = 5

    @OptionGroup var options: RunOptions

    func kernel(progress: ProgressLine?) throws -> GEMMCheck {
        try TrainCommand.check(device: device, precision: precision, reduction: GradientReduction.available(on: device)[0])
        guard calls >= 1, trials >= 1 else { throw InvalidParameters(description: "--calls and --trials must be at least 1") }
        if proxy != nil, layers != nil { throw InvalidParameters(description: "--proxy and --layers both give the layer widths: use one") }
        var kernel: GEMMCheck
        if !shape.isEmpty {
            let shapes = try shape.map { text -> GEMMCheck.Shape in
                let sizes = text.lowercased().split(separator: "x").compactMap { Int($0) }
                guard sizes.count == 3, sizes.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
                    throw InvalidParameters(description: "--shape '\(text)' is not MxNxK with sizes from 1 to 65536, e.g. 4096x4096x4096")
                }
                return GEMMCheck.Shape(m: sizes[0], n: sizes[1], k: sizes[2])
            }
            kernel = GEMMCheck(shapes: shapes, label: "given shapes")
        } else {
            let widths = try proxy?.shape.widths ?? TrainingStep.parseWidths(layers ?? TrainCommand.defaultLayers)
            let samples = batch ?? proxy?.network.referenceBatch ?? TrainCommand.defaultBatch
            guard samples >= 1 else { throw InvalidParameters(description: "--batch \(samples) must be at least 1") }
            let rows = samples * (proxy?.shape.rows ?? 1)
            kernel = GEMMCheck(shapes: GEMMCheck.step(widths: widths, rows: rows),
                               label: proxy.map { "the \($0.rawValue) proxy's step, batch \(samples)" }
                                   ?? "the step of layers \(widths.map(String.init).joined(separator: ",")), batch \(samples)")
        }
        kernel.calls = calls
        kernel.trials = trials
        return kernel
    }

    func table(for kernel: GEMMCheck) -> any ResultTable {
        KernelTable(
            title: "gemm (\(kernel.label), \(device.rawValue) \(precision.rawValue))",
            columns: [.parameter("shape", "shape"), .milliseconds("time(ms)"), .rate("TFLOP/s", "tflops", format: "%.3f"),
                      KernelTable.Column(heading: "sgemm TFLOP/s") { record in
                          record.throughput["sgemm_tflops"].map { String(format: "%.2f", $0) } ?? "-"
                      }])
    }

    /// On cuda: the GPU, cuBLAS and its kernels, before MPI starts.
    func prepareDevice(for kernel: inout GEMMCheck, context: LaunchContext) throws -> Job.EnvironmentAmendment? {
        guard device == .cuda else { return nil }
        kernel.target = .cuda(try TrainCommand.prepareCUDA(precision: precision, reduction: .mpiStaged, context: context).backend)
        return nil
    }
}
