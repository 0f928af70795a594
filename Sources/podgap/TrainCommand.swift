import Probes
import ArgumentParser
import Records
import Kernels
import Runner
import Compute

extension GradientReduction: ExpressibleByArgument {}

/// Test-only: the weights after training, for the tests that compare ranks and runs.
struct WeightsDump: TestKnobs {
    @Option(help: .hidden)
    var dumpWeights: String?
}

struct TrainCommand: KernelCommand {
    static let configuration = CommandConfiguration(
        commandName: TrainingStep.name,
        abstract: "Data-parallel MLP training step: GEMMs (OpenBLAS, or cuBLAS on a GPU), bucketed gradient allreduce overlapped with the backward pass, SGD.",
        discussion: "See docs/running.md, and docs/gpus.md for --device cuda.")

    @OptionGroup var step: StepOptions

    @Option(help: "How gradients are summed: mpi (cpu); mpi-staged (default on cuda: pinned host buffers), mpi-cuda (device pointers to a CUDA-aware MPI) or nccl.")
    var reducer: GradientReduction?

    @Option(parsing: .unconditional, help: "Timed steps.")
    var steps = 20

    @Option(parsing: .unconditional, help: "Warm-up steps (they train too).")
    var warmup = 3

    @Option(help: "Element type; float32 only (weights, gradients and activations are float32).")
    var dtype: ElementType = .float32

    @Option(help: "Gradient bucket size in MiB, as PyTorch DDP's bucket_cap_mb.")
    var bucketMb: Double = 25

    @Flag(help: "Reduce the gradients after the backward instead of overlapping it.")
    var noOverlap = false

    @Option(help: "SGD learning rate.")
    var learningRate: Float = 0.05

    @Option(help: "With overlap, backward GEMMs run in pieces of about this many MFLOP, testing the allreduce requests between pieces (Open MPI progresses them only inside MPI calls).")
    var progressMflop: Double = 32

    @Option(help: "Seed of the weights and the synthetic data.")
    var seed: UInt64 = 1

    @OptionGroup var dump: WeightsDump

    @OptionGroup var options: RunOptions

    var device: ComputeDevice { step.device }
    var precision: Precision { step.precision }

    var reduction: GradientReduction { reducer ?? device.platform.defaultReduction }

    func kernel(progress: ProgressLine?) throws -> TrainingStep {
        guard dtype == .float32 else {
            throw InvalidParameters(description: "--dtype '\(dtype.rawValue)' is not supported: the training step runs float32 only")
        }
        guard bucketMb > 0, bucketMb <= 4096 else {
            throw InvalidParameters(description: "--bucket-mb \(bucketMb) must be above 0 and at most 4096")
        }
        guard progressMflop > 0, progressMflop.isFinite else {
            throw InvalidParameters(description: "--progress-mflop \(progressMflop) must be a positive number")
        }
        try device.platform.check(precision: precision, reduction: reduction)
        var kernel = TrainingStep(widths: try step.widths(), batch: step.samples,
                                  steps: steps, warmup: warmup, bucketBytes: Int(bucketMb * 1048576), overlap: !noOverlap,
                                  learningRate: learningRate, seed: seed,
                                  // A GPU queues each GEMM whole; pieces only help MPI progress on the CPU.
                                  chunkFlops: device.platform.computesOnHost ? progressMflop * 1e6 : .infinity,
                                  weightsPath: dump.dumpWeights, progress: progress)
        kernel.reduction = reduction
        kernel.proxy = step.proxy
        kernel.rowsPerSample = step.rowsPerSample
        try kernel.validate()
        return kernel
    }

    func table(for kernel: TrainingStep) -> any ResultTable {
        let mode = noOverlap ? "no overlap" : "overlap"
        let what = step.proxy.map { "proxy \($0.rawValue)" } ?? "layers \(kernel.widths.map(String.init).joined(separator: ","))"
        let gpu = device == .cpu ? "" : "\(device) \(precision.rawValue) \(reduction.rawValue), "
        return KernelTable(
            title: "train (\(what), batch \(kernel.batch) per rank, \(gpu)\(mode), buckets \(bucketMb) MiB)",
            columns: [.milliseconds("step(ms)"), .milliseconds("compute(ms)", phase: "compute"),
                      .milliseconds("exposed(ms)", phase: "exposed_communication"),
                      .rate("samples/s", "samples_per_second", format: "%.1f"), .rate("GFLOP/s", "gemm_gflops"),
                      .rate("loss first", "loss_first", format: "%.5f"), .rate("loss last", "loss_last", format: "%.5f")])
    }

    /// The backend, made before MPI starts (on cuda: the GPU, its libraries and kernels); the
    /// records then name the device each rank used.
    func prepareDevice(for kernel: inout TrainingStep, context: LaunchContext) throws -> KernelRun.EnvironmentAmendment? {
        let setup = try BackendSetup(device: device, precision: precision, reduction: reduction, context: context)
        kernel.backend = setup.backend
        return setup.amendment
    }
}
