import Probes
import ArgumentParser
import Records
import Kernels
import Runner
import CUDA
import MPI

extension ComputeDevice: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension GradientReduction: ExpressibleByArgument {}
extension ProxyWorkload: ExpressibleByArgument {}

struct TrainCommand: KernelCommand {
    static let configuration = CommandConfiguration(
        commandName: TrainingStep.name,
        abstract: "Data-parallel MLP training step: GEMMs (OpenBLAS, or cuBLAS on a GPU), bucketed gradient allreduce overlapped with the backward pass, SGD.",
        discussion: "See docs/running.md, and docs/gpus.md for --device cuda.")

    @Option(help: "Layer widths, input first, e.g. 1024,4096,4096,1024 (the default). Not with --proxy.")
    var layers: String?

    @Option(parsing: .unconditional, help: "Samples per rank per step (default 64, or the --proxy network's reference batch).")
    var batch: Int?

    @Option(help: "Stand in for a published network: layer widths and rows per sample chosen so that the step's gradient bytes and FLOPs per sample match its own.")
    var proxy: ProxyWorkload?

    @Option(help: "Where the step computes: cpu (OpenBLAS) or cuda (one GPU per rank, chosen by local rank).")
    var device: ComputeDevice = .cpu

    @Option(help: "GEMM precision on cuda: fp32, or tensor cores rounding inputs to tf32 or bf16 (storage and accumulation stay fp32).")
    var precision: Precision = .fp32

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

    @Option(help: .hidden)
    var dumpWeights: String?

    @OptionGroup var options: RunOptions

    static let defaultLayers = "1024,4096,4096,1024"
    static let defaultBatch = 64

    var reduction: GradientReduction { reducer ?? GradientReduction.available(on: device)[0] }

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
        try TrainCommand.check(device: device, precision: precision, reduction: reduction)
        if proxy != nil, layers != nil {
            throw InvalidParameters(description: "--proxy and --layers both give the layer widths: use one")
        }
        let shape = proxy?.shape
        var kernel = TrainingStep(widths: try shape.map(\.widths) ?? TrainingStep.parseWidths(layers ?? TrainCommand.defaultLayers),
                                  batch: batch ?? proxy?.network.referenceBatch ?? TrainCommand.defaultBatch,
                                  steps: steps, warmup: warmup, bucketBytes: Int(bucketMb * 1048576), overlap: !noOverlap,
                                  learningRate: learningRate, seed: seed,
                                  // A GPU queues each GEMM whole; pieces only help MPI progress on the CPU.
                                  chunkFlops: device == .cpu ? progressMflop * 1e6 : .infinity,
                                  weightsPath: dumpWeights, progress: progress)
        kernel.reduction = reduction
        kernel.proxy = proxy
        kernel.rowsPerSample = shape?.rows ?? 1
        try kernel.validate()
        return kernel
    }

    /// OpenBLAS starts a thread per core; ranks that share the cores would fight over them.
    func prepareLaunch(_ context: LaunchContext) throws {
        if device == .cpu { Matrix.threads = max(1, LaunchContext.availableCores / max(context.localSize, 1)) }
    }

    func table(for kernel: TrainingStep) -> any ResultTable {
        let mode = noOverlap ? "no overlap" : "overlap"
        let what = proxy.map { "proxy \($0.rawValue)" } ?? "layers \(kernel.widths.map(String.init).joined(separator: ","))"
        let gpu = device == .cuda ? "cuda \(precision.rawValue) \(reduction.rawValue), " : ""
        return KernelTable(
            title: "train (\(what), batch \(kernel.batch) per rank, \(gpu)\(mode), buckets \(bucketMb) MiB)",
            columns: [.milliseconds("step(ms)"), .milliseconds("compute(ms)", phase: "compute"),
                      .milliseconds("exposed(ms)", phase: "exposed_communication"),
                      .rate("samples/s", "samples_per_second", format: "%.1f"), .rate("GFLOP/s", "gemm_gflops"),
                      .rate("loss first", "loss_first", format: "%.5f"), .rate("loss last", "loss_last", format: "%.5f")])
    }

    /// On cuda: the GPU, its libraries and kernels, before MPI starts; the records then name the
    /// GPU each rank used.
    func prepareDevice(for kernel: inout TrainingStep, context: LaunchContext) throws -> Job.EnvironmentAmendment? {
        guard device == .cuda else { return nil }
        let setup = try TrainCommand.prepareCUDA(precision: precision, reduction: reduction, context: context)
        kernel.target = .cuda(setup.backend)
        return { environment, world in try TrainCommand.describe(setup, in: &environment, world: world) }
    }

    /// Combinations that cannot run, refused before anything starts (exit 2).
    static func check(device: ComputeDevice, precision: Precision, reduction: GradientReduction) throws {
        if device == .cpu, precision != .fp32 {
            throw InvalidParameters(description: "--precision \(precision.rawValue) needs --device cuda: the CPU step multiplies in fp32 (OpenBLAS sgemm) only")
        }
        let usable = GradientReduction.available(on: device)
        guard usable.contains(reduction) else {
            throw InvalidParameters(description: "--reducer \(reduction.rawValue) does not run with --device \(device.rawValue): use \(usable.map(\.rawValue).joined(separator: " or "))")
        }
    }

    /// The GPU, its libraries and kernels, before MPI starts: a missing device or library is one
    /// line and exit 3 (rank 0 speaks); a fault on one rank's own device is said by that rank.
    static func prepareCUDA(precision: Precision, reduction: GradientReduction, context: LaunchContext) throws -> CUDASetup {
        do {
            return try CUDASetup.prepare(precision: precision, reduction: reduction,
                                         localRank: context.localRank, localSize: context.localSize)
        } catch let error as CUDAError {
            if error.isMissing { throw Failure(message: error.description, code: .noDevice) }
            throw Failure(message: "rank \(context.rank): \(error.description)", code: .noDevice, everyRank: true)
        } catch let error as LibraryError {
            throw Failure(message: error.description, code: .noDevice)
        }
    }

    /// The node's GPUs (NVML where present, else the driver's view) and the one each rank uses.
    static func describe(_ setup: CUDASetup, in environment: inout Environment, world: Communicator) throws {
        environment.gpuBindings = try world.allgather(setup.binding)
        environment.ncclVersion = setup.ncclVersion
        guard world.rank == 0 else { return }
        let surveyed = GPUSurvey.devices(pci: environment.gpus ?? [])
        // NVML answered (it knows UUIDs): its list. Else the driver's devices, placed by hwloc.
        if surveyed.contains(where: { $0.uuid != nil }) {
            environment.gpus = surveyed
            return
        }
        environment.gpus = setup.devices.map { device in
            let address = device.busID.flatMap(PCIAddress.init)
            let placed = surveyed.first { $0.busID.flatMap(PCIAddress.init) == address }
            return GPUDevice(index: device.ordinal, name: device.name, uuid: device.uuid, memoryBytes: device.memoryBytes,
                             busID: address?.text ?? device.busID, numaNode: placed?.numaNode,
                             cudaVersion: setup.driverVersion, nearestNIC: placed?.nearestNIC)
        }
    }
}
