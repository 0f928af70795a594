import Probes
import ArgumentParser
import Records
import Kernels
import Compute
import Runner
import CUDA

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a kernel on every rank (start it with mpirun, srun, or in pods).",
        discussion: "See docs/running.md (the kernels on GPUs: docs/gpus.md; the verbs baselines: docs/rdma.md).",
        // The MPI kernels (the one list), then the workloads that launch themselves.
        subcommands: RunKernels.commands.map { $0 as ParsableCommand.Type }
            + [SequenceCommand.self, VerbsPingPongCommand.self, VerbsBandwidthCommand.self, StartupCommand.self])
}

/// A `podgap run` command that measures one MPI kernel. Parsing builds the kernel and checks it
/// (`validate`, which ArgumentParser calls after parsing), so whoever parses the same arguments
/// with the same command type, `podgap run` or the suite's kernel registry, runs the same checks;
/// running hands the kernel to the run loop.
protocol KernelCommand: ParsableCommand {
    associatedtype Measured: Kernel
    var options: RunOptions { get }
    /// The kernel the arguments describe, checked (`InvalidParameters` names the option); no MPI.
    func kernel(progress: ProgressLine?) throws -> Measured
    /// What stdout shows without `--out`.
    func table(for kernel: Measured) -> any ResultTable
    /// Checks of the launch itself (its ranks), and settings that depend on it, made before MPI
    /// starts; the suite, which parses the same arguments outside any launch, checks its ranks itself.
    func prepareLaunch(_ context: LaunchContext) throws
    /// The device the kernel computes on, set up before MPI starts (a GPU, its libraries and
    /// kernels); returns what only that device knows for the records, added once MPI runs. Nil
    /// for the CPU.
    func prepareDevice(for kernel: inout Measured, context: LaunchContext) throws -> KernelRun.EnvironmentAmendment?
}

extension KernelCommand {
    /// Every check that needs no MPI: the parameters, and that this node can hold the buffers of
    /// the ranks the launcher put on it (one rank outside a launcher).
    func validate() throws {
        let context = LaunchContext()
        try MemoryFit.check(try checkedKernel(progress: nil).memoryPerRank(ranks: context.size), ranksOnNode: context.localSize)
    }

    func prepareLaunch(_ context: LaunchContext) throws {}

    func prepareDevice(for kernel: inout Measured, context: LaunchContext) throws -> KernelRun.EnvironmentAmendment? { nil }

    func run() throws {
        let context = LaunchContext()
        let step = try step(context: context)
        try reportingDeviceErrors { try KernelRun.run([step], context: context) }
    }

    /// The kernel these arguments describe, checked, its device set up, ready for the run loop:
    /// the same for a launch of this kernel alone and for one step of `podgap run sequence`.
    func step(context: LaunchContext) throws -> KernelStep {
        var kernel = try checked {
            try prepareLaunch(context)
            return try self.kernel(progress: context.rank == 0 ? ProgressLine() : nil)
        }
        let amend = try prepareDevice(for: &kernel, context: context)
        return KernelStep(kernel, settings: options.settings, table: table(for: kernel), amend: amend)
    }

    private func checkedKernel(progress: ProgressLine?) throws -> Measured {
        try checked { try kernel(progress: progress) }
    }

    /// Kernel parameter errors as the CLI's bad input (exit 2).
    private func checked<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as InvalidParameters {
            throw Failure.badInput(error.description)
        }
    }
}

/// A CUDA error found once MPI runs (ranks sharing a GPU under NCCL, a device fault): one line,
/// exit 3 where hardware or a library is missing.
func reportingDeviceErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let error as CUDAError {
        throw Failure(message: error.description, code: error.isMissing ? .noDevice : .unverified)
    }
}

struct AllreduceCommand: KernelCommand {
    static let configuration = CommandConfiguration(
        commandName: Allreduce.name,
        abstract: "Allreduce latency and bandwidth over a sweep of message sizes (osu_allreduce's loop and columns).")

    @OptionGroup var sweep: SweepOptions

    @Option(help: "Element type.")
    var dtype: ElementType = .float32

    @Option(help: "mpi (the library's own) or ring (reduce-scatter + allgather in Swift).")
    var algorithm: Allreduce.Algorithm = .mpi

    @Flag(help: "Sum into the send buffer (MPI_IN_PLACE), as nccl-tests' in-place columns.")
    var inPlace = false

    @Option(help: "The table on stdout without --out: osu (osu_allreduce's columns) or nccl (nccl-tests' columns; measures out-of-place and in-place at every size, as nccl-tests does, unless --in-place).")
    var table: AllreduceTable = .osu

    @Option(help: "Ring chunk size (pipelining), K/M suffixes (default: 1M).", transform: Typed.bytes)
    var chunk = Typed(value: 1 << 20, text: "1M")

    @OptionGroup var faults: FaultInjection

    @OptionGroup var options: RunOptions

    func kernel(progress: ProgressLine?) throws -> Allreduce {
        let sweep = self.sweep.sweep(default: Allreduce.defaultSizes)
        let placements: [Allreduce.Placement] = inPlace ? [.inPlace] : table == .nccl ? [.outOfPlace, .inPlace] : [.outOfPlace]
        let kernel = Allreduce(sizes: sweep.value, elementType: dtype, algorithm: algorithm, placements: placements,
                               plan: self.sweep.plan, chunkBytes: chunk.value, corruptRank: faults.corruptRank, progress: progress)
        try kernel.validate(sizesText: sweep.text)
        return kernel
    }

    func table(for kernel: Allreduce) -> any ResultTable {
        let title = "allreduce (\(kernel.algorithm.rawValue), \(kernel.elementType.rawValue)\(inPlace ? ", in place" : ""))"
        switch table {
        case .osu: return OSUTable(title: title, layout: .collective)
        case .nccl: return NCCLTable(title: title, placements: kernel.placements)
        }
    }
}

/// Fault injection for tests: this rank spoils what it received before the check.
struct FaultInjection: TestKnobs {
    @Option(help: .hidden)
    var corruptRank: Int?
}

/// The tables `run allreduce` prints without `--out`.
enum AllreduceTable: String, CaseIterable, ExpressibleByArgument {
    case osu, nccl
}

extension ElementType: ExpressibleByArgument {}
extension Allreduce.Algorithm: ExpressibleByArgument {}
