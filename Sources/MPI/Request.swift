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
        try withHandles(&requests) { count, handles in
            try check(MPI_Waitall(count, handles, cmpi_statuses_ignore()), "MPI_Waitall")
        }
    }

    /// Tests every request once; true when all have completed.
    public static func testAll(_ requests: inout [Request]) throws -> Bool {
        guard !requests.isEmpty else { return true }
        var flag: Int32 = 0
        try withHandles(&requests) { count, handles in
            try check(MPI_Testall(count, handles, &flag, cmpi_statuses_ignore()), "MPI_Testall")
        }
        return flag != 0
    }

    /// The requests' own storage as MPI's handle array: a Request is exactly one handle, so the
    /// calls inside timed loops (waits between GEMM pieces, halo exchanges) copy nothing.
    private static func withHandles(_ requests: inout [Request],
                                    _ body: (Int32, UnsafeMutablePointer<MPI_Request?>) throws -> Void) throws {
        try requests.withUnsafeMutableBufferPointer { buffer in
            try UnsafeMutableRawPointer(buffer.baseAddress!).withMemoryRebound(to: MPI_Request?.self, capacity: buffer.count) {
                try body(Int32(buffer.count), $0)
            }
        }
    }
}
