import MPI
import Records

extension ComputeDevice {
    public static let cpu = ComputeDevice(name: "cpu")
}

/// The host's cores through OpenBLAS: fp32, gradients summed by MPI in host memory.
struct CPUPlatform: ComputePlatform {
    var device: ComputeDevice { .cpu }
    var summary: String { "OpenBLAS" }
    var precisions: [Precision] { [.fp32] }
    var reductions: [GradientReduction] { [.mpi] }
    var computesOnHost: Bool { true }

    /// OpenBLAS starts a thread per core; ranks that share the cores would fight over them. The
    /// node's ranks are all a rank knows before MPI; once it runs, `BLASThreads` (Runner) counts
    /// the ranks that share the cores across emulated nodes and pods.
    func prepareLaunch(ranksOnNode: Int, cores: Int) {
        Matrix.threads = max(1, cores / max(ranksOnNode, 1))
    }

    func makeBackend(_ request: BackendRequest) throws -> any ComputeBackend { CPUBackend() }
}

/// The training step on the host: GEMMs through OpenBLAS, elementwise loops in Swift, gradients
/// summed by MPI_Iallreduce in place. Everything runs at once, so nothing is ever pending.
public final class CPUBackend: ComputeBackend {
    public typealias Address = UnsafeMutablePointer<Float>
    public typealias Buffer = UnsafeMutableBufferPointer<Float>

    /// Squared-error sums by slot, as `lossGradient` left them.
    private var losses: [Double] = []

    public init() {}

    public var device: ComputeDevice { .cpu }
    public var precision: Precision { .fp32 }

    public func makeBuffer(count: Int) -> Buffer {
        let buffer = Buffer.allocate(capacity: count)
        buffer.initialize(repeating: 0)
        return buffer
    }

    public func release(_ buffer: Buffer) { buffer.deallocate() }
    public func address(of buffer: Buffer) -> Address { buffer.baseAddress! }

    public func upload(_ source: UnsafePointer<Float>, count: Int, to destination: Address) {
        destination.update(from: source, count: count)
    }

    public func download(_ source: Address, count: Int, into destination: UnsafeMutablePointer<Float>) {
        destination.update(from: source, count: count)
    }

    public func multiply(_ a: Address, _ b: Address, into c: Address, m: Int, n: Int, k: Int,
                         transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int) {
        Matrix.multiply(a, b, into: c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                        lda: lda, ldb: ldb, ldc: ldc)
    }

    public func rectify(_ values: Address, count: Int) {
        for index in 0..<count where values[index] < 0 { values[index] = 0 }
    }

    public func maskRectified(_ gradient: Address, by activation: Address, count: Int) {
        for index in 0..<count where activation[index] <= 0 { gradient[index] = 0 }
    }

    public func lossGradient(outputs: Address, targets: Address, into delta: Address, count: Int, scale: Float, slot: Int) {
        var sum = 0.0
        for index in 0..<count {
            let difference = outputs[index] - targets[index]
            sum += Double(difference * difference)
            delta[index] = difference * scale
        }
        if losses.count <= slot { losses += [Double](repeating: 0, count: slot + 1 - losses.count) }
        losses[slot] = sum
    }

    public func lossSums(_ count: Int) -> [Double] {
        (0..<count).map { $0 < losses.count ? losses[$0] : 0 }
    }

    public func addScaled(_ x: Address, times alpha: Float, to y: Address, count: Int) {
        Matrix.addScaled(x, times: alpha, to: y, count: count)
    }

    public func withHostCopy<R>(of source: Address, count: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: source, count: count))
    }

    public func isIdle() -> Bool { true }
    public func synchronize() {}

    public func makeReducer(_ reduction: GradientReduction, gradients: Buffer, buckets: [Range<Int>],
                            communicator: Communicator) throws -> any GradientReducer {
        guard reduction == .mpi else {
            throw InvalidParameters(description: "--reducer \(reduction.rawValue) needs --device cuda; the CPU reduces with mpi")
        }
        return HostReducer(gradients: gradients, buckets: buckets, communicator: communicator)
    }

    public func recordParameters(reduction: GradientReduction, reducer: any GradientReducer,
                                 communicator: Communicator) -> [String: JSONValue] {
        ["blas_threads": .number(Double(Matrix.threads))]
    }
}

/// MPI_Iallreduce in place on gradients in host memory, one request per bucket: what a
/// CPU-only PyTorch DDP (gloo) or Horovod over MPI does.
final class HostReducer: GradientReducer {
    let gradients: UnsafeMutableBufferPointer<Float>
    let buckets: [Range<Int>]
    let communicator: Communicator
    /// The requests in flight, with room for every bucket made up front: a step allocates nothing.
    private var pending: [Request] = []

    init(gradients: UnsafeMutableBufferPointer<Float>, buckets: [Range<Int>], communicator: Communicator) {
        self.gradients = gradients
        self.buckets = buckets
        self.communicator = communicator
        pending.reserveCapacity(buckets.count)
    }

    func start(bucket index: Int) throws {
        let elements = UnsafeMutableBufferPointer(rebasing: gradients[buckets[index]])
        pending.append(try communicator.iallreduce(inPlace: elements, operation: .sum))
    }

    /// Open MPI's ob1 advances a non-blocking collective only inside MPI calls: testing between
    /// GEMM pieces is what lets it overlap the backward pass.
    func progress() throws {
        guard !pending.isEmpty else { return }
        _ = try Request.testAll(&pending)
    }

    func finish() throws {
        try Request.waitAll(&pending)
        pending.removeAll(keepingCapacity: true)
    }
}
