/// One device's primary context made current on this thread: the context the CUDA runtime, and so
/// cuBLAS and NCCL, use for that device too, so device memory allocated here is theirs to use.
/// Every call below runs on the thread that made the context.
public final class DeviceContext: @unchecked Sendable {
    public let driver: Driver
    public let properties: DeviceProperties
    private let device: Int32

    public init(driver: Driver, ordinal: Int) throws {
        self.driver = driver
        properties = try driver.properties(ofDevice: ordinal)
        var device: Int32 = 0
        try driver.check(driver.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        self.device = device
        var context: Driver.Handle = nil
        try driver.check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    deinit {
        _ = driver.cuCtxSetCurrent(nil)
        _ = driver.cuDevicePrimaryCtxRelease(device)
    }

    /// Free and total device memory in bytes.
    public func memoryInfo() throws -> (free: Int, total: Int) {
        var free = 0, total = 0
        try driver.check(driver.cuMemGetInfo(&free, &total), "cuMemGetInfo")
        return (free, total)
    }

    public func makeStream() throws -> Stream { try Stream(driver) }
    public func makeEvent() throws -> Event { try Event(driver) }

    /// `bytes` of device memory.
    public func allocate(bytes: Int) throws -> DevicePointer {
        var pointer: DevicePointer = 0
        try driver.check(driver.cuMemAlloc(&pointer, max(bytes, 4)), "cuMemAlloc(\(bytes) bytes)")
        return pointer
    }

    public func free(_ pointer: DevicePointer) { _ = driver.cuMemFree(pointer) }

    /// Page-locked host memory: copies to and from it run asynchronously at the link's full speed.
    public func allocatePinned(bytes: Int) throws -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer? = nil
        try driver.check(driver.cuMemAllocHost(&pointer, max(bytes, 4)), "cuMemAllocHost(\(bytes) bytes)")
        return pointer!
    }

    public func freePinned(_ pointer: UnsafeMutableRawPointer) { _ = driver.cuMemFreeHost(pointer) }

    /// Loads a compiled module (a CUBIN image) into this context.
    public func loadModule(_ image: [UInt8]) throws -> Module {
        var module: Driver.Handle = nil
        try image.withUnsafeBytes { try driver.check(driver.cuModuleLoadData(&module, $0.baseAddress), "cuModuleLoadData") }
        return Module(driver: driver, handle: module)
    }
}

/// A queue of device work; work on one stream runs in order.
public final class Stream: @unchecked Sendable {
    let driver: Driver
    public let handle: OpaquePointer?

    init(_ driver: Driver) throws {
        self.driver = driver
        var stream: Driver.Handle = nil
        try driver.check(driver.cuStreamCreate(&stream, Driver.streamNonBlocking), "cuStreamCreate")
        handle = stream
    }

    deinit { _ = driver.cuStreamDestroy(handle) }

    public func synchronize() throws { try driver.check(driver.cuStreamSynchronize(handle), "cuStreamSynchronize") }

    /// True when everything queued has finished.
    public func isIdle() throws -> Bool { try driver.finished(driver.cuStreamQuery(handle), "cuStreamQuery") }

    /// Later work on this stream waits until `event` has happened.
    public func wait(for event: Event) throws {
        try driver.check(driver.cuStreamWaitEvent(handle, event.handle, 0), "cuStreamWaitEvent")
    }

    public func copy(from host: UnsafeRawPointer, bytes: Int, to device: DevicePointer) throws {
        try driver.check(driver.cuMemcpyHtoDAsync(device, host, bytes, handle), "cuMemcpyHtoDAsync(\(bytes) bytes)")
    }

    public func copy(from device: DevicePointer, bytes: Int, to host: UnsafeMutableRawPointer) throws {
        try driver.check(driver.cuMemcpyDtoHAsync(host, device, bytes, handle), "cuMemcpyDtoHAsync(\(bytes) bytes)")
    }

    /// Sets `count` 32-bit words at `device` to `value`.
    public func fill(_ device: DevicePointer, words count: Int, with value: UInt32 = 0) throws {
        try driver.check(driver.cuMemsetD32Async(device, value, count, handle), "cuMemsetD32Async")
    }

    /// Queues `function` on a grid of `blocks` x `threads`, its arguments in `arguments` as
    /// cuLaunchKernel takes them: one pointer to each argument's value, in the kernel's order.
    public func launch(_ function: Function, blocks: Int, threads: Int, arguments: [KernelArgument]) throws {
        try KernelArgument.withPointers(arguments) { pointers in
            try driver.check(driver.cuLaunchKernel(function.handle, UInt32(blocks), 1, 1, UInt32(threads), 1, 1, 0,
                                                   handle, pointers, nil), "cuLaunchKernel(\(function.name))")
        }
    }
}

/// A marker in a stream's work: it has happened once the work queued before it has finished.
public final class Event: @unchecked Sendable {
    let driver: Driver
    public let handle: OpaquePointer?

    init(_ driver: Driver) throws {
        self.driver = driver
        var event: Driver.Handle = nil
        try driver.check(driver.cuEventCreate(&event, Driver.eventDisableTiming), "cuEventCreate")
        handle = event
    }

    deinit { _ = driver.cuEventDestroy(handle) }

    public func record(on stream: Stream) throws {
        try driver.check(driver.cuEventRecord(handle, stream.handle), "cuEventRecord")
    }

    /// True once the work before the event's last record has finished (true if never recorded).
    public func hasHappened() throws -> Bool { try driver.finished(driver.cuEventQuery(handle), "cuEventQuery") }

    public func synchronize() throws { try driver.check(driver.cuEventSynchronize(handle), "cuEventSynchronize") }
}

/// Kernels loaded from one compiled image.
public final class Module: @unchecked Sendable {
    let driver: Driver
    let handle: OpaquePointer?

    init(driver: Driver, handle: OpaquePointer?) { self.driver = driver; self.handle = handle }

    // Modules live as long as the process: unloading one whose kernels may still be queued is unsafe.

    /// The kernel `name` (declared `extern "C"` in the source, so its name is not mangled).
    public func function(_ name: String) throws -> Function {
        var function: Driver.Handle = nil
        try driver.check(driver.cuModuleGetFunction(&function, handle, name), "cuModuleGetFunction(\(name))")
        return Function(name: name, handle: function)
    }
}

public struct Function: @unchecked Sendable {
    public let name: String
    let handle: OpaquePointer?
}

/// One kernel argument's value, of the C type the kernel declares.
public enum KernelArgument {
    case pointer(DevicePointer)
    case float(Float)
    /// `long long` in the kernel: element counts beyond 2^31 stay exact.
    case int64(Int64)

    /// Hands cuLaunchKernel its `void **kernelParams`: an array of pointers, each to one
    /// argument's bytes (8 for a pointer or long long, 4 for a float), valid during the call.
    static func withPointers<R>(_ arguments: [KernelArgument],
                                _ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws -> R) throws -> R {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(arguments.count, 1) * 8, alignment: 8)
        defer { storage.deallocate() }
        var pointers = [UnsafeMutableRawPointer?](repeating: nil, count: max(arguments.count, 1))
        for (index, argument) in arguments.enumerated() {
            let slot = storage + index * 8
            switch argument {
            case .pointer(let value): slot.storeBytes(of: value, as: UInt64.self)
            case .float(let value): slot.storeBytes(of: value, as: Float.self)
            case .int64(let value): slot.storeBytes(of: value, as: Int64.self)
            }
            pointers[index] = slot
        }
        return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}
