/// cuBLAS (libcublas.so.13 or .12), typed from cublas_api.h. Exported names are the `_v2` ones
/// cublas_v2.h maps the plain names to (`#define cublasCreate cublasCreate_v2`, likewise
/// cublasDestroy, cublasSetStream, cublasSgemm, cublasGetVersion); cublasGemmEx has no suffix.
/// Every function returns a `cublasStatus_t` (a C enum: int32), 0 being CUBLAS_STATUS_SUCCESS.
public final class BLAS: @unchecked Sendable {
    public let library: DynamicLibrary
    let handle: OpaquePointer?

    let cublasDestroy: @convention(c) (OpaquePointer?) -> Int32
    let cublasSetStream: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32
    /// `cublasGemmEx(handle, transa, transb, m, n, k, const void *alpha, const void *A,
    /// cudaDataType Atype, lda, const void *B, cudaDataType Btype, ldb, const void *beta, void *C,
    /// cudaDataType Ctype, ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo)`.
    let cublasGemmEx: @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32,
                                      UnsafeRawPointer, UnsafeRawPointer?, Int32, Int32,
                                      UnsafeRawPointer?, Int32, Int32,
                                      UnsafeRawPointer, UnsafeMutableRawPointer?, Int32, Int32,
                                      Int32, Int32) -> Int32
    /// `cublasSgemm_v2(handle, transa, transb, m, n, k, const float *alpha, const float *A, lda,
    /// const float *B, ldb, const float *beta, float *C, ldc)`: the reference the step's GEMMs
    /// are measured against.
    let cublasSgemm: @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32,
                                     UnsafePointer<Float>, UnsafeRawPointer?, Int32, UnsafeRawPointer?, Int32,
                                     UnsafePointer<Float>, UnsafeMutableRawPointer?, Int32) -> Int32
    let cublasGetStatusString: (@convention(c) (Int32) -> UnsafePointer<CChar>?)?
    public let version: Int

    /// cublasOperation_t: CUBLAS_OP_N = 0, CUBLAS_OP_T = 1.
    static let noTranspose: Int32 = 0, transpose: Int32 = 1
    /// cudaDataType_t (library_types.h): CUDA_R_32F = 0.
    static let real32F: Int32 = 0
    /// cublasGemmAlgo_t: CUBLAS_GEMM_DEFAULT = -1 (cuBLAS picks; on tensor-core parts it uses them
    /// whenever the compute type allows).
    static let defaultAlgorithm: Int32 = -1

    /// cuBLAS 13 (CUDA 13) first, then 12; each with the cuBLASLt of its release, which it links.
    public static let candidates = [
        DynamicLibrary.Candidate("libcublas.so.13", companions: ["libcublasLt.so.13"]),
        DynamicLibrary.Candidate("libcublas.so.12", companions: ["libcublasLt.so.12"]),
        DynamicLibrary.Candidate("libcublas.so", companions: ["libcublasLt.so"]),
    ]

    /// Loads cuBLAS and makes a handle that queues its work on `stream`. Needs the device's
    /// context current on this thread.
    public init(stream: Stream, library: DynamicLibrary? = nil) throws {
        let library = try library ?? BLAS.load()
        self.library = library
        let create: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32 = try library.function("cublasCreate_v2")
        cublasDestroy = try library.function("cublasDestroy_v2")
        cublasSetStream = try library.function("cublasSetStream_v2")
        cublasGemmEx = try library.function("cublasGemmEx")
        cublasSgemm = try library.function("cublasSgemm_v2")
        cublasGetStatusString = library.optionalFunction("cublasGetStatusString")
        let getVersion: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>) -> Int32 = try library.function("cublasGetVersion_v2")
        var created: OpaquePointer? = nil
        let status = create(&created)
        guard status == 0 else { throw CUDAError.call("cublasCreate", BLAS.name(status, cublasGetStatusString)) }
        handle = created
        var number: Int32 = 0
        _ = getVersion(created, &number)
        version = Int(number)
        try check(cublasSetStream(handle, stream.handle), "cublasSetStream")
    }

    deinit { _ = cublasDestroy(handle) }

    public static func load() throws -> DynamicLibrary {
        do { return try DynamicLibrary.open(candidates, what: "cuBLAS (libcublas.so.13 or .so.12)") }
        catch let error as LibraryError {
            throw CUDAError.missingLibrary("\(error.description): install the CUDA toolkit's cuBLAS, or put its folder in PODGAP_CUDA_LIBRARY_PATH")
        }
    }

    /// cuBLAS's version as "13.0.2" (cublasGetVersion encodes 10000 major + 100 minor + patch).
    public var versionText: String { "\(version / 10000).\((version % 10000) / 100).\(version % 100)" }

    /// The compute type for a precision (cublasComputeType_t in cublas_api.h, values as NVIDIA's
    /// nvmath-python documents them): CUBLAS_COMPUTE_32F = 68 (plain fp32),
    /// CUBLAS_COMPUTE_32F_FAST_TF32 = 77 and CUBLAS_COMPUTE_32F_FAST_16BF = 75 (fp32 storage and
    /// accumulation, inputs rounded to tf32 or bf16 for the tensor cores).
    public enum Compute: Int32, Sendable {
        case fp32 = 68
        case tf32 = 77
        case bf16 = 75
    }

    /// C (m x n) = op(A) op(B), every matrix float32 and row-major, as Matrix.multiply takes them.
    /// cuBLAS is column-major, and a row-major matrix is its transpose read column-major, so the
    /// call computes C^T = op(B)^T op(A)^T: the operands swap, m and n swap, the flags stay.
    public func multiply(_ a: DevicePointer, _ b: DevicePointer, into c: DevicePointer, m: Int, n: Int, k: Int,
                         transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int, compute: Compute) throws {
        var one: Float = 1, zero: Float = 0
        let status = cublasGemmEx(handle, transposeB ? BLAS.transpose : BLAS.noTranspose,
                                  transposeA ? BLAS.transpose : BLAS.noTranspose,
                                  Int32(n), Int32(m), Int32(k), &one,
                                  UnsafeRawPointer(bitPattern: UInt(b)), BLAS.real32F, Int32(ldb),
                                  UnsafeRawPointer(bitPattern: UInt(a)), BLAS.real32F, Int32(lda),
                                  &zero, UnsafeMutableRawPointer(bitPattern: UInt(c)), BLAS.real32F, Int32(ldc),
                                  compute.rawValue, BLAS.defaultAlgorithm)
        try check(status, "cublasGemmEx(\(m)x\(n)x\(k))")
    }

    /// The same product through cublasSgemm, plain fp32: the reference GEMM.
    public func sgemm(_ a: DevicePointer, _ b: DevicePointer, into c: DevicePointer, m: Int, n: Int, k: Int,
                      transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int) throws {
        var one: Float = 1, zero: Float = 0
        let status = cublasSgemm(handle, transposeB ? BLAS.transpose : BLAS.noTranspose,
                                 transposeA ? BLAS.transpose : BLAS.noTranspose,
                                 Int32(n), Int32(m), Int32(k), &one,
                                 UnsafeRawPointer(bitPattern: UInt(b)), Int32(ldb),
                                 UnsafeRawPointer(bitPattern: UInt(a)), Int32(lda),
                                 &zero, UnsafeMutableRawPointer(bitPattern: UInt(c)), Int32(ldc))
        try check(status, "cublasSgemm(\(m)x\(n)x\(k))")
    }

    func check(_ status: Int32, _ call: String) throws {
        guard status != 0 else { return }
        throw CUDAError.call(call, BLAS.name(status, cublasGetStatusString))
    }

    static func name(_ status: Int32, _ describe: (@convention(c) (Int32) -> UnsafePointer<CChar>?)?) -> String {
        describe?(status).map { String(cString: $0) } ?? "cublasStatus_t \(status)"
    }
}
