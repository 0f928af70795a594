import Records
import Statistics
import MPI
import Compute

/// The training step's GEMMs timed alone, shape by shape, on the step's device and precision,
/// each result checked against float64 dot products: what the step's GEMM time would be with
/// nothing else in the way. Comparing it with a `train` record's compute time says how much of
/// the GEMMs' speed the step keeps (benchmarks/gpu: at least 90%). On a GPU, fp32 shapes are also
/// timed through plain cublasSgemm, the reference cuBLAS itself offers.
public struct GEMMCheck: Kernel {
    public static let name = "gemm"

    /// The GEMM rate of each of the step's shapes, and of the whole step's.
    public static let descriptor = KernelDescriptor(
        metrics: [
            .init(key: "seconds", label: "time per GEMM", unit: "seconds", direction: .lowerIsBetter),
            .init(key: "tflops", label: "GEMM rate", unit: "teraflops", direction: .higherIsBetter),
        ],
        headlines: [.init(label: "GEMM rate", point: .heaviest, asRate: true)],
        order: 4)

    /// One product of the step: C (m x n) = op(A) op(B), row-major.
    public struct Shape: Equatable, Sendable, CustomStringConvertible {
        public var m: Int, n: Int, k: Int
        public var transposeA = false, transposeB = false
        /// How many times one step runs it.
        public var count = 1
        public var flops: Double { Matrix.flops(m: m, n: n, k: k) }
        public var description: String { "\(m)x\(n)x\(k)\(transposeA ? " A^T" : "")\(transposeB ? " B^T" : "")" }

        public init(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false, count: Int = 1) {
            self.m = m; self.n = n; self.k = k; self.transposeA = transposeA; self.transposeB = transposeB; self.count = count
        }
    }

    public var shapes: [Shape]
    /// Where the GEMMs run: the host's backend, or one its platform made before MPI starts.
    public var backend: any ComputeBackend = CPUBackend()
    /// Calls per timed trial, and trials (the median trial counts).
    public var calls = 10
    public var trials = 5
    public var seed: UInt64 = 3
    /// What the shapes stand for, recorded ("the step of layers ... batch ...", "4096 cube").
    public var label: String

    public init(shapes: [Shape], label: String) {
        self.shapes = shapes
        self.label = label
    }

    /// The GEMMs `TrainingStep` runs per step for these widths and MLP rows: forward, weight
    /// gradients, input gradients for every layer but the first (as Network runs them).
    public static func step(widths: [Int], rows: Int) -> [Shape] {
        var shapes: [Shape] = []
        for layer in 0..<(widths.count - 1) {
            let fanIn = widths[layer], fanOut = widths[layer + 1]
            shapes.append(Shape(m: rows, n: fanOut, k: fanIn, transposeB: true))
            shapes.append(Shape(m: fanOut, n: fanIn, k: rows, transposeA: true))
            if layer > 0 { shapes.append(Shape(m: rows, n: fanIn, k: fanOut)) }
        }
        // Equal products time once and count for all.
        var merged: [Shape] = []
        for shape in shapes {
            if let index = merged.firstIndex(where: { $0.m == shape.m && $0.n == shape.n && $0.k == shape.k
                && $0.transposeA == shape.transposeA && $0.transposeB == shape.transposeB }) {
                merged[index].count += 1
            } else {
                merged.append(shape)
            }
        }
        return merged
    }

    /// The largest shape's A, B and C as float32, twice: the host's copies of the inputs and the
    /// result, and the buffers themselves (on the host for the CPU; a GPU's lie on the device).
    public func memoryPerRank(ranks: Int) -> MemoryNeed {
        let largest = shapes.map { shape -> Int in
            let (ab, overflowA) = shape.m.multipliedReportingOverflow(by: shape.k)
            let (bb, overflowB) = shape.k.multipliedReportingOverflow(by: shape.n)
            let (cb, overflowC) = shape.m.multipliedReportingOverflow(by: shape.n)
            return overflowA || overflowB || overflowC ? Int.max / 8 : ab + bb + cb
        }.max() ?? 0
        return MemoryNeed(buffers: 2 * MemoryLayout<Float>.size, of: largest, setBy: "the GEMM shapes (--layers, --batch, --proxy)")
    }

    public func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws {
        try measure(with: backend, on: communicator, record: record)
    }

    /// Relative error allowed in the sampled dot products: fp32 accumulates in a different order;
    /// tf32 and bf16 round every input (10 and 7 mantissa bits).
    static func tolerance(_ precision: Precision) -> Double {
        switch precision {
        case .fp32: return 1e-4
        case .tf32: return 5e-3
        case .bf16: return 3e-2
        }
    }

