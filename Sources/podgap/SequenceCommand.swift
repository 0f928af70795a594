import ArgumentParser
import Launch
import Probes
import Runner

/// `podgap run sequence KERNEL OPTIONS... [--then KERNEL OPTIONS...]...`: several kernels one after
/// another in one MPI job, each given exactly what `podgap run KERNEL` takes (its own `--out`,
/// `--run-id`, `--round` ...) and writing its records as it would alone. The suite starts one such
/// launch per environment per round (`launch: combined`), so a round pays for one MPI start-up
/// per environment instead of one per kernel.
struct SequenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sequence",
        abstract: "Run several kernels one after another in one MPI job (what a suite's combined launch runs).",
        discussion: """
            Each kernel takes the options of podgap run KERNEL; --then starts the next one. Every kernel
            must give the same --transport and --label. Example:
              mpirun -np 2 podgap run sequence allreduce --sizes 4:64K --out a.jsonl --then halo --local 64x64 --out a.jsonl
            --gate DIR, before the first kernel (the suite gives it): between two kernels every rank waits
            until DIR/gate-K exists (at most 5 s), while the suite reads the nodes' counters (docs/counters.md).
            See docs/suite-internals.md.
            """)

    @Argument(parsing: .captureForPassthrough, help: "KERNEL OPTIONS... [--then KERNEL OPTIONS...]...")
    var words: [String] = []

    func run() throws {
        // The suite's gate folder comes first, before any kernel (`KernelSequence.gateOption`).
        var words = words, gate: String?
        if words.first == KernelSequence.gateOption {
            guard words.count > 1 else { throw Failure.badInput("\(KernelSequence.gateOption) needs a folder") }
            gate = words[1]
            words.removeFirst(2)
        }
        let segments = words.split(separator: KernelSequence.separator, omittingEmptySubsequences: false)
        guard !words.isEmpty, segments.allSatisfy({ !$0.isEmpty }) else {
            throw Failure.badInput("podgap run sequence needs KERNEL OPTIONS..., kernels separated by \(KernelSequence.separator)")
        }
        let context = LaunchContext()
        var steps: [KernelStep] = []
        for segment in segments {
            let name = segment.first!
            guard let command = RunKernels.command(name) else {
                throw Failure.badInput("'\(name)' is not a kernel of podgap run sequence (one of \(RunKernels().names.joined(separator: ", ")))")
            }
            let parsed: any KernelCommand
            do { parsed = try command.parse(Array(segment.dropFirst())) } catch {
                throw Failure.badInput("\(name): \(command.message(for: error))")
            }
            steps.append(try parsed.step(context: context))
        }
        try reportingDeviceErrors { try KernelRun.run(steps, context: context, gate: gate) }
    }
}
