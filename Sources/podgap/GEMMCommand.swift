import Probes
import ArgumentParser
import Records
import Kernels
import Runner
import Compute

struct GEMMCommand: KernelCommand {
    static let configuration = CommandConfiguration(
        commandName: GEMMCheck.name,
        abstract: "The training step's GEMMs timed alone (cuBLAS or OpenBLAS), each checked against float64; on cuda, fp32 shapes also through plain cublasSgemm.",
        discussion: "See docs/gpus.md.")

    @OptionGroup var step: StepOptions

    @Option(help: "Time this product instead, MxNxK (row-major, no transposes); repeatable, e.g. 4096x4096x4096.")
    var shape: [String] = []

    @Option(help: "Calls per timed trial.")
    var calls = 10

    @Option(help: "Timed trials (the median counts).")
    var trials = 5

    @OptionGroup var options: RunOptions

    var device: ComputeDevice { step.device }
    var precision: Precision { step.precision }

    func kernel(progress: ProgressLine?) throws -> GEMMCheck {
        try device.platform.check(precision: precision, reduction: device.platform.defaultReduction)
        guard calls >= 1, trials >= 1 else { throw InvalidParameters(description: "--calls and --trials must be at least 1") }
        try step.checkWidthsGivenOnce()
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
            let widths = try step.widths(), samples = step.samples
            guard samples >= 1 else { throw InvalidParameters(description: "--batch \(samples) must be at least 1") }
            let rows = samples * step.rowsPerSample
            kernel = GEMMCheck(shapes: GEMMCheck.step(widths: widths, rows: rows),
                               label: step.proxy.map { "the \($0.rawValue) proxy's step, batch \(samples)" }
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

    /// The backend, made before MPI starts (on cuda: the GPU, cuBLAS and its kernels).
    func prepareDevice(for kernel: inout GEMMCheck, context: LaunchContext) throws -> KernelRun.EnvironmentAmendment? {
        let setup = try BackendSetup(device: device, precision: precision, reduction: device.platform.defaultReduction,
                                     context: context)
        kernel.backend = setup.backend
        return setup.amendment
    }
}
