import ArgumentParser
import Kernels
import Launch
import Records
import Runner

/// `podgap run startup`: seconds from the launch command to every rank having finished MPI_Init,
/// natively or in pods, the cost users name first for pods. Parses; `StartupRun` runs it.
struct StartupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: Startup.name,
        abstract: "Time from launch to every rank past MPI_Init, natively or in pods (container create and start included).")

    @Option(help: "loopback (mpirun on this host, no pods), or the pods' network: host, bridge, routed, overlay.")
    var network = NetworkMode.loopback

    @Flag(name: .customLong("no-containers"), help: "Emulated nodes without pods (native-2node); needs --network host.")
    var noContainers = false

    @Option(help: "Native ranks (--network loopback) started by mpirun on this host, srun, or sbatch (srun in a batch job: the queue wait counts); Slurm must answer (scripts/slurm-local up).")
    var launcher: LaunchPlan.NativeStarter = .mpirun

    @Option(help: "Ranks (one pod per rank in pods).")
    var np = 2

    @Option(help: "Trials, one record each.")
    var trials = 3

    @Option(help: .hidden)
    var probeStart: Double?

    @Option(help: .hidden)
    var probeLaunch: String?

    @Option(help: .hidden)
    var probeLaunched: Double?

    @Option(help: .hidden)
    var probePhases: String?

    @Option(help: .hidden)
    var probePulledBytes: Int64?

    @Option(help: .hidden)
    var probeUnpackedBytes: Int64?

    @Option(help: "Pods pull the image from the registry first (podgap registry up, podgap image push): always (cold nodes), if-not-present (warm), never.")
    var pull: String?

    @OptionGroup var options: RunOptions

    func run() throws {
        let settings = options.settings
        if let probeStart {
            var phases: [(StartupPhase, Double)] = []
            if let probePhases {
                guard let parsed = StartupPhase.parse(probePhases) else { throw Failure.badInput("--probe-phases '\(probePhases)' is not name=seconds,...") }
                phases = parsed
            }
            let handover = StartupRun.Handover(launched: probeLaunched ?? probeStart, phases: phases, pulledBytes: probePulledBytes,
                                               unpackedBytes: probeUnpackedBytes)
            return try StartupRun.probe(start: probeStart, launch: probeLaunch, network: network, containers: !noContainers, settings: settings,
                                        handover: handover)
        }
        var knobs = Knobs()
        if let pull { do { try knobs.set("pull", to: pull) } catch { throw Failure.badInput("--" + error.description) } }
        try StartupRun(network: network, containers: !noContainers, ranks: np, trials: trials, settings: settings,
                       podgap: CommandLine.arguments[0], pull: knobs.pull, launcher: launcher, report: PodsFailure.report).run()
    }
}
