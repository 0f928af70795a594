import CMPI

/// A group of ranks that talk to each other. Element types pick the MPI datatype; counts come from
/// the buffers, so no call site passes a raw handle or a byte count.
public struct Communicator: @unchecked Sendable {
    @usableFromInline let handle: MPI_Comm

    init(_ handle: MPI_Comm) { self.handle = handle }

    public static var world: Communicator { Communicator(cmpi_comm_world()) }
    public static var this: Communicator { Communicator(cmpi_comm_self()) }

    /// Rank number that stands for "nobody": sends and receives with it complete at once.
    public static var nullRank: Int { Int(cmpi_proc_null()) }

    public var rank: Int {
        var value: Int32 = 0
        MPI_Comm_rank(handle, &value)
        return Int(value)
    }

    public var size: Int {
        var value: Int32 = 0
        MPI_Comm_size(handle, &value)
        return Int(value)
    }

    @inlinable
    public func barrier() throws {
        try check(MPI_Barrier(handle), "MPI_Barrier")
    }

    /// The ranks that share memory with this one (one node), as their own communicator.
    public func splitByNode() throws -> Communicator {
        var node: MPI_Comm? = nil
        try check(MPI_Comm_split_type(handle, Int32(MPI_COMM_TYPE_SHARED), Int32(rank), cmpi_info_null(), &node),
                  "MPI_Comm_split_type")
        try check(MPI_Comm_set_errhandler(node, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        return Communicator(node!)
    }

    public func free() throws {
        var comm: MPI_Comm? = handle
        try check(MPI_Comm_free(&comm), "MPI_Comm_free")
    }

    // MARK: Point to point

    public func send<T: MPIElement>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int = 0) throws {
        try check(MPI_Send(buffer.baseAddress, Int32(buffer.count), T.mpiDatatype.handle,
                           Int32(destination), Int32(tag), handle), "MPI_Send")
    }

    public func send<T: MPIElement>(_ values: [T], to destination: Int, tag: Int = 0) throws {
        try values.withUnsafeBufferPointer { try send($0, to: destination, tag: tag) }
    }

    public func receive<T: MPIElement>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int = 0) throws {
        try check(MPI_Recv(buffer.baseAddress, Int32(buffer.count), T.mpiDatatype.handle,
                           Int32(source), Int32(tag), handle, cmpi_status_ignore()), "MPI_Recv")
    }

    /// Receives exactly `count` elements.
    public func receive<T: MPIElement & Numeric>(_ count: Int, of type: T.Type = T.self, from source: Int, tag: Int = 0) throws -> [T] {
        var values = [T](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { try receive(into: $0, from: source, tag: tag) }
        return values
    }

    public func isend<T: MPIElement>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int = 0) throws -> Request {
        var request: MPI_Request? = cmpi_request_null()
        try check(MPI_Isend(buffer.baseAddress, Int32(buffer.count), T.mpiDatatype.handle,
                            Int32(destination), Int32(tag), handle, &request), "MPI_Isend")
        return Request(request)
    }

