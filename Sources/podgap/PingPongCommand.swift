import Probes
import ArgumentParser
import Records
import Kernels

/// `podgap run pingpong`: one-way message time between two ranks over a size sweep (osu_latency).
struct PingPongCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pingpong",
        abstract: "One-way message time between 2 ranks over a sweep of sizes (osu_latency): half of each round trip.")

    @OptionGroup var sweep: SweepOptions
    @Option(help: .hidden)
    var corruptRank: Int?

    @OptionGroup var options: RunOptions

    func run() throws {
        let (sizesText, sizes, plan) = try sweep.parsed(defaultSizes: "1:4M")
        let context = LaunchContext()
        do { try PingPong.check(ranks: context.size) } catch let error as InvalidParameters { throw Failure.badInput(error.description) }
        let kernel = PingPong(sizes: sizes.filter { $0 > 0 }, plan: plan,
                              corruptRank: corruptRank, progress: context.rank == 0 ? ProgressLine() : nil)
        guard !kernel.sizes.isEmpty else { throw Failure.badInput("--sizes '\(sizesText)' holds no size of at least 1 byte") }
        let table = KernelTable(title: "pingpong (one-way, half the round trip)",
                                columns: [.parameter("bytes", "bytes"), .milliseconds("one-way(ms)"),
                                          .rate("GB/s", "bandwidth_gbps", format: "%.3f")])
        try Job(kernelName: PingPong.name, options: options).run(kernel, table: table)
    }
}
