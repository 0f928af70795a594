import Compute
import Records
import MPI

/// A Jacobi stencil on a grid split over ranks on a Cartesian topology: each iteration exchanges
/// every face with its neighbour (all receives posted first, faces packed into contiguous
/// buffers, non-blocking sends), then updates. With `overlap` the interior is computed while the
/// exchange is in flight, the boundary after. The result is checked against a serial run.
public struct HaloExchange: Kernel {
    public static let name = "halo"
    /// Only the main thread runs while it measures: OSU's level (Kernel.threadLevel).
    public static let threadLevel = MPI.ThreadLevel.single

    /// The iteration (exchange plus update) is what a stencil code waits for.
    public static let descriptor = KernelDescriptor(
        metrics: [
            .init(key: "seconds", label: "iteration time", unit: "seconds", direction: .lowerIsBetter),
            .init(key: "halo_gbps", label: "halo bandwidth", unit: "gigabytes_per_second", direction: .higherIsBetter),
            .init(key: "cells_per_second", label: "cell updates", unit: "cells_per_second", direction: .higherIsBetter),
        ],
        headlines: [.init(label: "halo iteration time", point: .heaviest, asRate: false)],
        order: 2)

    public var axes: Int
    /// Cells per rank along each of `axes` axes.
    public var local: [Int]
    public var haloWidth: Int
    public var iterations: Int
    public var warmup: Int
    public var periodic: Bool
    public var overlap: Bool
    /// Fault injection for tests: this rank disturbs one cell before the check.
    public var corruptRank: Int?
    public var progress: ProgressLine?

    public init(axes: Int, local: [Int], haloWidth: Int = 1, iterations: Int = 100, warmup: Int = 10,
                periodic: Bool = false, overlap: Bool = false, corruptRank: Int? = nil, progress: ProgressLine? = nil) {
        self.axes = axes
        self.local = local
        self.haloWidth = haloWidth
        self.iterations = iterations
        self.warmup = warmup
        self.periodic = periodic
        self.overlap = overlap
        self.corruptRank = corruptRank
        self.progress = progress
    }

    /// Checks what needs no MPI: shapes and widths. Every face a rank sends must come from its
    /// own cells, so a block must be at least as thick as the halo.
    public func validate() throws {
        guard (2...3).contains(axes) else { throw InvalidParameters(description: "--dims \(axes) must be 2 or 3") }
        guard local.count == axes else {
            throw InvalidParameters(description: "--local \(HaloExchange.format(local)) has \(local.count) extents; --dims \(axes) needs \(axes)")
        }
        guard (1...4).contains(haloWidth) else { throw InvalidParameters(description: "--halo-width \(haloWidth) must be 1 to 4") }
        if let thin = local.first(where: { $0 < haloWidth }) {
            throw InvalidParameters(description: "--local \(HaloExchange.format(local)) cannot be split with --halo-width \(haloWidth): extent \(thin) is thinner than the halo")
        }
        guard iterations >= 1 else { throw InvalidParameters(description: "--iterations \(iterations) must be at least 1") }
        guard warmup >= 0 else { throw InvalidParameters(description: "--warmup \(warmup) must not be negative") }
    }

    /// Two grids with their ghosts and a face buffer each way per side; rank 0 also gathers every
    /// block and runs the serial Jacobi it checks against (two global grids). Blocks hold at most
    /// 2^31 cells (`parseExtents`), so these products stay far below Int.max.
    public func memoryPerRank(ranks: Int) -> MemoryNeed {
        let withGhosts = local.reduce(1) { $0 * ($1 + 2 * haloWidth) }
        let faces = local.indices.reduce(0) { total, axis in
            total + 2 * 2 * haloWidth * local.enumerated().filter { $0.offset != axis }.reduce(1) { $0 * $1.element }
        }
        let rankZero = 3 * local.reduce(1, *) * max(ranks, 1)
        return MemoryNeed(buffers: 2 * withGhosts + faces + rankZero, of: MemoryLayout<Double>.size,
                          setBy: "--local \(HaloExchange.format(local))")
    }

