import Foundation

/// A CUDA device address (`CUdeviceptr`, `unsigned long long` on 64-bit hosts).
public typealias DevicePointer = UInt64

/// The CUDA driver API (libcuda.so.1, installed with the NVIDIA driver), typed from cuda.h.
///
/// Exported names: cuda.h maps several entry points to versioned symbols (`#define cuMemAlloc
/// cuMemAlloc_v2`, and likewise cuMemFree, cuMemAllocHost, cuMemcpyHtoD/DtoH and their Async
/// forms, cuDeviceTotalMem, cuMemGetInfo, cuStreamDestroy, cuEventDestroy,
/// cuDevicePrimaryCtxRelease); dlsym needs the versioned name the header would have chosen
/// (cuda.h of CUDA 12.9 and 13.0; the driver keeps exporting them for older binaries).
/// Every function returns a `CUresult` (a C enum: int32), 0 being CUDA_SUCCESS.
public final class Driver: @unchecked Sendable {
    public typealias Result = Int32
    public typealias Handle = OpaquePointer?

    public let library: DynamicLibrary

    // Initialisation and devices.
    let cuInit: @convention(c) (UInt32) -> Result
    let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Result
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Result
    let cuDeviceTotalMem: @convention(c) (UnsafeMutablePointer<Int>, Int32) -> Result
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Result
    let cuDeviceGetPCIBusId: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Result
    /// `CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice dev)`; CUuuid is `struct { char bytes[16]; }`.
    let cuDeviceGetUuid: (@convention(c) (UnsafeMutablePointer<UInt8>, Int32) -> Result)?
    // Contexts: the device's primary context, the one the runtime API (cuBLAS, NCCL) uses too.
    let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<Handle>, Int32) -> Result
    let cuDevicePrimaryCtxRelease: @convention(c) (Int32) -> Result
    let cuCtxSetCurrent: @convention(c) (Handle) -> Result
    // Memory.
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<DevicePointer>, Int) -> Result
    let cuMemFree: @convention(c) (DevicePointer) -> Result
    let cuMemAllocHost: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) -> Result
    let cuMemFreeHost: @convention(c) (UnsafeMutableRawPointer?) -> Result
    let cuMemGetInfo: @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> Result
    let cuMemcpyHtoDAsync: @convention(c) (DevicePointer, UnsafeRawPointer?, Int, Handle) -> Result
    let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer?, DevicePointer, Int, Handle) -> Result
    /// `cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream)`.
    let cuMemsetD32Async: @convention(c) (DevicePointer, UInt32, Int, Handle) -> Result
    // Streams and events.
    let cuStreamCreate: @convention(c) (UnsafeMutablePointer<Handle>, UInt32) -> Result
    let cuStreamDestroy: @convention(c) (Handle) -> Result
    let cuStreamSynchronize: @convention(c) (Handle) -> Result
    let cuStreamQuery: @convention(c) (Handle) -> Result
    let cuStreamWaitEvent: @convention(c) (Handle, Handle, UInt32) -> Result
    let cuEventCreate: @convention(c) (UnsafeMutablePointer<Handle>, UInt32) -> Result
    let cuEventRecord: @convention(c) (Handle, Handle) -> Result
    let cuEventQuery: @convention(c) (Handle) -> Result
    let cuEventSynchronize: @convention(c) (Handle) -> Result
    let cuEventDestroy: @convention(c) (Handle) -> Result
    // Modules and launches.
    let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<Handle>, UnsafeRawPointer?) -> Result
    let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<Handle>, Handle, UnsafePointer<CChar>) -> Result
    /// `cuLaunchKernel(CUfunction f, unsigned gridDimX, gridDimY, gridDimZ, unsigned blockDimX,
    /// blockDimY, blockDimZ, unsigned sharedMemBytes, CUstream hStream, void **kernelParams, void **extra)`.
    let cuLaunchKernel: @convention(c) (Handle, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, Handle,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Result
    let cuGetErrorName: @convention(c) (Result, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Result

    /// CUDA_SUCCESS and CUDA_ERROR_NOT_READY (a query whose work has not finished), from cuda.h's
    /// `enum cudaError_enum`.
    public static let success: Result = 0
    public static let notReady: Result = 600
    /// CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR / _MINOR (cuda.h `CUdevice_attribute`).
    static let computeCapabilityMajor: Int32 = 75
    static let computeCapabilityMinor: Int32 = 76
    /// CU_STREAM_NON_BLOCKING: the stream does not wait for the legacy default stream.
    static let streamNonBlocking: UInt32 = 1
    /// CU_EVENT_DISABLE_TIMING: events used only to order work are cheaper without timing.
    static let eventDisableTiming: UInt32 = 2

    /// The names the driver library is found by: the soname the NVIDIA driver installs, and the
    /// development link name.
    public static let candidates = [DynamicLibrary.Candidate("libcuda.so.1"), DynamicLibrary.Candidate("libcuda.so")]

    public init(library: DynamicLibrary) throws {
        self.library = library
        cuInit = try library.function("cuInit")
        cuDriverGetVersion = try library.function("cuDriverGetVersion")
        cuDeviceGetCount = try library.function("cuDeviceGetCount")
        cuDeviceGet = try library.function("cuDeviceGet")
        cuDeviceGetName = try library.function("cuDeviceGetName")
        cuDeviceTotalMem = try library.function("cuDeviceTotalMem_v2")
        cuDeviceGetAttribute = try library.function("cuDeviceGetAttribute")
        cuDeviceGetPCIBusId = try library.function("cuDeviceGetPCIBusId")
        cuDeviceGetUuid = try? library.function(anyOf: ["cuDeviceGetUuid_v2", "cuDeviceGetUuid"])
        cuDevicePrimaryCtxRetain = try library.function("cuDevicePrimaryCtxRetain")
        cuDevicePrimaryCtxRelease = try library.function("cuDevicePrimaryCtxRelease_v2")
        cuCtxSetCurrent = try library.function("cuCtxSetCurrent")
        cuMemAlloc = try library.function("cuMemAlloc_v2")
        cuMemFree = try library.function("cuMemFree_v2")
        cuMemAllocHost = try library.function("cuMemAllocHost_v2")
        cuMemFreeHost = try library.function("cuMemFreeHost")
        cuMemGetInfo = try library.function("cuMemGetInfo_v2")
        cuMemcpyHtoDAsync = try library.function("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync = try library.function("cuMemcpyDtoHAsync_v2")
        cuMemsetD32Async = try library.function("cuMemsetD32Async")
        cuStreamCreate = try library.function("cuStreamCreate")
        cuStreamDestroy = try library.function("cuStreamDestroy_v2")
        cuStreamSynchronize = try library.function("cuStreamSynchronize")
        cuStreamQuery = try library.function("cuStreamQuery")
        cuStreamWaitEvent = try library.function("cuStreamWaitEvent")
        cuEventCreate = try library.function("cuEventCreate")
        cuEventRecord = try library.function("cuEventRecord")
        cuEventQuery = try library.function("cuEventQuery")
        cuEventSynchronize = try library.function("cuEventSynchronize")
        cuEventDestroy = try library.function("cuEventDestroy_v2")
        cuModuleLoadData = try library.function("cuModuleLoadData")
        cuModuleGetFunction = try library.function("cuModuleGetFunction")
        cuLaunchKernel = try library.function("cuLaunchKernel")
        cuGetErrorName = try library.function("cuGetErrorName")
    }

    /// Loads the driver and initialises it (cuInit(0)). Throws `CUDAError.noDevice` with the
    /// reason when the library is missing or the driver finds no usable device.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Driver {
        let library: DynamicLibrary
        do { library = try DynamicLibrary.open(candidates, what: "the CUDA driver (libcuda.so.1)", environment: environment) }
        catch let error as LibraryError { throw CUDAError.noDevice(error.description) }
        let driver = try Driver(library: library)
        let status = driver.cuInit(0)
        guard status == success else { throw CUDAError.noDevice("cuInit failed: \(driver.errorName(status))") }
        return driver
    }

    /// The error's name as cuda.h spells it (CUDA_ERROR_OUT_OF_MEMORY), or its number.
    public func errorName(_ status: Result) -> String {
        var text: UnsafePointer<CChar>? = nil
        guard cuGetErrorName(status, &text) == Driver.success, let text else { return "CUresult \(status)" }
        return String(cString: text)
    }

    func check(_ status: Result, _ call: @autoclosure () -> String) throws {
        guard status == Driver.success else { throw CUDAError.call(call(), errorName(status)) }
    }

    /// A query's answer: done (success), not yet (CUDA_ERROR_NOT_READY), or an error.
    func finished(_ status: Result, _ call: String) throws -> Bool {
        if status == Driver.notReady { return false }
        try check(status, call)
        return true
    }

    /// The driver's CUDA version as cuDriverGetVersion encodes it (1000 major + 10 minor), as "13.0".
    public func version() throws -> String {
        var value: Int32 = 0
        try check(cuDriverGetVersion(&value), "cuDriverGetVersion")
        return "\(value / 1000).\((value % 1000) / 10)"
    }

    public func deviceCount() throws -> Int {
        var count: Int32 = 0
        let status = cuDeviceGetCount(&count)
        // A driver with no device reports CUDA_ERROR_NO_DEVICE (100) rather than zero.
        guard status == Driver.success else { return 0 }
        return Int(count)
    }

    /// What the driver says about device `ordinal`.
    public func properties(ofDevice ordinal: Int) throws -> DeviceProperties {
        var device: Int32 = 0
        try check(cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        var name = [CChar](repeating: 0, count: 256)
        try check(cuDeviceGetName(&name, Int32(name.count), device), "cuDeviceGetName")
        var memory = 0
        try check(cuDeviceTotalMem(&memory, device), "cuDeviceTotalMem")
        var major: Int32 = 0, minor: Int32 = 0
        try check(cuDeviceGetAttribute(&major, Driver.computeCapabilityMajor, device), "cuDeviceGetAttribute")
        try check(cuDeviceGetAttribute(&minor, Driver.computeCapabilityMinor, device), "cuDeviceGetAttribute")
        var bus = [CChar](repeating: 0, count: 32)
        let busID = cuDeviceGetPCIBusId(&bus, Int32(bus.count), device) == Driver.success ? String(cString: bus) : nil
        var uuid: String?
        if let cuDeviceGetUuid {
            var bytes = [UInt8](repeating: 0, count: 16)
            if cuDeviceGetUuid(&bytes, device) == Driver.success { uuid = DeviceProperties.uuidText(bytes) }
        }
        return DeviceProperties(ordinal: ordinal, name: String(cString: name), memoryBytes: Int64(memory),
                                computeCapability: (Int(major), Int(minor)), busID: busID, uuid: uuid)
    }
}

/// A device as the driver describes it.
public struct DeviceProperties: Sendable, Equatable {
    public var ordinal: Int
    public var name: String
    public var memoryBytes: Int64
    public var computeCapability: (major: Int, minor: Int)
    /// "0000:65:00.0"
    public var busID: String?
    /// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi prints it.
    public var uuid: String?

    public init(ordinal: Int, name: String, memoryBytes: Int64, computeCapability: (major: Int, minor: Int),
                busID: String?, uuid: String?) {
        self.ordinal = ordinal; self.name = name; self.memoryBytes = memoryBytes
        self.computeCapability = computeCapability; self.busID = busID; self.uuid = uuid
    }

    public static func == (a: DeviceProperties, b: DeviceProperties) -> Bool {
        a.ordinal == b.ordinal && a.name == b.name && a.memoryBytes == b.memoryBytes
            && a.computeCapability == b.computeCapability && a.busID == b.busID && a.uuid == b.uuid
    }

    /// The NVRTC target that makes a CUBIN for this device: "sm_90".
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    /// 16 bytes in nvidia-smi's spelling: GPU- then 8-4-4-4-12 hex digits.
    static func uuidText(_ bytes: [UInt8]) -> String {
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        var parts: [Substring] = []
        var rest = Substring(hex)
        for length in [8, 4, 4, 4, 12] {
            parts.append(rest.prefix(length))
            rest = rest.dropFirst(length)
        }
        return "GPU-" + parts.joined(separator: "-")
    }
}

/// What went wrong with CUDA, in words a user can act on.
public enum CUDAError: Error, CustomStringConvertible, Sendable {
    /// No driver, no device, or a driver that cannot start: the hardware is missing (exit 3).
    case noDevice(String)
    /// A library the step needs is missing (cuBLAS, NVRTC, NCCL), or the MPI lacks CUDA: exit 3.
    case missingLibrary(String)
    /// Fewer devices than the run needs (NCCL wants one GPU per rank): exit 3.
    case tooFewDevices(String)
    /// A call failed: which, and the driver's name for the error.
    case call(String, String)
    /// NVRTC refused the kernel source; the compiler's log.
    case compilation(String)

    public var description: String {
        switch self {
        case .noDevice(let reason): return "no CUDA device: \(reason)"
        case .missingLibrary(let reason), .tooFewDevices(let reason): return reason
        case .call(let call, let error): return "\(call) failed: \(error)"
        case .compilation(let log): return "NVRTC could not compile podgap's kernels: \(log)"
        }
    }

    /// True when the cause is missing hardware or software, not a fault in the run.
    public var isMissing: Bool {
        switch self {
        case .noDevice, .missingLibrary, .tooFewDevices: return true
        case .call, .compilation: return false
        }
    }
}