    func measure<Backend: ComputeBackend>(with backend: Backend, on communicator: Communicator,
                                          record: (MeasuredPoint) throws -> Void) throws {
        var stepSeconds = 0.0, stepFLOPs = 0.0, allVerified = true
        for shape in shapes {
            let rowsA = shape.transposeA ? shape.k : shape.m, columnsA = shape.transposeA ? shape.m : shape.k
            let rowsB = shape.transposeB ? shape.n : shape.k, columnsB = shape.transposeB ? shape.k : shape.n
            var generator = SeededGenerator(seed: seed)
            let a = (0..<(rowsA * columnsA)).map { _ in generator.nextSignedFloat() }
            let b = (0..<(rowsB * columnsB)).map { _ in generator.nextSignedFloat() }
            let bufferA = try backend.makeBuffer(count: a.count), bufferB = try backend.makeBuffer(count: b.count)
            let bufferC = try backend.makeBuffer(count: shape.m * shape.n)
            defer { backend.release(bufferA); backend.release(bufferB); backend.release(bufferC) }
            let (addressA, addressB, addressC) = (backend.address(of: bufferA), backend.address(of: bufferB), backend.address(of: bufferC))
            try backend.upload(a, count: a.count, to: addressA)
            try backend.upload(b, count: b.count, to: addressB)
            func product() {
                backend.multiply(addressA, addressB, into: addressC, m: shape.m, n: shape.n, k: shape.k,
                                 transposeA: shape.transposeA, transposeB: shape.transposeB,
                                 lda: columnsA, ldb: columnsB, ldc: shape.n)
            }
            let seconds = try time(backend, communicator, product)
            // Sampled elements against float64 dot products of the same inputs.
            var worst = 0.0
            try backend.withHostCopy(of: addressC, count: shape.m * shape.n) { c in
                var sampler = SeededGenerator(seed: seed &+ 1)
                for _ in 0..<64 {
                    let i = Int(sampler.next() % UInt64(shape.m)), j = Int(sampler.next() % UInt64(shape.n))
                    var exact = 0.0, size = 0.0
                    for p in 0..<shape.k {
                        let x = Double(shape.transposeA ? a[p * columnsA + i] : a[i * columnsA + p])
                        let y = Double(shape.transposeB ? b[j * columnsB + p] : b[p * columnsB + j])
                        exact += x * y
                        size += abs(x * y)
                    }
                    worst = max(worst, abs(Double(c[i * shape.n + j]) - exact) / max(size, 1e-30))
                }
            }
            let verified = worst <= GEMMCheck.tolerance(backend.precision)
            allVerified = allVerified && verified
            var throughput = ["tflops": seconds > 0 ? shape.flops / seconds / 1e12 : 0]
            if backend.hasReferenceMultiply, backend.precision == .fp32 {
                var failure: Error?
                let reference = try time(backend, communicator) {
                    guard failure == nil else { return }
                    do {
                        try backend.referenceMultiply(addressA, addressB, into: addressC, m: shape.m, n: shape.n, k: shape.k,
                                                      transposeA: shape.transposeA, transposeB: shape.transposeB,
                                                      lda: columnsA, ldb: columnsB, ldc: shape.n)
                    } catch { failure = error }
                }
                if let failure { throw failure }
                throughput["sgemm_tflops"] = reference > 0 ? shape.flops / reference / 1e12 : 0
                throughput["of_sgemm"] = seconds > 0 ? reference / seconds : 0
            }
            stepSeconds += seconds * Double(shape.count)
            stepFLOPs += shape.flops * Double(shape.count)
            try record(MeasuredPoint(
                parameters: ["shape": .string(shape.description), "m": .number(Double(shape.m)), "n": .number(Double(shape.n)),
                             "k": .number(Double(shape.k)), "per_step": .number(Double(shape.count)), "of": .string(label),
                             "device": .string(backend.device.rawValue), "precision": .string(backend.precision.rawValue)],
                warmup: 1, iterations: trials, samples: [seconds], throughput: throughput, verified: verified,
                verification: String(format: "64 sampled elements within %.1e of float64 (worst %.2e relative to the sum of |terms|)",
                                     GEMMCheck.tolerance(backend.precision), worst)))
        }
        guard shapes.count > 1 else { return }
        try record(MeasuredPoint(
            parameters: ["shape": "all of one step", "of": .string(label), "device": .string(backend.device.rawValue),
                         "precision": .string(backend.precision.rawValue)],
            warmup: 1, iterations: trials, samples: [stepSeconds],
            throughput: ["tflops": stepSeconds > 0 ? stepFLOPs / stepSeconds / 1e12 : 0, "flops": stepFLOPs],
            verified: allVerified, verification: allVerified ? "every shape verified" : "a shape failed verification"))
    }

    /// Seconds per call: `calls` calls queued back to back, then waited for; the median of
    /// `trials` trials, the slowest rank's.
    private func time<Backend: ComputeBackend>(_ backend: Backend, _ communicator: Communicator, _ call: () -> Void) throws -> Double {
        call()
        try backend.synchronize()
        var perCall: [Double] = []
        for _ in 0..<trials {
            let start = MPI.wallTime
            for _ in 0..<calls { call() }
            try backend.synchronize()
            perCall.append((MPI.wallTime - start) / Double(calls))
        }
        return try Timing.slowest([Summary(of: perCall).p50], over: communicator)[0]
    }
}
