import Records
import struct Foundation.Data
import struct Foundation.URL
import MPI
import Compute

/// A data-parallel training step of an MLP, as PyTorch DDP runs it: every rank computes forward
/// and backward on its own batch (GEMMs through OpenBLAS), gradients are summed in buckets with
/// non-blocking allreduce started as soon as a bucket's layers finish their backward, and every
/// rank applies the same SGD update. Without overlap the buckets are reduced after the backward.
public struct TrainingStep: Kernel {
    public static let name = "train"

    /// Samples per second is what a training job is judged by; the step time carries it.
    public static let descriptor = KernelDescriptor(
        metrics: [
            .init(key: "seconds", label: "step time", unit: "seconds", direction: .lowerIsBetter),
            .init(key: "samples_per_second", label: "training throughput", unit: "samples_per_second", direction: .higherIsBetter),
            .init(key: "gemm_gflops", label: "GEMM rate", unit: "gigaflops", direction: .higherIsBetter),
        ],
        headlines: [.init(label: "training step (samples/s)", point: .heaviest, asRate: true)],
        order: 3, role: .trainingStep, modePhase: TrainingStep.computeAlonePhase)

    /// The step's computation while no message is in flight: from the step's start to its first
    /// bucket's allreduce, and the update after the last is reduced (with one bucket, all of it).
    /// Timed on the host where it computes synchronously: the descriptor's `modePhase`.
    public static let computeAlonePhase = "compute_alone"

    public var widths: [Int]
    /// Samples per rank per step.
    public var batch: Int
    public var steps: Int
    public var warmup: Int
    public var bucketBytes: Int
    public var overlap: Bool
    public var learningRate: Float
    public var seed: UInt64
    /// Backward GEMMs run in pieces of about this many flops, testing the requests in flight
    /// between pieces: Open MPI's ob1 advances a non-blocking allreduce only inside MPI calls.
    public var chunkFlops: Double
    /// Rank 0 writes its final weights here (raw little-endian float32), for equivalence tests.
    public var weightsPath: String?
    public var progress: ProgressLine?
    /// Where the step computes: the host's, or a backend its platform made (a GPU's context
    /// current, its kernels compiled) before MPI starts.
    public var backend: any ComputeBackend = CPUBackend()
    /// How the ranks sum their gradients (the CPU's `mpi` unless a GPU backend runs the step).
    public var reduction: GradientReduction = .mpi
    /// The network the layer widths stand in for (`--proxy`), recorded with the point.
    public var proxy: ProxyWorkload?
    /// MLP rows per sample: 1, or a proxy's rows (its FLOPs per sample are the network's).
    public var rowsPerSample = 1

    public init(widths: [Int], batch: Int, steps: Int = 20, warmup: Int = 3, bucketBytes: Int = 25 << 20,
                overlap: Bool = true, learningRate: Float = 0.05, seed: UInt64 = 1, chunkFlops: Double = 32e6,
                weightsPath: String? = nil, progress: ProgressLine? = nil) {
        self.widths = widths
        self.batch = batch
        self.steps = steps
        self.warmup = warmup
        self.bucketBytes = bucketBytes
        self.overlap = overlap
        self.learningRate = learningRate
        self.seed = seed
        self.chunkFlops = chunkFlops
        self.weightsPath = weightsPath
        self.progress = progress
    }

    /// Parses `1024,4096,4096,1024`: at least two positive widths.
    public static func parseWidths(_ text: String) throws -> [Int] {
        let widths = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard widths.count >= 2, widths.allSatisfy({ ($0 ?? 0) > 0 && $0! <= 1 << 16 }) else {
            throw InvalidParameters(description: "--layers '\(text)' is not a layer list: use two or more widths from 1 to 65536, e.g. 1024,4096,4096,1024")
        }
        return widths.map { $0! }
    }

