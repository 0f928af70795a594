/// A box of cells: one half-open range per axis, always three axes (a 2-D grid is one cell deep
/// along the third). Coordinates are a block's own: 0 is its first interior cell, ghosts are < 0
/// or >= the extent.
public struct Box: Equatable, Sendable {
    public var ranges: [Range<Int>]

    public init(_ ranges: [Range<Int>]) {
        precondition(ranges.count == 3, "a box has three axes")
        self.ranges = ranges
    }

    public var cellCount: Int { ranges.reduce(1) { $0 * $1.count } }
    public var isEmpty: Bool { cellCount == 0 }
}

/// Memory of one block: `extents` interior cells per axis surrounded by `ghost` layers on each
/// side, row-major with the last axis contiguous.
public struct GridLayout: Equatable, Sendable {
    public let extents: [Int]
    public let ghost: [Int]
    /// Elements between neighbours along each axis.
    public let strides: [Int]
    public let storageCount: Int

    public init(extents: [Int], ghost: [Int]) {
        precondition(extents.count == 3 && ghost.count == 3, "three axes")
        self.extents = extents
        self.ghost = ghost
        let padded = zip(extents, ghost).map { $0 + 2 * $1 }
        strides = [padded[1] * padded[2], padded[2], 1]
        storageCount = padded.reduce(1, *)
    }

    @inline(__always)
    public func offset(_ i0: Int, _ i1: Int, _ i2: Int) -> Int {
        (i0 + ghost[0]) * strides[0] + (i1 + ghost[1]) * strides[1] + (i2 + ghost[2])
    }

    public var interior: Box { Box(extents.map { 0..<$0 }) }

    /// The interior less `depth` cells on each side of every axis that has ghosts: the cells whose
    /// stencil never reaches a ghost. Empty where the block is too thin.
    public func core(depth: Int) -> Box {
        Box((0..<3).map { axis in
            guard ghost[axis] > 0 else { return 0..<extents[axis] }
            let low = min(depth, extents[axis])
            return low..<max(low, extents[axis] - depth)
        })
    }

    /// The interior cells outside `core(depth:)`, as disjoint slabs.
    public func shell(depth: Int) -> [Box] {
        let inner = core(depth: depth)
        var outer = interior.ranges
        var slabs: [Box] = []
        for axis in 0..<3 where ghost[axis] > 0 {
            var low = outer, high = outer
            low[axis] = outer[axis].lowerBound..<inner.ranges[axis].lowerBound
            high[axis] = inner.ranges[axis].upperBound..<outer[axis].upperBound
            slabs += [Box(low), Box(high)].filter { !$0.isEmpty }
            outer[axis] = inner.ranges[axis]
        }
        return slabs
    }

    /// The `depth` interior layers next to one side of `axis`: what a neighbour on that side needs.
    public func face(axis: Int, upper: Bool, depth: Int) -> Box {
        var ranges = interior.ranges
        ranges[axis] = upper ? (extents[axis] - depth)..<extents[axis] : 0..<depth
        return Box(ranges)
    }

    /// The `depth` ghost layers beyond one side of `axis`: where that neighbour's face lands.
    public func ghostFace(axis: Int, upper: Bool, depth: Int) -> Box {
        var ranges = interior.ranges
        ranges[axis] = upper ? extents[axis]..<(extents[axis] + depth) : -depth..<0
        return Box(ranges)
    }

    /// Calls `body` with the start offset and length of each contiguous run of the box's cells, in
    /// row-major order. A 2-D grid is one cell deep along the last axis, so there its runs lie
    /// along axis 1: one run per row instead of one per cell.
    @inline(__always)
    public func forEachRun(in box: Box, _ body: (_ start: Int, _ count: Int) -> Void) {
        guard !box.isEmpty else { return }
        if extents[2] == 1 && ghost[2] == 0 {
            for i0 in box.ranges[0] { body(offset(i0, box.ranges[1].lowerBound, 0), box.ranges[1].count) }
        } else {
            for i0 in box.ranges[0] {
                for i1 in box.ranges[1] { body(offset(i0, i1, box.ranges[2].lowerBound), box.ranges[2].count) }
            }
        }
    }

    /// Copies a box out of the grid into a contiguous buffer, in row-major order.
    public func pack(_ box: Box, from grid: UnsafePointer<Double>, into buffer: UnsafeMutablePointer<Double>) {
        var next = 0
        forEachRun(in: box) { start, count in
            (buffer + next).update(from: grid + start, count: count)
            next += count
        }
    }

    /// The reverse of `pack`.
    public func unpack(_ box: Box, from buffer: UnsafePointer<Double>, into grid: UnsafeMutablePointer<Double>) {
        var next = 0
        forEachRun(in: box) { start, count in
            (grid + start).update(from: buffer + next, count: count)
            next += count
        }
    }
}
