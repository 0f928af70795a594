import ArgumentParser
import Collector
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

    @Option(help: "Message sizes in bytes: LOW:HIGH (powers of two), one size, or a list; K, M, G suffixes.")
    var sizes = "4:1M"

    @Option(help: "Element type: float32, float64 or int32.")
    var dtype = "float32"

    @Option(help: "mpi (the library's own) or ring (reduce-scatter + allgather in Swift).")
    var algorithm = "mpi"

    @Option(help: "Timed iterations per size (default: 1000 up to 8 KiB, 100 above).")
    var iterations: Int?

    @Option(help: "Warm-up iterations per size (default: 100 up to 8 KiB, 10 above).")
    var warmup: Int?

    @Option(help: "Ring chunk size (pipelining), K/M suffixes.")
    var chunk = "1M"

    @Option(help: .hidden)
    var corruptRank: Int?

    @OptionGroup var options: RunOptions

    func run() throws {
        let sizes: [Int]
        let chunkBytes: Int
        do {
            sizes = try ByteCount.parseSweep(self.sizes)
            chunkBytes = try ByteCount.parse(chunk)
        } catch let error as ByteCount.ParseError {
            throw Failure.badInput("--sizes/--chunk: \(error.description)")
        }
        guard let elementType = ElementType(rawValue: dtype) else {
            throw Failure.badInput("--dtype '\(dtype)' is not one of \(ElementType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let algorithm = Allreduce.Algorithm(rawValue: algorithm) else {
            throw Failure.badInput("--algorithm '\(self.algorithm)' is not one of mpi, ring")
        }
        if let iterations, iterations <= 0 { throw Failure.badInput("--iterations \(iterations) must be at least 1") }
        if let warmup, warmup < 0 { throw Failure.badInput("--warmup \(warmup) must not be negative") }
        let kernel = Allreduce(sizes: sizes, elementType: elementType, algorithm: algorithm,
                               plan: IterationPlan(iterations: iterations, warmup: warmup),
                               chunkBytes: chunkBytes, corruptRank: corruptRank,
                               progress: LaunchContext().rank == 0 ? Progress() : nil)
        guard !kernel.effectiveSizes.isEmpty else {
            throw Failure.badInput("--sizes '\(self.sizes)' holds no size of at least one \(dtype) element (\(elementType.byteCount) bytes)")
        }
        try Job(kernelName: Allreduce.name, options: options)
            .run(kernel, table: OSUTable(title: "allreduce (\(algorithm.rawValue), \(dtype))"))
    }
}
