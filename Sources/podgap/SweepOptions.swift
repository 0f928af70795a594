import Records
import ArgumentParser
import Kernels

/// The size sweep and iteration counts of allreduce, pingpong and the verbs baselines.
struct SweepOptions: ParsableArguments {
    @Option(help: "Message sizes in bytes: LOW:HIGH (powers of two), one size, or a list; K, M, G suffixes (default: 4:1M; pingpong 1:4M, as osu_latency).")
    var sizes: String?

    @Option(help: "Timed iterations per size (default: 1000 up to 8 KiB, 100 above).")
    var iterations: Int?

    @Option(help: "Warm-up iterations per size (default: 100 up to 8 KiB, 10 above).")
    var warmup: Int?

    /// The sizes (as typed, or the kernel's default sweep, and parsed) and the iteration plan, checked.
    func parsed(defaultSizes: String) throws -> (text: String, sizes: [Int], plan: IterationPlan) {
        let text = sizes ?? defaultSizes
        let parsed: [Int]
        do { parsed = try ByteCount.parseSweep(text) } catch let error as ByteCount.ParseError {
            throw Failure.badInput("--sizes: \(error.description)")
        }
        if let iterations, iterations <= 0 { throw Failure.badInput("--iterations \(iterations) must be at least 1") }
        if let warmup, warmup < 0 { throw Failure.badInput("--warmup \(warmup) must not be negative") }
        return (text, parsed, IterationPlan(iterations: iterations, warmup: warmup))
    }
}
