import Statistics
import Records
/// A Jacobi sweep with a star stencil of `radius` cells along each of `axes` axes: every cell
/// becomes the mean of its 2 * axes * radius neighbours. The neighbours are added in one fixed
/// order (axis by axis, nearest first, below before above), so a cell's new value depends only on
/// its neighbours' values, never on how the grid was split: decompositions agree bit for bit.
public struct JacobiStencil: Equatable, Sendable {
    public let axes: Int
    public let radius: Int

    public init(axes: Int, radius: Int) {
        precondition((2...3).contains(axes) && radius >= 1, "2 or 3 axes, radius at least 1")
        self.axes = axes
        self.radius = radius
    }

    public var neighbourCount: Int { 2 * axes * radius }
    public var weight: Double { 1 / Double(neighbourCount) }

    /// Element offsets of the neighbours in `layout`, in the order they are added.
    public func neighbourOffsets(in layout: GridLayout) -> [Int] {
        var offsets: [Int] = []
        for axis in 0..<axes {
            for distance in 1...radius {
                offsets += [-distance * layout.strides[axis], distance * layout.strides[axis]]
            }
        }
        return offsets
    }

    /// Updates every cell of `box`, reading `old` and writing `new` (both laid out as `layout`).
    public func update(_ box: Box, from old: UnsafePointer<Double>, into new: UnsafeMutablePointer<Double>,
                       layout: GridLayout) {
        update(box, from: old, into: new, layout: layout, neighbours: neighbourOffsets(in: layout))
    }

    /// The same, with `neighbourOffsets(in: layout)` computed once by a caller that sweeps often.
    public func update(_ box: Box, from old: UnsafePointer<Double>, into new: UnsafeMutablePointer<Double>,
                       layout: GridLayout, neighbours offsets: [Int]) {
        guard !box.isEmpty else { return }
        let weight = self.weight
        offsets.withUnsafeBufferPointer { offsets in
            layout.forEachRun(in: box) { start, count in
                let source = old + start, target = new + start
                switch offsets.count {
                case 4:
                    // Radius 1 in 2-D spelled out (same order as the general loop) so that the
                    // compiler keeps everything in registers.
                    let (a, b, c, d) = (offsets[0], offsets[1], offsets[2], offsets[3])
                    for index in 0..<count {
                        let p = source + index
                        target[index] = (((0.0 + p[a]) + p[b]) + p[c] + p[d]) * weight
                    }
                case 6 where axes == 3:
                    let (a, b, c, d, e, f) = (offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], offsets[5])
                    for index in 0..<count {
                        let p = source + index
                        target[index] = (((0.0 + p[a]) + p[b]) + p[c] + p[d] + p[e] + p[f]) * weight
                    }
                default:
                    for index in 0..<count {
                        var sum = 0.0
                        for offset in offsets { sum += source[index + offset] }
                        target[index] = sum * weight
                    }
                }
            }
        }
    }
}

/// The global problem every decomposition solves: its size, edges and starting values.
public struct JacobiProblem: Equatable, Sendable {
    /// Cells per axis of the whole grid (three entries; the third is 1 in 2-D).
    public let global: [Int]
    public let stencil: JacobiStencil
    public let periodic: Bool

    /// The fixed value just outside a non-periodic edge.
    public static let edgeValue = 1.0

    public init(global: [Int], stencil: JacobiStencil, periodic: Bool) {
        precondition(global.count == 3, "three axes")
        self.global = global
        self.stencil = stencil
        self.periodic = periodic
    }

    /// Starting value of a cell: a hash of its global position, in [0, 1), so that every cell
    /// differs and a misplaced block shows.
    public func initialValue(_ g0: Int, _ g1: Int, _ g2: Int) -> Double {
        var generator = SeededGenerator(seed: UInt64((g0 * global[1] + g1) * global[2] + g2))
        return generator.nextUnitDouble()
    }

    /// Ghost layers per axis: `radius` on the stencil's axes, none on the third axis of a 2-D grid.
    public var ghost: [Int] { (0..<3).map { $0 < stencil.axes ? stencil.radius : 0 } }

    /// Runs `iterations` sweeps on one process over the whole grid, filling ghosts by copying
    /// (periodic) or with the edge value. Returns the interior, row-major: the reference result.
    public func solveSerially(iterations: Int) -> [Double] {
        let layout = GridLayout(extents: global, ghost: ghost)
        var current = [Double](repeating: JacobiProblem.edgeValue, count: layout.storageCount)
        var next = current
        let interior = layout.interior, neighbours = stencil.neighbourOffsets(in: layout)
        for g0 in 0..<global[0] { for g1 in 0..<global[1] { for g2 in 0..<global[2] {
            current[layout.offset(g0, g1, g2)] = initialValue(g0, g1, g2)
        } } }
        for _ in 0..<iterations {
            current.withUnsafeMutableBufferPointer { grid in
                if periodic { wrapGhosts(grid.baseAddress!, layout: layout) }
            }
            current.withUnsafeBufferPointer { old in
                next.withUnsafeMutableBufferPointer { new in
                    stencil.update(interior, from: old.baseAddress!, into: new.baseAddress!, layout: layout, neighbours: neighbours)
                }
            }
            swap(&current, &next)
        }
        var result = [Double](repeating: 0, count: layout.interior.cellCount)
        current.withUnsafeBufferPointer { grid in
            result.withUnsafeMutableBufferPointer { out in layout.pack(layout.interior, from: grid.baseAddress!, into: out.baseAddress!) }
        }
        return result
    }

    /// Copies each face's opposite interior layers into its ghosts, as a periodic domain on one process.
    private func wrapGhosts(_ grid: UnsafeMutablePointer<Double>, layout: GridLayout) {
        for axis in 0..<stencil.axes {
            let depth = stencil.radius
            var buffer = [Double](repeating: 0, count: layout.face(axis: axis, upper: true, depth: depth).cellCount)
            buffer.withUnsafeMutableBufferPointer { buffer in
                for upper in [false, true] {
                    // The ghosts above come from the lowest interior layers, and the other way round.
                    layout.pack(layout.face(axis: axis, upper: !upper, depth: depth), from: grid, into: buffer.baseAddress!)
                    layout.unpack(layout.ghostFace(axis: axis, upper: upper, depth: depth), from: buffer.baseAddress!, into: grid)
                }
            }
        }
    }
}
