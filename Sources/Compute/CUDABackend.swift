import CUDA
import MPI
import Records

/// A float32 element in device memory: a device address that offsets by elements.
public struct DeviceElement: DeviceAddress, Sendable, Equatable {
    public var address: DevicePointer
    public init(_ address: DevicePointer) { self.address = address }
    public static func + (base: DeviceElement, elements: Int) -> DeviceElement {
        DeviceElement(base.address &+ DevicePointer(elements * MemoryLayout<Float>.size))
    }
}

/// An allocation of float32 elements in device memory.
public struct DeviceBuffer: Sendable {
    public var start: DeviceElement
    public var count: Int
}

/// Which GPU a rank uses: its index among the ranks on its node, modulo the devices it sees.
/// Ranks that outnumber the devices share them (allowed, and recorded).
public struct DeviceChoice: Sendable, Equatable {
    public var ordinal: Int
    /// True when ranks certainly share this device; false when they do not or cannot tell yet:
    /// where CUDA_VISIBLE_DEVICES is set, a launcher may show each rank a device of its own
    /// (Slurm's --gpus-per-task), and only the ranks' device UUIDs, compared once MPI runs, tell.
    public var shared: Bool

    public init(localRank: Int, localSize: Int, devices: Int, visibleDevicesSet: Bool = false) {
        precondition(devices > 0, "a device choice needs at least one device")
        ordinal = visibleDevicesSet && devices == 1 ? 0 : localRank % devices
        shared = !visibleDevicesSet && localSize > devices
    }
}

/// The training step on one NVIDIA GPU: buffers in device memory, GEMMs through cuBLAS (fp32, or
/// tensor cores rounding to tf32 or bf16), elementwise kernels compiled by NVRTC, and all of it
/// queued on one stream. A failed call is kept and reported at the next synchronisation, as CUDA
/// reports a kernel's fault, so the MLP's code reads the same on every backend.
public final class CUDABackend: ComputeBackend {
    public typealias Address = DeviceElement
    public typealias Buffer = DeviceBuffer

    public let context: DeviceContext
    public let precision: Precision
    /// What the records call this rank's device: its UUID, else its ordinal.
    public var deviceName: String { context.properties.uuid ?? String(context.properties.ordinal) }
    /// The compute stream: every GEMM and kernel of the step, in order.
    public let stream: Stream
    let blas: BLAS
    let compiler: RuntimeCompiler
    private let functions: [String: Function]
    /// Per-step squared-error sums (double), on the device until `lossSums` reads them.
    private var lossSlots: DevicePointer = 0
    private var lossCapacity = 0
    private var pendingError: Error?
    /// What `CUDASetup.prepare` found (the node's devices, the driver, NCCL); nil for a backend
    /// made straight from a context.
    public internal(set) var setup: CUDASetup?

    public var device: ComputeDevice { .cuda }

    /// Makes the device's context current on this thread, loads cuBLAS and NVRTC, and compiles the
    /// elementwise kernels for this device. Throws `CUDAError` (missing library, or compilation).
    public init(context: DeviceContext, precision: Precision) throws {
        self.context = context
        self.precision = precision
        stream = try context.makeStream()
        blas = try BLAS(stream: stream)
        compiler = try RuntimeCompiler()
        let image = try compiler.compile(ElementwiseKernels.source, name: "podgap_elementwise.cu",
                                         architecture: context.properties.architecture)
        let module = try context.loadModule(image)
        var functions: [String: Function] = [:]
        for name in ElementwiseKernels.kernelNames { functions[name] = try module.function(name) }
        self.functions = functions
        try growLossSlots(to: 64)
    }

    deinit {
        try? stream.synchronize()
        if lossSlots != 0 { context.free(lossSlots) }
    }

    /// Runs `body` unless an earlier call failed; keeps its error for the next synchronisation.
    private func queue(_ body: () throws -> Void) {
        guard pendingError == nil else { return }
        do { try body() } catch { pendingError = error }
    }

    private func reportPending() throws {
        if let pendingError { throw pendingError }
    }

    public func makeBuffer(count: Int) throws -> Buffer {
        let pointer = try context.allocate(bytes: count * MemoryLayout<Float>.size)
        try stream.fill(pointer, words: count)
        return DeviceBuffer(start: DeviceElement(pointer), count: count)
    }

    public func release(_ buffer: Buffer) {
        try? stream.synchronize()
        context.free(buffer.start.address)
    }

    public func address(of buffer: Buffer) -> Address { buffer.start }

    public func upload(_ source: UnsafePointer<Float>, count: Int, to destination: Address) throws {
        try reportPending()
        try stream.copy(from: source, bytes: count * MemoryLayout<Float>.size, to: destination.address)
        // The source is pageable host memory the caller may reuse at once.
        try stream.synchronize()
    }

    public func download(_ source: Address, count: Int, into destination: UnsafeMutablePointer<Float>) throws {
        try reportPending()
        try stream.copy(from: source.address, bytes: count * MemoryLayout<Float>.size, to: destination)
        try stream.synchronize()
    }

    public func multiply(_ a: Address, _ b: Address, into c: Address, m: Int, n: Int, k: Int,
                         transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int) {
        queue {
            try blas.multiply(a.address, b.address, into: c.address, m: m, n: n, k: k,
                              transposeA: transposeA, transposeB: transposeB, lda: lda, ldb: ldb, ldc: ldc,
                              compute: CUDABackend.compute(for: precision))
        }
    }

