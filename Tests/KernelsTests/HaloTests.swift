import Kernels
import Compute
import Testing

@Suite struct GridLayoutTests {
    @Test func offsetsAreRowMajorWithGhosts() {
        let layout = GridLayout(extents: [4, 3, 1], ghost: [2, 2, 0])
        #expect(layout.strides == [7, 1, 1])
        #expect(layout.storageCount == 8 * 7 * 1)
        #expect(layout.offset(0, 0, 0) == 2 * 7 + 2)
        #expect(layout.offset(-2, -2, 0) == 0)
        #expect(layout.offset(3, 2, 0) == 5 * 7 + 4)
    }

    @Test func coreAndShellPartitionTheInterior() {
        for (extents, ghost, depth) in [([6, 5, 4], [2, 2, 2], 2), ([7, 3, 1], [1, 1, 0], 1), ([3, 3, 3], [2, 2, 2], 2),
                                        ([10, 9, 1], [3, 3, 0], 3)] {
            let layout = GridLayout(extents: extents, ghost: ghost)
            var seen = Set<[Int]>()
            var total = 0
            for box in [layout.core(depth: depth)] + layout.shell(depth: depth) {
                for i0 in box.ranges[0] { for i1 in box.ranges[1] { for i2 in box.ranges[2] {
                    seen.insert([i0, i1, i2]); total += 1
                } } }
            }
            // Every interior cell exactly once.
            #expect(total == extents.reduce(1, *))
            #expect(seen.count == total)
            #expect(seen.allSatisfy { cell in (0..<3).allSatisfy { (0..<extents[$0]).contains(cell[$0]) } })
            // Core cells are at least `depth` away from every face that has ghosts.
            let core = layout.core(depth: depth)
            for axis in 0..<3 where ghost[axis] > 0 && !core.isEmpty {
                #expect(core.ranges[axis].lowerBound >= depth && core.ranges[axis].upperBound <= extents[axis] - depth)
            }
        }
    }

    @Test func packThenUnpackMovesAFaceIntoTheOppositeGhosts() {
        let layout = GridLayout(extents: [3, 4, 1], ghost: [1, 1, 0])
        var grid = [Double](repeating: -1, count: layout.storageCount)
        for i0 in 0..<3 { for i1 in 0..<4 { grid[layout.offset(i0, i1, 0)] = Double(10 * i0 + i1) } }
        var buffer = [Double](repeating: 0, count: 4)
        grid.withUnsafeMutableBufferPointer { grid in
            layout.pack(layout.face(axis: 0, upper: true, depth: 1), from: grid.baseAddress!, into: &buffer)
        }
        #expect(buffer == [20, 21, 22, 23])
        grid.withUnsafeMutableBufferPointer { grid in
            layout.unpack(layout.ghostFace(axis: 0, upper: false, depth: 1), from: buffer, into: grid.baseAddress!)
        }
        #expect((0..<4).map { grid[layout.offset(-1, $0, 0)] } == [20, 21, 22, 23])
        // A face across axis 1 is strided in memory but packs contiguously.
        var column = [Double](repeating: 0, count: 3)
        grid.withUnsafeMutableBufferPointer { grid in
            layout.pack(layout.face(axis: 1, upper: false, depth: 1), from: grid.baseAddress!, into: &column)
        }
        #expect(column == [0, 10, 20])
    }
}

@Suite struct JacobiTests {
    /// The stencil written out by hand for one cell: the mean of its 2*axes*radius neighbours.
    @Test func stencilIsTheMeanOfItsNeighbours() {
        let stencil = JacobiStencil(axes: 2, radius: 2)
        let layout = GridLayout(extents: [5, 5, 1], ghost: [2, 2, 0])
        var old = [Double](repeating: 0, count: layout.storageCount)
        for index in old.indices { old[index] = Double(index * index % 17) }
        var new = [Double](repeating: 0, count: layout.storageCount)
        old.withUnsafeBufferPointer { old in
            new.withUnsafeMutableBufferPointer { new in
                stencil.update(layout.interior, from: old.baseAddress!, into: new.baseAddress!, layout: layout)
            }
        }
        let (i, j) = (2, 1)
        let neighbours = [old[layout.offset(i - 1, j, 0)], old[layout.offset(i + 1, j, 0)],
                          old[layout.offset(i - 2, j, 0)], old[layout.offset(i + 2, j, 0)],
                          old[layout.offset(i, j - 1, 0)], old[layout.offset(i, j + 1, 0)],
                          old[layout.offset(i, j - 2, 0)], old[layout.offset(i, j + 2, 0)]]
        #expect(new[layout.offset(i, j, 0)] == neighbours.reduce(0, +) * (1.0 / 8))
    }

    @Test func serialJacobiRelaxesTowardsTheFixedEdges() {
        // Cells start at hashed values in [0, 1), the edges at 1.
        let problem = JacobiProblem(global: [6, 5, 4], stencil: JacobiStencil(axes: 3, radius: 1), periodic: false)
        let one = problem.solveSerially(iterations: 0)
        #expect(one.count == 120)
        #expect(one.allSatisfy { (0..<1).contains($0) })
        let many = problem.solveSerially(iterations: 200)
        // Fixed edges at 1 pull everything towards 1 as heat diffuses in.
        #expect(many.allSatisfy { $0 > 0.9 && $0 <= 1 })
    }