    /// Parses `512x512` or `128x128x128`.
    public static func parseExtents(_ text: String) throws -> [Int] {
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        let values = parts.map { Int($0) }
        guard (2...3).contains(parts.count), values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw InvalidParameters(description: "--local '\(text)' is not a block size: use positive cells per axis like 512x512 or 128x128x128")
        }
        let extents = values.map { $0! }
        guard extents.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) <= 1 << 31 else {
            throw InvalidParameters(description: "--local '\(text)' is too large (over 2^31 cells per rank)")
        }
        return extents
    }

    public static func format(_ extents: [Int]) -> String { extents.map(String.init).joined(separator: "x") }

    public func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws {
        try validate()
        let rankGrid = try CartesianTopology.balancedDimensions(ranks: communicator.size, axes: axes)
        let topology = try CartesianTopology(over: communicator, dimensions: rankGrid,
                                             periodic: [Bool](repeating: periodic, count: axes))
        defer { try? topology.free() }
        try record(try run(on: topology))
    }

    private func run(on topology: CartesianTopology) throws -> MeasuredPoint {
        let comm = topology.communicator
        let coordinates = try topology.coordinates
        let stencil = JacobiStencil(axes: axes, radius: haloWidth)
        let extents = (0..<3).map { $0 < axes ? local[$0] : 1 }
        let global = (0..<3).map { $0 < axes ? local[$0] * topology.dimensions[$0] : 1 }
        let problem = JacobiProblem(global: global, stencil: stencil, periodic: periodic)
        let layout = GridLayout(extents: extents, ghost: problem.ghost)
        let origin = (0..<3).map { $0 < axes ? coordinates[$0] * local[$0] : 0 }

        // Two grids, read one and write the other; ghosts start at the edge value, which is what
        // a side without a neighbour keeps for good.
        var current = UnsafeMutablePointer<Double>.allocate(capacity: layout.storageCount)
        var next = UnsafeMutablePointer<Double>.allocate(capacity: layout.storageCount)
        defer { current.deallocate(); next.deallocate() }
        current.initialize(repeating: JacobiProblem.edgeValue, count: layout.storageCount)
        next.initialize(repeating: JacobiProblem.edgeValue, count: layout.storageCount)
        for i0 in 0..<extents[0] { for i1 in 0..<extents[1] { for i2 in 0..<extents[2] {
            current[layout.offset(i0, i1, i2)] = problem.initialValue(origin[0] + i0, origin[1] + i1, origin[2] + i2)
        } } }

        let faces = try (0..<axes).flatMap { axis -> [Face] in
            let (below, above) = try topology.shift(axis: axis)
            return [false, true].compactMap { upper in
                let neighbour = upper ? above : below
                guard neighbour != Communicator.nullRank else { return nil }
                return Face(axis: axis, upper: upper, neighbour: neighbour, layout: layout, depth: haloWidth)
            }
        }
        defer { faces.forEach { $0.deallocate() } }
        // Everything the loop reads is set up here, out of the timed region: boxes, neighbour
        // offsets, and room for this iteration's requests.
        let interior = layout.interior, core = layout.core(depth: haloWidth), shell = layout.shell(depth: haloWidth)
        let neighbours = stencil.neighbourOffsets(in: layout)
        var requests: [Request] = []
        requests.reserveCapacity(2 * faces.count)

        let total = warmup + iterations
        var exchange = [Double](repeating: 0, count: total), compute = exchange, whole = exchange
        try comm.barrier()
        for iteration in 0..<total {
            if iteration % 16 == 0 { progress?.update("halo", step: iteration + 1, of: total) }
            let start = MPI.wallTime
            requests.removeAll(keepingCapacity: true)
            for face in faces {
                // Data moving up along an axis carries tag 2*axis, moving down 2*axis+1; a lower
                // ghost is filled by a message moving up. Distinct tags keep the two faces apart
                // when both neighbours are the same rank.
                requests.append(try comm.ireceive(into: face.incoming, from: face.neighbour, tag: 2 * face.axis + (face.upper ? 1 : 0)))
            }
            for face in faces {
                layout.pack(face.sent, from: current, into: face.outgoing.baseAddress!)
                requests.append(try comm.isend(UnsafeBufferPointer(face.outgoing), to: face.neighbour,
                                               tag: 2 * face.axis + (face.upper ? 0 : 1)))
            }
            let posted = MPI.wallTime
            if overlap { stencil.update(core, from: current, into: next, layout: layout, neighbours: neighbours) }
            let interiorDone = MPI.wallTime
            try Request.waitAll(&requests)
            for face in faces { layout.unpack(face.received, from: face.incoming.baseAddress!, into: current) }
            let exchanged = MPI.wallTime
            if overlap {
                for slab in shell { stencil.update(slab, from: current, into: next, layout: layout, neighbours: neighbours) }
            } else {
                stencil.update(interior, from: current, into: next, layout: layout, neighbours: neighbours)
            }
            let end = MPI.wallTime
            swap(&current, &next)
            exchange[iteration] = (posted - start) + (exchanged - interiorDone)
            compute[iteration] = (interiorDone - posted) + (end - exchanged)
            whole[iteration] = end - start
        }
        progress?.finish()

        if corruptRank == comm.rank { current[layout.offset(0, 0, 0)] += 1 }
        let (verified, verification) = try verify(current, layout: layout, problem: problem, topology: topology)

        let timed = warmup..<total
        let slowestWhole = try Timing.slowest(Array(whole[timed]), over: comm)
        let slowestExchange = try Timing.slowest(Array(exchange[timed]), over: comm)
        let slowestCompute = try Timing.slowest(Array(compute[timed]), over: comm)
        let bytesSent = faces.reduce(0) { $0 + $1.outgoing.count * MemoryLayout<Double>.size }
        let allBytes = try comm.allreduce(Int64(bytesSent), operation: .sum)
        let exchangeMedian = Summary(of: slowestExchange).p50, wholeMedian = Summary(of: slowestWhole).p50
        let cells = global.reduce(1, *)
        return MeasuredPoint(
            parameters: ["dims": .number(Double(axes)), "grid": .string(HaloExchange.format(topology.dimensions)),
                         "local": .string(HaloExchange.format(local)),
                         "global": .string(HaloExchange.format(Array(global.prefix(axes)))),
                         "halo_width": .number(Double(haloWidth)), "periodic": .bool(periodic), "overlap": .bool(overlap),
                         "dtype": "float64", "packing": "contiguous",
                         "halo_bytes": .number(Double(allBytes)), "neighbours_max": .number(Double(try comm.allreduce(Int32(faces.count), operation: .max)))],
            warmup: warmup, iterations: iterations, samples: slowestWhole,
            throughput: ["halo_gbps": exchangeMedian > 0 ? Double(allBytes) / exchangeMedian / 1e9 : 0,
                         "cells_per_second": wholeMedian > 0 ? Double(cells) / wholeMedian : 0],
            phases: ["exchange": slowestExchange, "compute": slowestCompute],
            verified: verified, verification: verification)
    }

    /// Gathers every block to rank 0 and compares it, bit for bit, with a serial run of the same
    /// global grid for the same number of sweeps (warm-up sweeps update the grid too).
    private func verify(_ grid: UnsafePointer<Double>, layout: GridLayout, problem: JacobiProblem,
                        topology: CartesianTopology) throws -> (Bool, String) {
        let comm = topology.communicator
        var block = [Double](repeating: 0, count: layout.interior.cellCount)
        block.withUnsafeMutableBufferPointer { layout.pack(layout.interior, from: grid, into: $0.baseAddress!) }
        let blocks = try comm.gatherVariable(block, to: 0)
        var problemText = ""
        if comm.rank == 0 {
            let reference = problem.solveSerially(iterations: warmup + iterations)
            let global = problem.global
            var mismatches = 0
            for (rank, values) in blocks.enumerated() {
                let coordinates = try topology.coordinates(of: rank)
                let origin = (0..<3).map { $0 < axes ? coordinates[$0] * local[$0] : 0 }
                var index = 0
                for i0 in 0..<layout.extents[0] { for i1 in 0..<layout.extents[1] { for i2 in 0..<layout.extents[2] {
                    let g = (origin[0] + i0, origin[1] + i1, origin[2] + i2)
                    let expected = reference[(g.0 * global[1] + g.1) * global[2] + g.2]
                    if values[index].bitPattern != expected.bitPattern {
                        if mismatches == 0 {
                            problemText = "rank \(rank) cell (\(g.0),\(g.1),\(g.2)) is \(values[index]), serial Jacobi gives \(expected)"
                        }
                        mismatches += 1
                    }
                    index += 1
                } } }
            }
            if mismatches > 0 { problemText += " (\(mismatches) cells differ)" }
        }
        let message = try comm.broadcast(problemText, from: 0)
        if message.isEmpty {
            return (true, "gathered grid equals a serial Jacobi of \(HaloExchange.format(Array(problem.global.prefix(axes)))) over \(warmup + iterations) sweeps bit for bit")
        }
        return (false, message)
    }
}

/// One side of one axis that has a neighbour: what goes out, where what comes in lands.
private struct Face {
    let axis: Int
    let upper: Bool
    let neighbour: Int
    let sent: Box
    let received: Box
    let outgoing: UnsafeMutableBufferPointer<Double>
    let incoming: UnsafeMutableBufferPointer<Double>

    init(axis: Int, upper: Bool, neighbour: Int, layout: GridLayout, depth: Int) {
        self.axis = axis
        self.upper = upper
        self.neighbour = neighbour
        sent = layout.face(axis: axis, upper: upper, depth: depth)
        received = layout.ghostFace(axis: axis, upper: upper, depth: depth)
        outgoing = .allocate(capacity: sent.cellCount)
        incoming = .allocate(capacity: received.cellCount)
        outgoing.initialize(repeating: 0)
        incoming.initialize(repeating: 0)
    }

    func deallocate() { outgoing.deallocate(); incoming.deallocate() }
}