    static func compute(for precision: Precision) -> BLAS.Compute {
        switch precision {
        case .fp32: return .fp32
        case .tf32: return .tf32
        case .bf16: return .bf16
        }
    }

    private func launch(_ name: String, count: Int, _ arguments: [KernelArgument]) {
        guard count > 0 else { return }
        queue {
            try stream.launch(functions[name]!, blocks: ElementwiseKernels.blocks(for: count),
                              threads: ElementwiseKernels.threadsPerBlock, arguments: arguments)
        }
    }

    public func rectify(_ values: Address, count: Int) {
        launch(ElementwiseKernels.relu, count: count, [.pointer(values.address), .int64(Int64(count))])
    }

    public func maskRectified(_ gradient: Address, by activation: Address, count: Int) {
        launch(ElementwiseKernels.reluMask, count: count,
               [.pointer(gradient.address), .pointer(activation.address), .int64(Int64(count))])
    }

    public func lossGradient(outputs: Address, targets: Address, into delta: Address, count: Int, scale: Float, slot: Int) {
        queue {
            if slot >= lossCapacity { try growLossSlots(to: max(slot + 1, 2 * lossCapacity)) }
            let sum = lossSlots + DevicePointer(slot * MemoryLayout<Double>.size)
            try stream.fill(sum, words: 2)
        }
        launch(ElementwiseKernels.lossGradient, count: count,
               [.pointer(outputs.address), .pointer(targets.address), .pointer(delta.address),
                .pointer(lossSlots + DevicePointer(slot * MemoryLayout<Double>.size)), .float(scale), .int64(Int64(count))])
    }

    /// A larger slot array, the sums so far copied over (rare: slots start at 64 steps).
    private func growLossSlots(to capacity: Int) throws {
        let bytes = capacity * MemoryLayout<Double>.size
        let grown = try context.allocate(bytes: bytes)
        try stream.fill(grown, words: bytes / 4)
        if lossSlots != 0 {
            var kept = [Double](repeating: 0, count: lossCapacity)
            try kept.withUnsafeMutableBytes { try stream.copy(from: lossSlots, bytes: $0.count, to: $0.baseAddress!) }
            try stream.synchronize()
            try kept.withUnsafeBytes { try stream.copy(from: $0.baseAddress!, bytes: $0.count, to: grown) }
            try stream.synchronize()
            context.free(lossSlots)
        }
        lossSlots = grown
        lossCapacity = capacity
    }

    public func lossSums(_ count: Int) throws -> [Double] {
        try synchronize()
        var sums = [Double](repeating: 0, count: count)
        let kept = min(count, lossCapacity)
        guard kept > 0 else { return sums }
        try sums.withUnsafeMutableBytes {
            try stream.copy(from: lossSlots, bytes: kept * MemoryLayout<Double>.size, to: $0.baseAddress!)
        }
        try stream.synchronize()
        return sums
    }

    public func addScaled(_ x: Address, times alpha: Float, to y: Address, count: Int) {
        launch(ElementwiseKernels.addScaled, count: count,
               [.pointer(x.address), .float(alpha), .pointer(y.address), .int64(Int64(count))])
    }

    public func withHostCopy<R>(of source: Address, count: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        var copy = [Float](repeating: 0, count: count)
        try copy.withUnsafeMutableBufferPointer { try download(source, count: count, into: $0.baseAddress!) }
        return try copy.withUnsafeBufferPointer(body)
    }

    public func isIdle() throws -> Bool {
        try reportPending()
        return try stream.isIdle()
    }

    public func synchronize() throws {
        try reportPending()
        try stream.synchronize()
    }

    public func makeReducer(_ reduction: GradientReduction, gradients: Buffer, buckets: [Range<Int>],
                            communicator: Communicator) throws -> any GradientReducer {
        switch reduction {
        case .mpi, .mpiStaged:
            return try StagedReducer(backend: self, gradients: gradients, buckets: buckets, communicator: communicator)
        case .mpiCUDA:
            return try DeviceMPIReducer(backend: self, gradients: gradients, buckets: buckets, communicator: communicator)
        case .nccl:
            return try NCCLReducer(backend: self, gradients: gradients, buckets: buckets, communicator: communicator)
        }
    }

    public func recordParameters(reduction: GradientReduction, reducer: any GradientReducer,
                                 communicator: Communicator) throws -> [String: JSONValue] {
        var parameters: [String: JSONValue] = ["precision": .string(precision.rawValue), "reducer": .string(reduction.rawValue),
                                               "gpu": .string(context.properties.name)]
        // Ranks on one device show the same UUID: the launcher's device masks cannot hide it.
        let names = try communicator.allgather(deviceName)
        parameters["gpu_shared"] = .bool(Set(names).count < names.count)
        if let nccl = reducer as? NCCLReducer { parameters["nccl"] = .string(nccl.version) }
        return parameters
    }

    /// cublasSgemm, the plain fp32 GEMM cuBLAS itself offers, beside `multiply`'s cublasGemmEx.
    public var hasReferenceMultiply: Bool { true }

    public func referenceMultiply(_ a: Address, _ b: Address, into c: Address, m: Int, n: Int, k: Int,
                                  transposeA: Bool, transposeB: Bool, lda: Int, ldb: Int, ldc: Int) throws {
        try blas.sgemm(a.address, b.address, into: c.address, m: m, n: n, k: k,
                       transposeA: transposeA, transposeB: transposeB, lda: lda, ldb: ldb, ldc: ldc)
    }
}
