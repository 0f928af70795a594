import Foundation

/// NVML (libnvidia-ml.so.1, installed with the NVIDIA driver), typed from nvml.h: what
/// `nvidia-smi` reports about each GPU, read without making a CUDA context. Every function returns
/// an `nvmlReturn_t` (a C enum: int32), 0 being NVML_SUCCESS; nvmlDevice_t is an opaque pointer.
/// Exported names are the versioned ones nvml.h maps to (`#define nvmlInit nvmlInit_v2`, likewise
/// nvmlDeviceGetCount_v2, nvmlDeviceGetHandleByIndex_v2, nvmlDeviceGetPciInfo_v3).
public enum ManagementLibrary {
    public static let candidates = [DynamicLibrary.Candidate("libnvidia-ml.so.1"), DynamicLibrary.Candidate("libnvidia-ml.so")]

    /// One GPU as NVML describes it.
    public struct GPU: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var uuid: String?
        public var memoryBytes: Int64?
        /// NVML's spelling: "00000000:65:00.0".
        public var busID: String?

        public init(index: Int, name: String, uuid: String? = nil, memoryBytes: Int64? = nil, busID: String? = nil) {
            self.index = index; self.name = name; self.uuid = uuid; self.memoryBytes = memoryBytes; self.busID = busID
        }
    }

    /// The driver's version ("580.65.06"), the CUDA version it supports ("13.0"), and its GPUs;
    /// nil where NVML is absent or finds no driver.
    public static func survey(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (driverVersion: String?, cudaVersion: String?, gpus: [GPU])? {
        guard let library = try? DynamicLibrary.open(candidates, what: "NVML (libnvidia-ml.so.1)", environment: environment),
              let initialise: @convention(c) () -> Int32 = try? library.function(anyOf: ["nvmlInit_v2", "nvmlInit"]),
              let shutdown: @convention(c) () -> Int32 = try? library.function("nvmlShutdown") else { return nil }
        guard initialise() == 0 else { return nil }
        defer { _ = shutdown() }

        typealias Text = @convention(c) (UnsafeMutablePointer<CChar>, UInt32) -> Int32
        typealias DeviceText = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
        func text(_ call: (UnsafeMutablePointer<CChar>, UInt32) -> Int32) -> String? {
            var buffer = [CChar](repeating: 0, count: 256)
            return call(&buffer, UInt32(buffer.count)) == 0 ? String(cString: buffer) : nil
        }
        let driverVersion = (try? library.function("nvmlSystemGetDriverVersion", as: Text.self)).flatMap { text($0) }
        var cudaVersion: String?
        if let get: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32 =
            try? library.function(anyOf: ["nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"]) {
            var code: Int32 = 0
            if get(&code) == 0 { cudaVersion = "\(code / 1000).\((code % 1000) / 10)" }
        }

        var gpus: [GPU] = []
        guard let count: @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32 =
                try? library.function(anyOf: ["nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"]),
              let byIndex: @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32 =
                try? library.function(anyOf: ["nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"]) else {
            return (driverVersion, cudaVersion, [])
        }
        let name = try? library.function("nvmlDeviceGetName", as: DeviceText.self)
        let uuid = try? library.function("nvmlDeviceGetUUID", as: DeviceText.self)
        // nvmlMemory_t: { unsigned long long total, free, used; }.
        let memory: (@convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>) -> Int32)? =
            try? library.function("nvmlDeviceGetMemoryInfo")
        // nvmlPciInfo_t (v3): char busIdLegacy[16]; unsigned int domain, bus, device, pciDeviceId,
        // pciSubSystemId; char busId[32] — 68 bytes, busId at byte 36.
        let pci: (@convention(c) (OpaquePointer?, UnsafeMutableRawPointer) -> Int32)? =
            try? library.function(anyOf: ["nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2"])
        var devices: UInt32 = 0
        guard count(&devices) == 0 else { return (driverVersion, cudaVersion, []) }
        for index in 0..<devices {
            var device: OpaquePointer? = nil
            guard byIndex(index, &device) == 0 else { continue }
            var gpu = GPU(index: Int(index), name: name.flatMap { get in text { get(device, $0, $1) } } ?? "NVIDIA GPU")
            gpu.uuid = uuid.flatMap { get in text { get(device, $0, $1) } }
            if let memory {
                var values = [UInt64](repeating: 0, count: 3)
                if memory(device, &values) == 0 { gpu.memoryBytes = Int64(values[0]) }
            }
            if let pci {
                let info = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
                defer { info.deallocate() }
                info.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
                if pci(device, info) == 0 {
                    gpu.busID = String(cString: (info + 36).assumingMemoryBound(to: CChar.self))
                }
            }
            gpus.append(gpu)
        }
        return (driverVersion, cudaVersion, gpus)
    }
}

/// PCI addresses as domain:bus:device.function numbers, whatever the zero padding
/// ("00000000:65:00.0" from NVML, "0000:65:00.0" from hwloc and the driver).
public struct PCIAddress: Hashable, Sendable {
    public var domain: UInt32, bus: UInt32, device: UInt32, function: UInt32

    public init?(_ text: String) {
        let parts = text.lowercased().split(whereSeparator: { $0 == ":" || $0 == "." })
        guard parts.count == 4, let domain = UInt32(parts[0], radix: 16), let bus = UInt32(parts[1], radix: 16),
              let device = UInt32(parts[2], radix: 16), let function = UInt32(parts[3], radix: 16) else { return nil }
        self.domain = domain; self.bus = bus; self.device = device; self.function = function
    }

    /// "0000:65:00.0", as Linux names the device in /sys/bus/pci/devices.
    public var text: String { String(format: "%04x:%02x:%02x.%x", domain, bus, device, function) }
}
