import CMPI

/// Ranks arranged on a Cartesian grid (MPI_Cart_create), as stencil codes decompose their domain.
/// Neighbours come from MPI itself (MPI_Cart_shift), so periodic wrap-around and missing
/// neighbours at a non-periodic edge (`Communicator.nullRank`) are MPI's, not ours.
public struct CartesianTopology: @unchecked Sendable {
    /// The communicator whose ranks sit on the grid; ranks keep their order (no reordering).
    public let communicator: Communicator
    /// Ranks along each axis; their product is the communicator's size.
    public let dimensions: [Int]
    public let periodic: [Bool]

    /// MPI_Dims_create: splits `ranks` into `axes` factors as evenly as MPI can, largest first.
    /// Only callable between MPI_Init and MPI_Finalize.
    public static func balancedDimensions(ranks: Int, axes: Int) throws -> [Int] {
        var dims = [Int32](repeating: 0, count: axes)
        try check(MPI_Dims_create(Int32(ranks), Int32(axes), &dims), "MPI_Dims_create")
        return dims.map(Int.init)
    }

    /// Creates the grid over every rank of `parent`. `dimensions` must multiply to its size.
    public init(over parent: Communicator, dimensions: [Int], periodic: [Bool]) throws {
        precondition(dimensions.count == periodic.count, "one periodic flag per dimension")
        var dims = dimensions.map(Int32.init)
        var periods = periodic.map { Int32($0 ? 1 : 0) }
        var grid: MPI_Comm? = cmpi_comm_null()
        try check(MPI_Cart_create(parent.handle, Int32(dimensions.count), &dims, &periods, 0, &grid), "MPI_Cart_create")
        try check(MPI_Comm_set_errhandler(grid, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        communicator = Communicator(grid!)
        self.dimensions = dimensions
        self.periodic = periodic
    }

    /// This rank's position on the grid.
    public var coordinates: [Int] {
        get throws { try coordinates(of: communicator.rank) }
    }

    /// The grid position of any rank of the grid's communicator.
    public func coordinates(of rank: Int) throws -> [Int] {
        var coords = [Int32](repeating: 0, count: dimensions.count)
        try check(MPI_Cart_coords(communicator.handle, Int32(rank), Int32(dimensions.count), &coords), "MPI_Cart_coords")
        return coords.map(Int.init)
    }

    /// The ranks `displacement` steps down (`source`) and up (`destination`) along `axis`;
    /// `Communicator.nullRank` where a non-periodic edge has no neighbour.
    public func shift(axis: Int, by displacement: Int = 1) throws -> (source: Int, destination: Int) {
        var source: Int32 = 0, destination: Int32 = 0
        try check(MPI_Cart_shift(communicator.handle, Int32(axis), Int32(displacement), &source, &destination),
                  "MPI_Cart_shift")
        return (Int(source), Int(destination))
    }

    public func free() throws { try communicator.free() }
}
