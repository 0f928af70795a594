import Foundation

/// NVRTC (libnvrtc.so.13 or .12), typed from nvrtc.h: CUDA C source compiled at run time into a
/// CUBIN for the device at hand, as CuPy compiles its elementwise kernels. Every function returns
/// an `nvrtcResult` (a C enum: int32), 0 being NVRTC_SUCCESS; nvrtcProgram is an opaque pointer.
public final class RuntimeCompiler: @unchecked Sendable {
    public let library: DynamicLibrary

    let nvrtcVersion: @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32
    /// `nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name, int numHeaders,
    /// const char * const *headers, const char * const *includeNames)`.
    let nvrtcCreateProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>?,
                                            Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    /// `nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char * const *options)`.
    let nvrtcCompileProgram: @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    let nvrtcGetProgramLogSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
    let nvrtcGetProgramLog: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32
    /// CUBIN for a real architecture (`--gpu-architecture=sm_XY`), NVRTC 11.1 and later: loaded
    /// as it is, with no PTX JIT step that an older driver might not support.
    let nvrtcGetCUBINSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
    let nvrtcGetCUBIN: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32
    let nvrtcDestroyProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    let nvrtcGetErrorString: @convention(c) (Int32) -> UnsafePointer<CChar>?

    /// NVRTC 13 (CUDA 13) first, then 12. NVRTC loads its builtins library (same release) itself;
    /// loading it first from the same folder makes it found where the folder is off the loader's path.
    public static let candidates = [
        DynamicLibrary.Candidate("libnvrtc.so.13", companions: ["libnvrtc-builtins.so.13*"]),
        DynamicLibrary.Candidate("libnvrtc.so.12", companions: ["libnvrtc-builtins.so.12*"]),
        DynamicLibrary.Candidate("libnvrtc.so", companions: ["libnvrtc-builtins.so*"]),
    ]

    public init(library: DynamicLibrary? = nil) throws {
        let library = try library ?? RuntimeCompiler.load()
        self.library = library
        nvrtcVersion = try library.function("nvrtcVersion")
        nvrtcCreateProgram = try library.function("nvrtcCreateProgram")
        nvrtcCompileProgram = try library.function("nvrtcCompileProgram")
        nvrtcGetProgramLogSize = try library.function("nvrtcGetProgramLogSize")
        nvrtcGetProgramLog = try library.function("nvrtcGetProgramLog")
        nvrtcGetCUBINSize = try library.function("nvrtcGetCUBINSize")
        nvrtcGetCUBIN = try library.function("nvrtcGetCUBIN")
        nvrtcDestroyProgram = try library.function("nvrtcDestroyProgram")
        nvrtcGetErrorString = try library.function("nvrtcGetErrorString")
    }

    public static func load() throws -> DynamicLibrary {
        do { return try DynamicLibrary.open(candidates, what: "NVRTC (libnvrtc.so.13 or .so.12)") }
        catch let error as LibraryError {
            throw CUDAError.missingLibrary("\(error.description): install the CUDA toolkit's NVRTC, or put its folder in PODGAP_CUDA_LIBRARY_PATH")
        }
    }

    /// "13.0"
    public func version() -> String {
        var major: Int32 = 0, minor: Int32 = 0
        _ = nvrtcVersion(&major, &minor)
        return "\(major).\(minor)"
    }

    /// Compiles `source` for `architecture` ("sm_90") and returns the CUBIN image.
    public func compile(_ source: String, name: String, architecture: String) throws -> [UInt8] {
        var program: OpaquePointer? = nil
        try check(nvrtcCreateProgram(&program, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = nvrtcDestroyProgram(&program) }
        // -default-device is not used: every kernel is written __global__ and extern "C".
        let options = ["--gpu-architecture=\(architecture)", "--std=c++17"]
        let status = withCStrings(options) { nvrtcCompileProgram(program, Int32(options.count), $0) }
        guard status == 0 else {
            throw CUDAError.compilation("\(errorString(status)) for \(architecture): \(log(of: program))")
        }
        var size = 0
        try check(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize")
        var image = [CChar](repeating: 0, count: size)
        try check(nvrtcGetCUBIN(program, &image), "nvrtcGetCUBIN")
        return image.map { UInt8(bitPattern: $0) }
    }

    private func log(of program: OpaquePointer?) -> String {
        var size = 0
        guard nvrtcGetProgramLogSize(program, &size) == 0, size > 1 else { return "(no log)" }
        var text = [CChar](repeating: 0, count: size)
        _ = nvrtcGetProgramLog(program, &text)
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func errorString(_ status: Int32) -> String {
        nvrtcGetErrorString(status).map { String(cString: $0) } ?? "nvrtcResult \(status)"
    }

    private func check(_ status: Int32, _ call: String) throws {
        guard status != 0 else { return }
        throw CUDAError.call(call, errorString(status))
    }
}

/// Runs `body` with a C array of C strings that live for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