    public func validate() throws {
        guard batch >= 1 else { throw InvalidParameters(description: "--batch \(batch) must be at least 1") }
        guard steps >= 1 else { throw InvalidParameters(description: "--steps \(steps) must be at least 1") }
        guard warmup >= 0 else { throw InvalidParameters(description: "--warmup \(warmup) must not be negative") }
        guard bucketBytes > 0 else { throw InvalidParameters(description: "--bucket-mb must be greater than zero") }
        guard learningRate > 0, learningRate.isFinite else {
            throw InvalidParameters(description: "--learning-rate \(learningRate) must be a positive number")
        }
        let largest = zip(widths, widths.dropFirst()).map { $0 * $1 }.max() ?? 0
        guard largest < Int(Int32.max) else {
            throw InvalidParameters(description: "--layers: a layer of \(largest) weights is more than one MPI count can reduce")
        }
    }

    /// Weights and gradients, every layer's activations and two backward buffers for the batch,
    /// the targets, and the synthetic task's teacher matrix, all float32.
    public func memoryPerRank(ranks: Int) -> MemoryNeed {
        let parameters = zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
        let perSample = widths.reduce(0, +) + 2 * (widths.max() ?? 0) + (widths.last ?? 0)
        // Widths are at most 2^16 (`parseWidths`); the batch is not bounded, so its product saturates.
        let (batchFloats, tooMany) = batch.multipliedReportingOverflow(by: perSample)
        let (floats, overflow) = batchFloats.addingReportingOverflow(2 * parameters + (widths.first ?? 0) * (widths.last ?? 0))
        return MemoryNeed(buffers: tooMany || overflow ? Int.max : floats, of: MemoryLayout<Float>.size,
                          setBy: "--layers \(widths.map(String.init).joined(separator: ",")) --batch \(batch)")
    }

    /// Buckets of consecutive layers, last layer first (the order backward finishes them). A
    /// layer joins the open bucket unless that would take it past `capBytes`; a layer larger than
    /// the cap gets a bucket of its own.
    public static func buckets(widths: [Int], capBytes: Int) -> [Range<Int>] {
        var buckets: [Range<Int>] = []
        var lowest = widths.count - 1, highest = widths.count - 1, bytes = 0
        for layer in stride(from: widths.count - 2, through: 0, by: -1) {
            let layerBytes = widths[layer] * widths[layer + 1] * MemoryLayout<Float>.size
            if bytes > 0, bytes + layerBytes > capBytes {
                buckets.append(lowest..<highest)
                highest = lowest
                bytes = 0
            }
            lowest = layer
            bytes += layerBytes
        }
        buckets.append(lowest..<highest)
        return buckets
    }

    public func measure(on communicator: Communicator, record: (MeasuredPoint) throws -> Void) throws {
        try validate()
        try measure(with: backend, on: communicator, record: record)
    }

