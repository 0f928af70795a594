import CMPI

/// A non-blocking operation in flight. The buffers it names must outlive it: wait before freeing.
public struct Request: @unchecked Sendable {
    var handle: MPI_Request?

    init(_ handle: MPI_Request?) { self.handle = handle }

    /// A request that is already complete; waiting on it returns at once.
    public static var null: Request { Request(cmpi_request_null()) }

    public var isNull: Bool { handle == cmpi_request_null() }

    /// Blocks until the operation completes.
    public mutating func wait() throws {
        try check(MPI_Wait(&handle, cmpi_status_ignore()), "MPI_Wait")
    }

    /// Drives progress and reports whether the operation has completed; Open MPI's ob1 progresses
    /// non-blocking collectives only inside MPI calls, so long computations should test now and then.
    public mutating func test() throws -> Bool {
        var flag: Int32 = 0
        try check(MPI_Test(&handle, &flag, cmpi_status_ignore()), "MPI_Test")
        return flag != 0
    }

    /// Blocks until every request completes.
    public static func waitAll(_ requests: inout [Request]) throws {
        guard !requests.isEmpty else { return }
        var handles = requests.map(\.handle)
        try check(MPI_Waitall(Int32(handles.count), &handles, cmpi_statuses_ignore()), "MPI_Waitall")
        for index in requests.indices { requests[index].handle = handles[index] }
    }

    /// Tests every request once; true when all have completed.
    public static func testAll(_ requests: inout [Request]) throws -> Bool {
        guard !requests.isEmpty else { return true }
        var handles = requests.map(\.handle)
        var flag: Int32 = 0
        try check(MPI_Testall(Int32(handles.count), &handles, &flag, cmpi_statuses_ignore()), "MPI_Testall")
        for index in requests.indices { requests[index].handle = handles[index] }
        return flag != 0
    }
}
