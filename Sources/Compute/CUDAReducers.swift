import CUDA
import MPI

/// `mpi-staged`: each bucket's gradients copied to pinned host memory as soon as the backward has
/// written them, summed there with MPI_Iallreduce, and copied back, buckets pipelined (see
/// `StagedSchedule`): Horovod's way on an MPI that cannot read device memory. Copies out and in
/// run on streams of their own, so both directions of the link work at once and neither waits
/// for the compute stream's later work.
final class StagedReducer: GradientReducer, StagingSteps {
    let backend: CUDABackend
    let gradients: DeviceBuffer
    let buckets: [Range<Int>]
    let communicator: Communicator
    /// Page-locked host copy of all the gradients; each bucket uses its own range.
    let host: UnsafeMutablePointer<Float>
    let outbound: Stream, inbound: Stream
    /// Per bucket: its gradients are written (on the compute stream); its copy out has landed.
    let written: [Event], copiedOut: [Event]
    private var requests: [Request]
    private var schedule: StagedSchedule!

    init(backend: CUDABackend, gradients: DeviceBuffer, buckets: [Range<Int>], communicator: Communicator) throws {
        self.backend = backend
        self.gradients = gradients
        self.buckets = buckets
        self.communicator = communicator
        let raw = try backend.context.allocatePinned(bytes: gradients.count * MemoryLayout<Float>.size)
        host = raw.bindMemory(to: Float.self, capacity: gradients.count)
        outbound = try backend.context.makeStream()
        inbound = try backend.context.makeStream()
        written = try buckets.map { _ in try backend.context.makeEvent() }
        copiedOut = try buckets.map { _ in try backend.context.makeEvent() }
        requests = Array(repeating: .null, count: buckets.count)
        schedule = StagedSchedule(steps: self)
    }

    deinit {
        try? outbound.synchronize()
        try? inbound.synchronize()
        backend.context.freePinned(UnsafeMutableRawPointer(host))
    }

    func start(bucket index: Int) throws { try schedule.start(index) }
    func progress() throws { try schedule.advance() }
    func finish() throws { try schedule.finish() }

    private func bytes(_ index: Int) -> Int { buckets[index].count * MemoryLayout<Float>.size }
    private func device(_ index: Int) -> DevicePointer { (gradients.start + buckets[index].lowerBound).address }

    func copyOut(_ index: Int) throws {
        try written[index].record(on: backend.stream)
        try outbound.wait(for: written[index])
        try outbound.copy(from: device(index), bytes: bytes(index), to: host + buckets[index].lowerBound)
        try copiedOut[index].record(on: outbound)
    }

    func hasCopiedOut(_ index: Int) throws -> Bool { try copiedOut[index].hasHappened() }

    func startReduction(_ index: Int) throws {
        let elements = UnsafeMutableBufferPointer(start: host + buckets[index].lowerBound, count: buckets[index].count)
        requests[index] = try communicator.iallreduce(inPlace: elements, operation: .sum)
    }

    func hasReduced(_ index: Int) throws -> Bool { try requests[index].test() }

    func copyIn(_ index: Int) throws {
        try inbound.copy(from: host + buckets[index].lowerBound, bytes: bytes(index), to: device(index))
    }

    func waitForCopiesIn() throws { try inbound.synchronize() }
}

/// `mpi-cuda`: device pointers handed to a CUDA-aware MPI. Open MPI 4 accepts device memory in
/// its blocking collectives only, not the non-blocking ones (its FAQ, "Which MPI APIs work with
/// CUDA-aware?"), so each bucket is reduced with a blocking MPI_Allreduce once its gradients are
/// written. The host blocks only after the whole backward is queued, so the device keeps
/// computing the earlier layers while the later buckets are reduced.
final class DeviceMPIReducer: GradientReducer {
    let backend: CUDABackend
    let gradients: DeviceBuffer
    let buckets: [Range<Int>]
    let communicator: Communicator
    let written: [Event]
    /// Buckets started and not yet reduced, in start order (the order every rank reduces them in).
    private var waiting: [Int] = []
    private var startedThisStep = 0

