import ArgumentParser
import Collector
import Kernels

/// `podgap run pingpong`: one-way message time between two ranks over a size sweep (osu_latency).
struct PingPongCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pingpong",
        abstract: "One-way message time between 2 ranks over a sweep of sizes (osu_latency): half of each round trip.")

    @Option(help: "Message sizes in bytes: LOW:HIGH (powers of two), one size, or a list; K, M, G suffixes.")
    var sizes = "1:4M"
    @Option(help: "Timed round trips per size (default: 1000 up to 8 KiB, 100 above).")
    var iterations: Int?
    @Option(help: "Warm-up round trips per size (default: 100 up to 8 KiB, 10 above).")
    var warmup: Int?
    @Option(help: .hidden)
    var corruptRank: Int?

    @OptionGroup var options: RunOptions

    func run() throws {
        let parsed: [Int]
        do { parsed = try ByteCount.parseSweep(sizes) } catch let error as ByteCount.ParseError {
            throw Failure.badInput("--sizes: \(error.description)")
        }
        if let iterations, iterations <= 0 { throw Failure.badInput("--iterations \(iterations) must be at least 1") }
        if let warmup, warmup < 0 { throw Failure.badInput("--warmup \(warmup) must not be negative") }
        let context = LaunchContext()
        guard context.size == 2 else {
            throw Failure.badInput("pingpong runs on exactly 2 ranks, as osu_latency does; this launch has \(context.size)")
        }
        let kernel = PingPong(sizes: parsed.filter { $0 > 0 }, plan: IterationPlan(iterations: iterations, warmup: warmup),
                              corruptRank: corruptRank, progress: context.rank == 0 ? Progress() : nil)
        guard !kernel.sizes.isEmpty else { throw Failure.badInput("--sizes '\(sizes)' holds no size of at least 1 byte") }
        let table = KernelTable(title: "pingpong (one-way, half the round trip)",
                                columns: [.parameter("bytes", "bytes"), .milliseconds("one-way(ms)"),
                                          .rate("GB/s", "bandwidth_gbps", format: "%.3f")])
        try Job(kernelName: PingPong.name, options: options).run(kernel, table: table)
    }
}
