import Probes
import ArgumentParser
import Records
import Kernels
import Compute
import Runner

struct HaloCommand: KernelCommand {
    static let configuration = CommandConfiguration(
        commandName: HaloExchange.name,
        abstract: "Jacobi stencil with halo exchange on a Cartesian rank grid (MPI_Cart_create), verified against a serial run.")

    @Option(parsing: .unconditional, help: "Grid dimensions: 2 or 3.")
    var dims = 2

    @Option(help: "Cells per rank, e.g. 512x512 or 128x128x128 (default: 512x512 in 2-D, 128x128x128 in 3-D).")
    var local: String?

    @Option(parsing: .unconditional, help: "Ghost layers per face, 1 to 4 (the stencil reaches this far along each axis).")
    var haloWidth = 1

    @Option(parsing: .unconditional, help: "Timed iterations.")
    var iterations = 100

    @Option(parsing: .unconditional, help: "Warm-up iterations (they update the grid too).")
    var warmup = 10

    @Flag(help: "Wrap around at the grid's edges (a torus) instead of fixed edge values.")
    var periodic = false

    @Flag(help: "Compute the interior while the exchange is in flight, then the boundary.")
    var overlap = false

    @OptionGroup var faults: FaultInjection

    @OptionGroup var options: RunOptions

    func kernel(progress: ProgressLine?) throws -> HaloExchange {
        guard dims == 2 || dims == 3 else { throw InvalidParameters(description: "--dims \(dims) must be 2 or 3") }
        let extents = try HaloExchange.parseExtents(local ?? (dims == 3 ? "128x128x128" : "512x512"))
        let kernel = HaloExchange(axes: dims, local: extents, haloWidth: haloWidth, iterations: iterations, warmup: warmup,
                                  periodic: periodic, overlap: overlap, corruptRank: faults.corruptRank, progress: progress)
        try kernel.validate()
        return kernel
    }

    func table(for kernel: HaloExchange) -> any ResultTable {
        KernelTable(
            title: "halo (\(dims)-D, \(HaloExchange.format(kernel.local)) per rank, width \(haloWidth)\(periodic ? ", periodic" : "")\(overlap ? ", overlap" : ""))",
            columns: [.parameter("grid", "grid"), .parameter("global", "global"),
                      .milliseconds("iter(ms)"), .milliseconds("exchange(ms)", phase: "exchange"),
                      .milliseconds("compute(ms)", phase: "compute"),
                      .rate("halo(GB/s)", "halo_gbps", format: "%.4f"), .rate("Mcells/s", "cells_per_second", scale: 1e-6)])
    }
}
