import Probes
import ArgumentParser
import Records
import Kernels
import Runner

struct TrainCommand: KernelCommand {
    static let configuration = CommandConfiguration(
        commandName: TrainingStep.name,
        abstract: "Data-parallel MLP training step: OpenBLAS GEMMs, bucketed non-blocking gradient allreduce, SGD.")

    @Option(help: "Layer widths, input first, e.g. 1024,4096,4096,1024.")
    var layers = "1024,4096,4096,1024"

    @Option(parsing: .unconditional, help: "Samples per rank per step.")
    var batch = 64

    @Option(parsing: .unconditional, help: "Timed steps.")
    var steps = 20

    @Option(parsing: .unconditional, help: "Warm-up steps (they train too).")
    var warmup = 3

    @Option(help: "Element type; float32 only (the GEMMs are sgemm).")
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

    @Option(help: .hidden)
    var dumpWeights: String?

    @OptionGroup var options: RunOptions

    func kernel(progress: ProgressLine?) throws -> TrainingStep {
        guard dtype == .float32 else {
            throw InvalidParameters(description: "--dtype '\(dtype.rawValue)' is not supported: the training step runs float32 (sgemm) only")
        }
        guard bucketMb > 0, bucketMb <= 4096 else {
            throw InvalidParameters(description: "--bucket-mb \(bucketMb) must be above 0 and at most 4096")
        }
        guard progressMflop > 0, progressMflop.isFinite else {
            throw InvalidParameters(description: "--progress-mflop \(progressMflop) must be a positive number")
        }
        let kernel = TrainingStep(widths: try TrainingStep.parseWidths(layers), batch: batch, steps: steps, warmup: warmup,
                                  bucketBytes: Int(bucketMb * 1048576), overlap: !noOverlap, learningRate: learningRate,
                                  seed: seed, chunkFlops: progressMflop * 1e6, weightsPath: dumpWeights, progress: progress)
        try kernel.validate()
        return kernel
    }

    /// OpenBLAS starts a thread per core; ranks that share the cores would fight over them.
    func prepareLaunch(_ context: LaunchContext) throws {
        Matrix.threads = max(1, LaunchContext.availableCores / max(context.localSize, 1))
    }

    func table(for kernel: TrainingStep) -> any ResultTable {
        KernelTable(
            title: "train (layers \(layers), batch \(batch) per rank, \(noOverlap ? "no overlap" : "overlap"), buckets \(bucketMb) MiB)",
            columns: [.milliseconds("step(ms)"), .milliseconds("compute(ms)", phase: "compute"),
                      .milliseconds("exposed(ms)", phase: "exposed_communication"),
                      .rate("samples/s", "samples_per_second", format: "%.1f"), .rate("GFLOP/s", "gemm_gflops"),
                      .rate("loss first", "loss_first", format: "%.5f"), .rate("loss last", "loss_last", format: "%.5f")])
    }
}
