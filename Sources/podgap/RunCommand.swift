import Probes
import ArgumentParser
import Records
import Kernels

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a kernel on every rank (start it with mpirun, srun, or in pods).",
        subcommands: [AllreduceCommand.self, PingPongCommand.self, HaloCommand.self, TrainCommand.self, VerbsPingPongCommand.self, VerbsBandwidthCommand.self, StartupCommand.self])
}

struct AllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Allreduce latency and bandwidth over a sweep of message sizes (OSU-style).")

    @OptionGroup var sweep: SweepOptions

    @Option(help: "Element type: float32, float64 or int32.")
    var dtype = "float32"

    @Option(help: "mpi (the library's own) or ring (reduce-scatter + allgather in Swift).")
    var algorithm = "mpi"

    @Option(help: "Ring chunk size (pipelining), K/M suffixes.")
    var chunk = "1M"

    @Option(help: .hidden)
    var corruptRank: Int?

    @OptionGroup var options: RunOptions

    func run() throws {
        let (sizesText, sizes, plan) = try sweep.parsed(defaultSizes: "4:1M")
        let chunkBytes: Int
        do { chunkBytes = try ByteCount.parse(chunk) } catch let error as ByteCount.ParseError {
            throw Failure.badInput("--chunk: \(error.description)")
        }
        guard let elementType = ElementType(rawValue: dtype) else {
            throw Failure.badInput("--dtype '\(dtype)' is not one of \(ElementType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let algorithm = Allreduce.Algorithm(rawValue: algorithm) else {
            throw Failure.badInput("--algorithm '\(self.algorithm)' is not one of mpi, ring")
        }
        let kernel = Allreduce(sizes: sizes, elementType: elementType, algorithm: algorithm, plan: plan,
                               chunkBytes: chunkBytes, corruptRank: corruptRank,
                               progress: LaunchContext().rank == 0 ? ProgressLine() : nil)
        guard !kernel.effectiveSizes.isEmpty else {
            throw Failure.badInput("--sizes '\(sizesText)' holds no size of at least one \(dtype) element (\(elementType.byteCount) bytes)")
        }
        try Job(kernelName: Allreduce.name, options: options)
            .run(kernel, table: OSUTable(title: "allreduce (\(algorithm.rawValue), \(dtype))"))
    }
}
