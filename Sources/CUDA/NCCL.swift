import CCUDA

/// NCCL (libnccl.so.2), typed from nccl.h. Every function returns an `ncclResult_t` (a C enum:
/// int32), 0 being ncclSuccess; ncclComm_t is an opaque pointer; streams are the driver's CUstream
/// (the runtime's cudaStream_t is the same handle).
public final class NCCL: @unchecked Sendable {
    public let library: DynamicLibrary

    let ncclGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let ncclGetUniqueId: @convention(c) (UnsafeMutablePointer<podgap_nccl_unique_id>) -> Int32
    /// Passed to the C trampoline in CCUDA's shim.h, which passes the unique id by value.
    let ncclCommInitRank: UnsafeMutableRawPointer
    /// `ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count, ncclDataType_t datatype,
    /// ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream)`.
    let ncclAllReduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Int32,
                                       OpaquePointer?, OpaquePointer?) -> Int32
    let ncclCommDestroy: @convention(c) (OpaquePointer?) -> Int32
    let ncclCommGetAsyncError: (@convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>) -> Int32)?
    let ncclGetErrorString: @convention(c) (Int32) -> UnsafePointer<CChar>?

    /// ncclDataType_t ncclFloat32 = 7; ncclRedOp_t ncclSum = 0 (nccl.h).
    static let float32: Int32 = 7
    static let sum: Int32 = 0
    /// The unique id's size: NCCL_UNIQUE_ID_BYTES.
    public static let uniqueIDBytes = MemoryLayout<podgap_nccl_unique_id>.size

    public static let candidates = [DynamicLibrary.Candidate("libnccl.so.2"), DynamicLibrary.Candidate("libnccl.so")]

    public init(library: DynamicLibrary? = nil) throws {
        let library = try library ?? NCCL.load()
        self.library = library
        ncclGetVersion = try library.function("ncclGetVersion")
        ncclGetUniqueId = try library.function("ncclGetUniqueId")
        ncclCommInitRank = try library.function("ncclCommInitRank", as: UnsafeMutableRawPointer.self)
        ncclAllReduce = try library.function("ncclAllReduce")
        ncclCommDestroy = try library.function("ncclCommDestroy")
        ncclCommGetAsyncError = library.optionalFunction("ncclCommGetAsyncError")
        ncclGetErrorString = try library.function("ncclGetErrorString")
    }

    public static func load() throws -> DynamicLibrary {
        do { return try DynamicLibrary.open(candidates, what: "NCCL (libnccl.so.2)") }
        catch let error as LibraryError {
            throw CUDAError.missingLibrary("\(error.description): install NCCL (libnccl2), or use --reducer mpi-staged")
        }
    }

    /// "2.28.3": ncclGetVersion's code is 10000 major + 100 minor + patch from 2.9 on
    /// (NCCL_VERSION(X,Y,Z) in nccl.h), 1000 major + 100 minor + patch before.
    public func version() -> String {
        var code: Int32 = 0
        guard ncclGetVersion(&code) == 0 else { return "unknown" }
        return NCCL.versionText(Int(code))
    }

    public static func versionText(_ code: Int) -> String {
        code >= 10000 ? "\(code / 10000).\((code % 10000) / 100).\(code % 100)"
                      : "\(code / 1000).\((code % 1000) / 100).\(code % 100)"
    }

    /// A fresh unique id (on one rank; the others receive its bytes).
    public func uniqueID() throws -> [UInt8] {
        var id = podgap_nccl_unique_id()
        try check(ncclGetUniqueId(&id), "ncclGetUniqueId")
        return withUnsafeBytes(of: &id) { Array($0) }
    }

    /// Joins the communicator of `ranks` ranks that share `uniqueID`, as rank `rank`.
    /// Collective: every rank calls it with the same id, each on its own device.
    public func communicator(uniqueID: [UInt8], ranks: Int, rank: Int) throws -> Communicator {
        precondition(uniqueID.count == NCCL.uniqueIDBytes, "an NCCL unique id is \(NCCL.uniqueIDBytes) bytes")
        var id = podgap_nccl_unique_id()
        withUnsafeMutableBytes(of: &id) { $0.copyBytes(from: uniqueID) }
        var comm: UnsafeMutableRawPointer? = nil
        try check(podgap_nccl_comm_init_rank(ncclCommInitRank, &comm, Int32(ranks), &id, Int32(rank)), "ncclCommInitRank")
        return Communicator(nccl: self, handle: OpaquePointer(comm))
    }

    func check(_ status: Int32, _ call: String) throws {
        guard status != 0 else { return }
        throw CUDAError.call(call, ncclGetErrorString(status).map { String(cString: $0) } ?? "ncclResult_t \(status)")
    }

    /// One NCCL communicator: ranks, each with its device.
    public final class Communicator: @unchecked Sendable {
        let nccl: NCCL
        let handle: OpaquePointer?

        init(nccl: NCCL, handle: OpaquePointer?) { self.nccl = nccl; self.handle = handle }

        deinit { _ = nccl.ncclCommDestroy(handle) }

        /// Queues the sum over every rank of `count` floats at `pointer`, in place, on `stream`.
        public func allreduceSum(_ pointer: DevicePointer, count: Int, on stream: Stream) throws {
            let address = UnsafeMutableRawPointer(bitPattern: UInt(pointer))
            try nccl.check(nccl.ncclAllReduce(address, address, count, NCCL.float32, NCCL.sum, handle, stream.handle),
                           "ncclAllReduce(\(count) floats)")
        }

        /// An error a peer or the network raised in the background, where NCCL reports one.
        public func asynchronousError() throws {
            guard let get = nccl.ncclCommGetAsyncError else { return }
            var result: Int32 = 0
            try nccl.check(get(handle, &result), "ncclCommGetAsyncError")
            try nccl.check(result, "NCCL (asynchronous)")
        }
    }
}