    @Test func periodicSerialJacobiConservesTheMean() {
        // On a torus every cell gives each neighbour the same share, so the sum is conserved
        // (up to rounding) and the field flattens towards its mean.
        let problem = JacobiProblem(global: [8, 6, 1], stencil: JacobiStencil(axes: 2, radius: 1), periodic: true)
        let start = problem.solveSerially(iterations: 0), later = problem.solveSerially(iterations: 50)
        let mean = start.reduce(0, +) / Double(start.count)
        #expect(abs(later.reduce(0, +) / Double(later.count) - mean) < 1e-12)
        let spread = { (values: [Double]) in values.max()! - values.min()! }
        #expect(spread(later) < spread(start) / 4)
    }

    /// The distributed kernel's claim in miniature: split a grid into blocks, exchange ghosts by
    /// copying between them, sweep each block, and the result equals the serial run bit for bit.
    @Test(arguments: [false, true])
    func blocksWithCopiedGhostsMatchTheSerialRunBitForBit(periodic: Bool) {
        let stencil = JacobiStencil(axes: 2, radius: 2)
        let local = [5, 4], blocks = [2, 3], iterations = 7
        let problem = JacobiProblem(global: [10, 12, 1], stencil: stencil, periodic: periodic)
        let layout = GridLayout(extents: local + [1], ghost: problem.ghost)
        var grids = [[Double]](), nexts = [[Double]]()
        for b0 in 0..<blocks[0] { for b1 in 0..<blocks[1] {
            var grid = [Double](repeating: JacobiProblem.edgeValue, count: layout.storageCount)
            for i0 in 0..<local[0] { for i1 in 0..<local[1] { grid[layout.offset(i0, i1, 0)] = problem.initialValue(b0 * local[0] + i0, b1 * local[1] + i1, 0) } }
            grids.append(grid); nexts.append(grid)
        } }
        func block(_ b0: Int, _ b1: Int) -> Int? {
            var (b0, b1) = (b0, b1)
            if periodic { b0 = (b0 + blocks[0]) % blocks[0]; b1 = (b1 + blocks[1]) % blocks[1] }
            guard (0..<blocks[0]).contains(b0), (0..<blocks[1]).contains(b1) else { return nil }
            return b0 * blocks[1] + b1
        }
        for _ in 0..<iterations {
            for b0 in 0..<blocks[0] { for b1 in 0..<blocks[1] {
                let me = block(b0, b1)!
                for axis in 0..<2 { for upper in [false, true] {
                    let step = upper ? 1 : -1
                    guard let other = axis == 0 ? block(b0 + step, b1) : block(b0, b1 + step) else { continue }
                    var buffer = [Double](repeating: 0, count: layout.face(axis: axis, upper: !upper, depth: 2).cellCount)
                    grids[other].withUnsafeBufferPointer { layout.pack(layout.face(axis: axis, upper: !upper, depth: 2), from: $0.baseAddress!, into: &buffer) }
                    grids[me].withUnsafeMutableBufferPointer { layout.unpack(layout.ghostFace(axis: axis, upper: upper, depth: 2), from: buffer, into: $0.baseAddress!) }
                } }
            } }
            for index in grids.indices {
                grids[index].withUnsafeBufferPointer { old in
                    nexts[index].withUnsafeMutableBufferPointer { new in
                        stencil.update(layout.interior, from: old.baseAddress!, into: new.baseAddress!, layout: layout)
                    }
                }
            }
            swap(&grids, &nexts)
        }
        let reference = problem.solveSerially(iterations: iterations)
        var differing = 0
        for b0 in 0..<blocks[0] { for b1 in 0..<blocks[1] {
            for i0 in 0..<local[0] { for i1 in 0..<local[1] {
                let value = grids[block(b0, b1)!][layout.offset(i0, i1, 0)]
                if value.bitPattern != reference[(b0 * local[0] + i0) * 12 + b1 * local[1] + i1].bitPattern { differing += 1 }
            } }
        } }
        #expect(differing == 0)
        // And the run did something: the field moved away from its start.
        #expect(reference != problem.solveSerially(iterations: 0))
    }
}

@Suite struct HaloParametersTests {
    @Test func extentsParse() throws {
        #expect(try HaloExchange.parseExtents("512x512") == [512, 512])
        #expect(try HaloExchange.parseExtents("128x64x32") == [128, 64, 32])
    }

    @Test(arguments: ["512", "512x", "x512", "0x4", "4x-1", "axb", "1x2x3x4", "", "99999x99999x99999"])
    func malformedExtentsNameTheValue(text: String) {
        do {
            _ = try HaloExchange.parseExtents(text)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect("\(error)".contains("'\(text)'"))
        }
    }

    @Test func blocksThinnerThanTheHaloAreRefused() {
        #expect(throws: InvalidParameters.self) {
            try HaloExchange(axes: 2, local: [8, 2], haloWidth: 3).validate()
        }
        #expect(throws: InvalidParameters.self) {
            try HaloExchange(axes: 3, local: [8, 8], haloWidth: 1).validate()
        }
        #expect(throws: InvalidParameters.self) {
            try HaloExchange(axes: 2, local: [8, 8], haloWidth: 5).validate()
        }
        #expect(throws: Never.self) { try HaloExchange(axes: 3, local: [4, 4, 4], haloWidth: 4).validate() }
    }
}
