import MPI
import Records

/// Where the training step's numbers live and where its arithmetic runs: the buffers, the GEMMs,
/// the elementwise work (ReLU and its gradient, the loss gradient, the SGD update) and the gradient
/// reducer. The MLP's algorithm (`MultilayerPerceptron`) is written once over these operations; a backend only
/// says how each one is done on its device.
///
/// Work may be asynchronous (a GPU queues it): an operation that fails leaves the error pending,
/// as CUDA's own calls do, and `synchronize()` reports it. Reading back (`lossSums`, `download`,
/// `withHostCopy`) waits for the work queued before it.
public protocol ComputeBackend: AnyObject {
    /// Where one float32 element lives: a host pointer, or a device address.
    associatedtype Address: DeviceAddress
    /// An allocation the backend owns until `release`.
    associatedtype Buffer

    var device: ComputeDevice { get }
    var precision: Precision { get }

    /// `count` float32 elements, zeroed.
    func makeBuffer(count: Int) throws -> Buffer
    func release(_ buffer: Buffer)
    func address(of buffer: Buffer) -> Address

    /// Copies `count` elements from host memory to `destination`; the source may be reused at once.
    func upload(_ source: UnsafePointer<Float>, count: Int, to destination: Address) throws
    /// Copies `count` elements to host memory, once the work queued before has written them.
    func download(_ source: Address, count: Int, into destination: UnsafeMutablePointer<Float>) throws

    /// C (m x n) = op(A) op(B), row-major, as `Matrix.multiply` with explicit leading dimensions.
    func multiply(_ a: Address, _ b: Address, into c: Address, m: Int, n: Int, k: Int,
                  transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int)
    /// ReLU in place: negative values become 0.
    func rectify(_ values: Address, count: Int)
    /// The gradient through a ReLU: 0 wherever the activation was clipped (<= 0).
    func maskRectified(_ gradient: Address, by activation: Address, count: Int)
    /// delta = scale (output - target), and the summed squared error of this call kept in `slot`
    /// (replacing what the slot held) until `lossSums` reads it.
    func lossGradient(outputs: Address, targets: Address, into delta: Address, count: Int, scale: Float, slot: Int)
    /// The sums kept in slots 0..<count, once the work queued before has written them.
    func lossSums(_ count: Int) throws -> [Double]
    /// y += alpha x (the SGD update with alpha = -rate).
    func addScaled(_ x: Address, times alpha: Float, to y: Address, count: Int)

    /// Hands `body` the `count` elements at `source` in host memory (the buffer itself where it is
    /// host memory, else a copy made after the work queued before).
    func withHostCopy<R>(of source: Address, count: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R

    /// True once everything queued so far has run (always, where nothing is queued).
    func isIdle() throws -> Bool
    /// Waits for everything queued, and reports the first error any of it met.
    func synchronize() throws

    /// The reducer that sums `buckets` (element ranges of `gradients`) over every rank.
    func makeReducer(_ reduction: GradientReduction, gradients: Buffer, buckets: [Range<Int>],
                     communicator: Communicator) throws -> any GradientReducer

    /// What a training step's record says of where it ran, beyond `device` (the BLAS threads; the
    /// GPU, its precision and reducer, whether ranks shared it); collective over `communicator`.
    func recordParameters(reduction: GradientReduction, reducer: any GradientReducer,
                          communicator: Communicator) throws -> [String: JSONValue]

    /// Adds what only this backend knows to the environment of every record (the GPU each rank
    /// uses, the node's GPUs), once MPI runs; collective over `world`. `survey` lists the node's
    /// GPUs (NVML's account, placed by hwloc) from hwloc's PCI listing. Nothing, by default.
    func describe(_ environment: inout Environment, world: Communicator,
                  survey: ([GPUDevice]) -> [GPUDevice]) throws

    /// True where the device's library offers a plain fp32 GEMM beside the path `multiply` takes
    /// (cuBLAS's cublasSgemm beside cublasGemmEx): `run gemm` times both. False by default.
    var hasReferenceMultiply: Bool { get }
    /// That plain GEMM, with `multiply`'s arguments; `multiply` itself by default.
    func referenceMultiply(_ a: Address, _ b: Address, into c: Address, m: Int, n: Int, k: Int,
                           transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int) throws
}

extension ComputeBackend {
    public func describe(_ environment: inout Environment, world: Communicator,
                         survey: ([GPUDevice]) -> [GPUDevice]) throws {}

    public var hasReferenceMultiply: Bool { false }

    public func referenceMultiply(_ a: Address, _ b: Address, into c: Address, m: Int, n: Int, k: Int,
                                  transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int) throws {
        multiply(a, b, into: c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, lda: lda, ldb: ldb, ldc: ldc)
    }
}

/// A float32 element's place, which can be offset by a number of elements.
public protocol DeviceAddress {
    static func + (base: Self, elements: Int) -> Self
}

extension UnsafeMutablePointer: DeviceAddress where Pointee == Float {}

/// How the GEMMs multiply: storage and accumulation stay float32; tf32 and bf16 let tensor cores
/// round the inputs (cuBLAS's CUBLAS_COMPUTE_32F_FAST_TF32 / _FAST_16BF), as PyTorch's
/// `allow_tf32` and bf16 autocast do for matmuls.
public enum Precision: String, CaseIterable, Sendable {
    case fp32, tf32, bf16
}

/// How gradients are summed over the ranks.
public enum GradientReduction: String, CaseIterable, Sendable {
    /// MPI_Iallreduce on the gradients in host memory (the CPU backend's).
    case mpi
    /// GPU gradients copied to pinned host buffers bucket by bucket, reduced with MPI_Iallreduce,
    /// copied back: the pipeline Horovod runs without a CUDA-aware MPI.
    case mpiStaged = "mpi-staged"
    /// Device pointers handed to a CUDA-aware MPI.
    case mpiCUDA = "mpi-cuda"
    /// NCCL's ncclAllReduce on a CUDA stream, as PyTorch DDP and Horovod do on GPUs.
    case nccl
}

/// Sums the gradients over every rank, bucket by bucket, in place.
public protocol GradientReducer: AnyObject {
    /// Starts summing bucket `index` once the work issued so far has written its gradients.
    func start(bucket index: Int) throws
    /// Advances what is in flight without blocking (MPI progress, finished copies).
    func progress() throws
    /// Blocks until every bucket started has been summed into the gradients.
    func finish() throws
}

extension ComputeBackend {
    /// `multiply` with the leading dimensions of whole row-major matrices unless given, as
    /// `Matrix.multiply` defaults them.
    public func multiply(_ a: Address, _ b: Address, into c: Address, m: Int, n: Int, k: Int,
                  transposeA: Bool = false, transposeB: Bool = false,
                  lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
        multiply(a, b, into: c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                 lda: lda ?? (transposeA ? m : k), ldb: ldb ?? (transposeB ? k : n), ldc: ldc ?? n)
    }
}