    /// The step on `backend`: everything but the arithmetic and the reducer is the same on every device.
    func measure<Backend: ComputeBackend>(with backend: Backend, on communicator: Communicator,
                                          record: (MeasuredPoint) throws -> Void) throws {
        let rank = communicator.rank, size = communicator.size
        let globalBatch = batch * size
        // The MLP's batch: a proxy's sample is several rows (ProxyWorkload), a plain sample one.
        let rows = batch * rowsPerSample, globalRows = rows * size
        let model = try MultilayerPerceptron(widths: widths, batch: rows, seed: seed, backend: backend)
        let task = SyntheticTask(inputWidth: widths.first!, outputWidth: widths.last!, seed: seed &+ 1)
        // The samples are made in host memory and handed to the backend before each step's clock starts.
        let inputs = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * widths.first!)
        let targets = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * widths.last!)
        defer { inputs.deallocate(); targets.deallocate() }
        let deviceTargets = try backend.makeBuffer(count: rows * widths.last!)
        defer { backend.release(deviceTargets) }
        let buckets = TrainingStep.buckets(widths: widths, capBytes: bucketBytes)
        let bucketRanges = buckets.map { model.parameterRange(of: $0) }
        let bucketClosing = Dictionary(uniqueKeysWithValues: buckets.enumerated().map { ($1.lowerBound, $0) })
        // A rank that could not set its reducer up (NCCL refused, say) must not leave the others
        // waiting in the first reduction: all go on, or all stop.
        let reducer: any GradientReducer
        do {
            reducer = try backend.makeReducer(reduction, gradients: model.gradients, buckets: bucketRanges,
                                              communicator: communicator)
        } catch {
            try TrainingStep.agree(on: communicator, failure: error)
            throw error
        }
        try TrainingStep.agree(on: communicator)

        // How fast this rank sums gradients, as a reduce round does after its message arrives:
        // what a model costed on one-way (ping-pong) links must add for the arithmetic.
        let largestBucket = bucketRanges.map(\.count).max() ?? 0
        let reduceSeconds = try TrainingStep.timeLocalSum(count: largestBucket, on: communicator)

        let total = warmup + steps
        var stepTimes = [Double](repeating: 0, count: total), compute = stepTimes, exposed = stepTimes, alone = stepTimes
        try communicator.barrier()
        for step in 0..<total {
            progress?.update("train", step: step + 1, of: total)
            task.fill(inputs: inputs.baseAddress!, targets: targets.baseAddress!,
                      first: step * globalRows + rank * rows, count: rows)
            try backend.upload(inputs.baseAddress!, count: inputs.count, to: backend.address(of: model.inputs))
            try backend.upload(targets.baseAddress!, count: targets.count, to: backend.address(of: deviceTargets))
            try backend.synchronize()
            var testing = 0.0
            let start = MPI.wallTime
            model.forward()
            model.outputGradient(targets: backend.address(of: deviceTargets), divisor: globalRows * widths.last!, slot: step)
            var firstStart: Double?
            try model.backward(chunkFlops: overlap ? chunkFlops : .infinity, betweenChunks: {
                let before = MPI.wallTime
                try reducer.progress()
                testing += MPI.wallTime - before
            }, layerDone: { layer in
                guard overlap, let bucket = bucketClosing[layer] else { return }
                if firstStart == nil { firstStart = MPI.wallTime }
                try reducer.start(bucket: bucket)
            })
            // A backend that queues work is still computing here: keep the reductions moving
            // until it is done, so that the time after counts only what the backward did not hide.
            while try !backend.isIdle() { try reducer.progress() }
            let backwardDone = MPI.wallTime
            if overlap {
                try reducer.finish()
            } else {
                for bucket in buckets.indices {
                    try reducer.start(bucket: bucket)
                    try reducer.finish()
                }
            }
            let reduced = MPI.wallTime
            model.update(learningRate: learningRate)
            try backend.synchronize()
            let end = MPI.wallTime
            stepTimes[step] = end - start
            exposed[step] = reduced - backwardDone + testing
            compute[step] = stepTimes[step] - exposed[step]
            // Before the first bucket goes out and after the last comes back, nothing is in flight.
            alone[step] = (firstStart ?? backwardDone) - start + (end - reduced)
        }
        progress?.finish()

        // Loss over all ranks' samples, per step, reduced once at the end to keep the steps clean.
        let losses = try communicator.allreduce(try backend.lossSums(total), operation: .sum)
            .map { $0 / Double(globalRows * widths.last!) }
        let checksums = try communicator.allgather([try model.weightsChecksum()])
        let identical = checksums.allSatisfy { $0 == checksums[0] }
        // Each step sees fresh samples, so single losses are noisy: compare the first quarter's
        // mean with the last quarter's.
        let quarter = max(1, total / 4)
        let early = losses.prefix(quarter).reduce(0, +) / Double(quarter)
        let late = losses.suffix(quarter).reduce(0, +) / Double(quarter)
        let falls = total < 2 || late < early
        if rank == 0, let weightsPath { try TrainingStep.write(try model.hostWeights(), to: weightsPath) }

        let timed = warmup..<total
        let slowestStep = try Timing.slowest(Array(stepTimes[timed]), over: communicator)
        let slowestCompute = try Timing.slowest(Array(compute[timed]), over: communicator)
        let slowestExposed = try Timing.slowest(Array(exposed[timed]), over: communicator)
        let slowestAlone = try Timing.slowest(Array(alone[timed]), over: communicator)
        let stepMedian = Summary(of: slowestStep).p50, computeMedian = Summary(of: slowestCompute).p50
        var verification = identical
            ? "weights bit-identical on all \(size) ranks (checksum \(String(checksums[0], radix: 16)))"
            : "weights differ across ranks: checksums \(checksums.map { String($0, radix: 16) }.joined(separator: " "))"
        verification += String(format: "; mean loss of the first %d steps %.6g, of the last %d %.6g", quarter, early, quarter, late)
        if !falls { verification += " (did not fall)" }
        var parameters: [String: JSONValue] = [
            "layers": .string(widths.map(String.init).joined(separator: ",")), "batch": .number(Double(batch)),
            "global_batch": .number(Double(globalBatch)), "dtype": "float32",
            "bucket_mb": .number(Double(bucketBytes) / Double(1 << 20)), "buckets": .number(Double(buckets.count)),
            "overlap": .bool(overlap), "progress_mflop": .number(overlap && chunkFlops.isFinite ? chunkFlops / 1e6 : 0), "learning_rate": .number(Double("\(learningRate)") ?? Double(learningRate)),
            "parameters": .number(Double(model.parameterCount)),
            "gradient_bytes": .number(Double(model.parameterCount * MemoryLayout<Float>.size)),
            "device": .string(backend.device.rawValue)]
        parameters.merge(try backend.recordParameters(reduction: reduction, reducer: reducer, communicator: communicator)) { _, new in new }
        if let proxy {
            // Says the layers are a stand-in, and for what: compare it with the real network's step.
            parameters["proxy"] = .string(proxy.rawValue)
            parameters["proxy_of"] = .string(proxy.network.title)
            parameters["rows_per_sample"] = .number(Double(rowsPerSample))
            parameters["flops_per_sample"] = .number(model.flopsPerStep / Double(batch))
        }
        return try record(MeasuredPoint(
            parameters: parameters,
            warmup: warmup, iterations: steps, samples: slowestStep,
            throughput: ["samples_per_second": stepMedian > 0 ? Double(globalBatch) / stepMedian : 0,
                         "gemm_gflops": computeMedian > 0 ? model.flopsPerStep / computeMedian / 1e9 : 0,
                         "loss_first": losses[0], "loss_last": losses[total - 1],
                         "reduce_gbps": reduceSeconds > 0 ? Double(largestBucket * MemoryLayout<Float>.size) / reduceSeconds / 1e9 : 0],
            phases: backend.device == .cpu
                ? ["compute": slowestCompute, "exposed_communication": slowestExposed, TrainingStep.computeAlonePhase: slowestAlone]
                // A GPU queues its work: the host's clock would time the queueing.
                : ["compute": slowestCompute, "exposed_communication": slowestExposed],
            verified: identical && falls, verification: verification))
    }

    /// Every rank reports whether its set-up succeeded; when any failed, every rank stops with the
    /// same words instead of waiting forever in a collective the failed rank never joins.
    static func agree(on communicator: Communicator, failure: Error? = nil) throws {
        let failed = try communicator.allreduce(Int32(failure == nil ? 0 : 1), operation: .sum)
        if let failure { throw failure }
        if failed > 0 { throw StepFailure("\(failed) rank(s) could not set the step up (the first rank that failed says why)") }
    }

    /// Seconds to add one float32 array of `count` into another, the median of five, every rank at
    /// once (as they sum during a step) and the slowest rank's.
    static func timeLocalSum(count: Int, on communicator: Communicator) throws -> Double {
        guard count > 0 else { return 0 }
        let sumMapping = try PageBuffer<Float>(count: count)
        defer { sumMapping.release() }
        let addendMapping = try PageBuffer<Float>(count: count)
        defer { addendMapping.release() }
        let sum = sumMapping.buffer, addend = addendMapping.buffer
        sum.initialize(repeating: 1)
        addend.initialize(repeating: 0.5)
        var times: [Double] = []
        for _ in 0..<5 {
            try communicator.barrier()
            let start = MPI.wallTime
            for index in 0..<count { sum[index] += addend[index] }
            times.append(MPI.wallTime - start)
        }
        // The sums are used, so that the loop cannot be dropped: 1 + 5 x 0.5 everywhere.
        guard sum[count - 1] == 3.5 else { throw InvalidParameters(description: "local sum check failed: \(sum[count - 1])") }
        return try Timing.slowest([Summary(of: times).p50], over: communicator)[0]
    }

    static func write(_ weights: [Float], to path: String) throws {
        do {
            try weights.withUnsafeBufferPointer { try Data(buffer: $0).write(to: URL(fileURLWithPath: path)) }
        } catch {
            throw InvalidParameters(description: "cannot write weights to \(path): \(error.localizedDescription)")
        }
    }
}