    init(backend: CUDABackend, gradients: DeviceBuffer, buckets: [Range<Int>], communicator: Communicator) throws {
        guard let support = MPI.cudaSupport(), support else {
            throw CUDAError.missingLibrary("--reducer mpi-cuda: this Open MPI does not report CUDA support (MPIX_Query_cuda_support); use --reducer mpi-staged or nccl")
        }
        self.backend = backend
        self.gradients = gradients
        self.buckets = buckets
        self.communicator = communicator
        written = try buckets.map { _ in try backend.context.makeEvent() }
        waiting.reserveCapacity(buckets.count)
    }

    func start(bucket index: Int) throws {
        try written[index].record(on: backend.stream)
        waiting.append(index)
        startedThisStep += 1
    }

    func progress() throws {
        // While the backward is still being queued, a blocking reduction would starve the device.
        guard startedThisStep == buckets.count else { return }
        while let next = waiting.first, try written[next].hasHappened() {
            try reduce(next)
            waiting.removeFirst()
        }
    }

    func finish() throws {
        for index in waiting {
            try written[index].synchronize()
            try reduce(index)
        }
        waiting.removeAll(keepingCapacity: true)
        if startedThisStep == buckets.count { startedThisStep = 0 }
    }

    private func reduce(_ index: Int) throws {
        let address = (gradients.start + buckets[index].lowerBound).address
        let elements = UnsafeMutableBufferPointer<Float>(start: UnsafeMutablePointer(bitPattern: UInt(address)),
                                                         count: buckets[index].count)
        try communicator.allreduce(inPlace: elements, operation: .sum)
    }
}

/// `nccl`: ncclAllReduce per bucket, as PyTorch DDP does: one NCCL stream, each bucket's
/// allreduce queued behind the event that marks its gradients written, so buckets reduce in the
/// same order on every rank while the compute stream runs on. One stream rather than one per
/// bucket: NCCL does not promise that two of its operations progress at once, and operations on
/// one communicator must reach the device in the same order on every rank (NVIDIA/nccl#195, #217).
final class NCCLReducer: GradientReducer {
    let backend: CUDABackend
    let gradients: DeviceBuffer
    let buckets: [Range<Int>]
    let communicator: NCCL.Communicator
    let nccl: NCCL
    let stream: Stream
    let written: [Event]

    init(backend: CUDABackend, gradients: DeviceBuffer, buckets: [Range<Int>], communicator: Communicator) throws {
        // One GPU per rank: "Using the same CUDA device multiple times as different ranks of the
        // same NCCL communicator is not supported and may lead to hangs" (NCCL user guide). Every
        // rank sees the same list, so every rank refuses alike.
        let names = try communicator.allgather(backend.deviceName)
        guard Set(names).count == names.count else {
            throw CUDAError.tooFewDevices("--reducer nccl needs one GPU per rank: \(names.count) ranks run on \(Set(names).count) GPU(s); use --reducer mpi-staged")
        }
        let nccl = try NCCL()
        // Rank 0 makes the unique id; every rank gets its 128 bytes over MPI.
        let id = try communicator.broadcast(communicator.rank == 0 ? try nccl.uniqueID()
                                                                   : [UInt8](repeating: 0, count: NCCL.uniqueIDBytes), from: 0)
        self.nccl = nccl
        self.communicator = try nccl.communicator(uniqueID: id, ranks: communicator.size, rank: communicator.rank)
        self.backend = backend
        self.gradients = gradients
        self.buckets = buckets
        stream = try backend.context.makeStream()
        written = try buckets.map { _ in try backend.context.makeEvent() }
    }

    /// "2.28.3", for the record.
    var version: String { nccl.version() }

    func start(bucket index: Int) throws {
        try written[index].record(on: backend.stream)
        try stream.wait(for: written[index])
        try communicator.allreduceSum((gradients.start + buckets[index].lowerBound).address,
                                      count: buckets[index].count, on: stream)
    }

    func progress() throws {}

    func finish() throws {
        try stream.synchronize()
        try communicator.asynchronousError()
    }
}
