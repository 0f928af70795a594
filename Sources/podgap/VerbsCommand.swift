import ArgumentParser
import Kernels
import VerbsKernels
import Runner

/// `podgap run verbs-pingpong`: the fabric's own latency without MPI, like perftest's ib_send_lat.
struct VerbsPingPongCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: VerbsPingPong.name,
        abstract: "RDMA send/receive ping-pong over one RC queue pair, no MPI (like ib_send_lat).",
        discussion: VerbsOptions.discussion)

    @OptionGroup var verbs: VerbsOptions

    func run() throws {
        let sweep = verbs.sweep.sweep(default: VerbsOptions.defaultSizes)
        try verbs.job.run(VerbsBaseline<VerbsPingPong>(sizes: sweep.value, plan: verbs.sweep.plan))
    }
}

/// `podgap run verbs-bw`: the fabric's own bandwidth without MPI, like perftest's ib_write_bw.
struct VerbsBandwidthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: VerbsBandwidth.name,
        abstract: "RDMA write bandwidth over one RC queue pair, no MPI (like ib_write_bw).",
        discussion: VerbsOptions.discussion)

    @OptionGroup var verbs: VerbsOptions

    func run() throws {
        let sweep = verbs.sweep.sweep(default: VerbsOptions.defaultSizes)
        try verbs.job.run(VerbsBaseline<VerbsBandwidth>(sizes: sweep.value, plan: verbs.sweep.plan))
    }
}

/// What verbs-pingpong and verbs-bw share: their options, and how to start them.
struct VerbsOptions: ParsableArguments {
    static let discussion = """
        Start the server first (no --connect), then the client with --connect SERVER on another \
        node or pod. The client measures and writes the records. Exits 3 where no RDMA device exists. \
        See docs/rdma.md.
        """
    static let defaultSizes = "4:1M"

    @Option(help: "Server address to connect to (an IPoIB or RoCE interface address); without it, this process is the server.")
    var connect: String?

    @Option(help: "Address the server listens on (default: every RDMA address).")
    var bind: String?

    @Option(help: "TCP-style port of the rdma_cm connection (perftest's default).")
    var port = 18515

    @OptionGroup var sweep: SweepOptions

    @OptionGroup var options: RunOptions

    var job: VerbsRun { VerbsRun(settings: options.settings, server: connect, bind: bind, port: port) }
}
