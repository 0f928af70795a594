import Records
import ArgumentParser
import Kernels

/// The size sweep and iteration counts of allreduce, pingpong and the verbs baselines.
struct SweepOptions: ParsableArguments {
    @Option(help: "Message sizes in bytes: LOW:HIGH (powers of two), one size, or a list; K, M, G suffixes (default: OSU's, 1:1M for allreduce, 1:4M for pingpong).",
            transform: Typed.sizes)
    var sizes: Typed<[Int]>?

    @Option(parsing: .unconditional, help: "Timed iterations per size (default: OSU's, 1000 up to 8 KiB and 100 above for allreduce, 10000 and 1000 for pingpong).")
    var iterations: Int?

    @Option(parsing: .unconditional, help: "Warm-up iterations per size, not timed (default: OSU's skip counts, 100 up to 8 KiB and 10 above).")
    var warmup: Int?

    func validate() throws {
        if let iterations, iterations <= 0 { throw ValidationError("--iterations \(iterations) must be at least 1") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup \(warmup) must not be negative") }
    }

    /// The sizes as typed, or the kernel's default sweep.
    func sweep(default text: String) -> Typed<[Int]> {
        // The defaults are constants that parse.
        sizes ?? (try! Typed.sizes(text))
    }

    var plan: IterationPlan { IterationPlan(iterations: iterations, warmup: warmup) }
}