    public func ireceive<T: MPIElement>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int = 0) throws -> Request {
        var request: MPI_Request? = cmpi_request_null()
        try check(MPI_Irecv(buffer.baseAddress, Int32(buffer.count), T.mpiDatatype.handle,
                            Int32(source), Int32(tag), handle, &request), "MPI_Irecv")
        return Request(request)
    }

    /// Sends and receives in one call, safe against the deadlock of two blocking sends.
    public func sendReceive<T: MPIElement>(_ outgoing: UnsafeBufferPointer<T>, to destination: Int,
                                           into incoming: UnsafeMutableBufferPointer<T>, from source: Int,
                                           tag: Int = 0) throws {
        try check(MPI_Sendrecv(outgoing.baseAddress, Int32(outgoing.count), T.mpiDatatype.handle, Int32(destination), Int32(tag),
                               incoming.baseAddress, Int32(incoming.count), T.mpiDatatype.handle, Int32(source), Int32(tag),
                               handle, cmpi_status_ignore()), "MPI_Sendrecv")
    }

    // MARK: Collectives

    @inlinable
    public func allreduce<T: MPIElement>(_ source: UnsafeBufferPointer<T>, into destination: UnsafeMutableBufferPointer<T>,
                                         operation: ReductionOperation) throws {
        precondition(source.count == destination.count, "allreduce buffers differ in length")
        try check(MPI_Allreduce(source.baseAddress, destination.baseAddress, Int32(source.count),
                                T.mpiDatatype.handle, operation.handle, handle), "MPI_Allreduce")
    }

    @inlinable
    public func allreduce<T: MPIElement>(inPlace buffer: UnsafeMutableBufferPointer<T>, operation: ReductionOperation) throws {
        try check(MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, Int32(buffer.count),
                                T.mpiDatatype.handle, operation.handle, handle), "MPI_Allreduce")
    }

    public func allreduce<T: MPIElement>(_ values: [T], operation: ReductionOperation) throws -> [T] {
        var result = values
        try result.withUnsafeMutableBufferPointer { try allreduce(inPlace: $0, operation: operation) }
        return result
    }

    public func allreduce<T: MPIElement>(_ value: T, operation: ReductionOperation) throws -> T {
        try allreduce([value], operation: operation)[0]
    }

    /// Non-blocking allreduce in place (MPI_Iallreduce): the buffer must stay alive until the wait.
    public func iallreduce<T: MPIElement>(inPlace buffer: UnsafeMutableBufferPointer<T>,
                                          operation: ReductionOperation) throws -> Request {
        var request: MPI_Request? = cmpi_request_null()
        try check(MPI_Iallreduce(cmpi_in_place(), buffer.baseAddress, Int32(buffer.count),
                                 T.mpiDatatype.handle, operation.handle, handle, &request), "MPI_Iallreduce")
        return Request(request)
    }

    public func broadcast<T: MPIElement>(_ buffer: UnsafeMutableBufferPointer<T>, from root: Int = 0) throws {
        try check(MPI_Bcast(buffer.baseAddress, Int32(buffer.count), T.mpiDatatype.handle, Int32(root), handle), "MPI_Bcast")
    }

    public func broadcast<T: MPIElement>(_ values: [T], from root: Int = 0) throws -> [T] {
        var result = values
        try result.withUnsafeMutableBufferPointer { try broadcast($0, from: root) }
        return result
    }

    /// Sends `root`'s text to every rank (run ids, names); what other ranks pass is ignored.
    public func broadcast(_ text: String, from root: Int = 0) throws -> String {
        let length = try broadcast([Int64(text.utf8.count)], from: root)[0]
        let bytes = try broadcast(rank == root ? Array(text.utf8) : [UInt8](repeating: 0, count: Int(length)), from: root)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Gathers equal-sized pieces from every rank to `root`, in rank order; other ranks get [].
    public func gather<T: MPIElement & Numeric>(_ values: [T], to root: Int = 0) throws -> [T] {
        var result = [T](repeating: 0, count: rank == root ? values.count * size : 0)
        try values.withUnsafeBufferPointer { piece in
            try result.withUnsafeMutableBufferPointer { whole in
                try check(MPI_Gather(piece.baseAddress, Int32(piece.count), T.mpiDatatype.handle,
                                     whole.baseAddress, Int32(piece.count), T.mpiDatatype.handle,
                                     Int32(root), handle), "MPI_Gather")
            }
        }
        return result
    }

    /// Gathers pieces of differing sizes to `root`; returns one array per rank there, [] elsewhere.
    public func gatherVariable<T: MPIElement & Numeric>(_ values: [T], to root: Int = 0) throws -> [[T]] {
        let counts = try gather([Int32(values.count)], to: root)
        var offsets = [Int32](repeating: 0, count: counts.count)
        for index in counts.indices.dropFirst() { offsets[index] = offsets[index - 1] + counts[index - 1] }
        var whole = [T](repeating: 0, count: Int(counts.reduce(0, +)))
        try values.withUnsafeBufferPointer { piece in
            try whole.withUnsafeMutableBufferPointer { all in
                try check(MPI_Gatherv(piece.baseAddress, Int32(piece.count), T.mpiDatatype.handle,
                                      all.baseAddress, counts, offsets, T.mpiDatatype.handle,
                                      Int32(root), handle), "MPI_Gatherv")
            }
        }
        guard rank == root else { return [] }
        return counts.indices.map { Array(whole[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
    }

    public func allgather<T: MPIElement & Numeric>(_ values: [T]) throws -> [T] {
        var result = [T](repeating: 0, count: values.count * size)
        try values.withUnsafeBufferPointer { piece in
            try result.withUnsafeMutableBufferPointer { whole in
                try check(MPI_Allgather(piece.baseAddress, Int32(piece.count), T.mpiDatatype.handle,
                                        whole.baseAddress, Int32(piece.count), T.mpiDatatype.handle, handle),
                          "MPI_Allgather")
            }
        }
        return result
    }

    /// Gathers a string from every rank to all ranks (hostnames, bindings).
    public func allgather(_ text: String) throws -> [String] {
        let bytes = Array(text.utf8)
        let lengths = try allgather([Int32(bytes.count)])
        let longest = Int(lengths.max() ?? 0)
        var padded = bytes + [UInt8](repeating: 0, count: longest - bytes.count)
        if padded.isEmpty { padded = [0] }
        let all = try allgather(padded)
        let stride = max(longest, 1)
        return lengths.indices.map { rankIndex in
            let start = rankIndex * stride
            return String(decoding: all[start..<start + Int(lengths[rankIndex])], as: UTF8.self)
        }
    }
}
