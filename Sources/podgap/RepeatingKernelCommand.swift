import ArgumentParser
import Foundation
import Kernels
import Records
import Runner

/// `podgap run KERNEL` for a kernel whose only parameters are how often it repeats
/// (`RepeatingKernel`): its options, its checks and its table come from the kernel's type, so
/// adding such a kernel is its file plus one line in `RunKernels.commands`.
struct RepeatingKernelCommand<Measured: RepeatingKernel>: KernelCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Measured.name, abstract: Measured.abstract)
    }

    @Option(parsing: .unconditional, help: "Timed iterations (default: the kernel's, as OSU's benchmarks count them).")
    var iterations: Int?

    @Option(parsing: .unconditional, help: "Warm-up iterations, not timed (default: the kernel's).")
    var warmup: Int?

    @OptionGroup var options: RunOptions

    func kernel(progress: ProgressLine?) throws -> Measured {
        try Measured(iterations: iterations ?? Measured.defaultPlan.iterations, warmup: warmup ?? Measured.defaultPlan.warmup,
                     progress: progress)
    }

    func table(for kernel: Measured) -> any ResultTable {
        KernelTable(title: "\(Measured.name) (\(kernel.iterations) timed, \(kernel.warmup) warm-up)",
                    columns: [KernelTable.Column(heading: "time(us)") { String(format: "%.2f", $0.seconds.p50 * 1e6) },
                              KernelTable.Column(heading: "osu avg(us)") { record in
                                  record.osu.map { String(format: "%.2f", $0.avg * 1e6) } ?? "-"
                              }])
    }
}
