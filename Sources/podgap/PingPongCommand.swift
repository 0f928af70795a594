import Probes
import ArgumentParser
import Records
import Kernels
import Runner

/// `podgap run pingpong`: one-way message time between two ranks over a size sweep (osu_latency).
struct PingPongCommand: KernelCommand {
    static let configuration = CommandConfiguration(
        commandName: PingPong.name,
        abstract: "One-way message time between 2 ranks over a sweep of sizes (osu_latency): half of each round trip.")

    @OptionGroup var sweep: SweepOptions
    @OptionGroup var faults: FaultInjection

    @OptionGroup var options: RunOptions

    func kernel(progress: ProgressLine?) throws -> PingPong {
        let sweep = self.sweep.sweep(default: PingPong.defaultSizes)
        let kernel = PingPong(sizes: sweep.value, plan: self.sweep.plan, corruptRank: faults.corruptRank, progress: progress)
        try kernel.validate(sizesText: sweep.text)
        return kernel
    }

    /// Two ranks, checked before MPI starts.
    func prepareLaunch(_ context: LaunchContext) throws { try PingPong.check(ranks: context.size) }

    func table(for kernel: PingPong) -> any ResultTable {
        OSUTable(title: "pingpong (one-way, half the round trip)", layout: .latency)
    }
}
