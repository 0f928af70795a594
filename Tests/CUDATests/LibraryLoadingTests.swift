import Foundation
@testable import CUDA
import Testing

/// Loading CUDA's libraries where they are absent, incomplete, or stand-ins built here from C:
/// the failure paths a machine without a GPU takes, and the calling conventions a GPU host
/// relies on (NCCL's unique id passed by value).
@Suite(.enabled(if: CCompiler.path != nil, "no C compiler (cc) to build stand-in libraries"))
struct LibraryLoadingTests {
    /// A folder the tests own, removed at the end.
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-cuda-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    var only: [String: String] { ["PODGAP_CUDA_LIBRARY_PATH": folder.path] }

    @Test func noDriverIsNoCUDADeviceNamingWhatWasTried() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try Driver.load(environment: only)
            Issue.record("a driver loaded from an empty folder")
        } catch let error as CUDAError {
            #expect(error.isMissing)
            #expect(error.description.hasPrefix("no CUDA device: cannot load the CUDA driver (libcuda.so.1)"))
            #expect(error.description.contains("libcuda.so.1, libcuda.so"))
            #expect(error.description.contains("\(folder.path)/libcuda.so.1: no such file"))
        }
    }

    /// PODGAP_CUDA_LIBRARY_PATH is the only place looked in: a library elsewhere is not mixed in.
    @Test func theLibraryPathIsTheOnlyPlaceLookedIn() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: LibraryError.self) {
            _ = try DynamicLibrary.open([DynamicLibrary.Candidate("libc.so.6")], what: "libc", environment: only)
        }
        let c = try DynamicLibrary.open([DynamicLibrary.Candidate("libc.so.6")], what: "libc", environment: [:])
        #expect(c.path == "libc.so.6")
        let (onlyFolders, _) = DynamicLibrary.searchFolders(environment: ["PODGAP_CUDA_LIBRARY_PATH": "/a:/b"])
        #expect(onlyFolders == ["/a", "/b"])
        let (none, last) = DynamicLibrary.searchFolders(environment: ["CUDA_HOME": "/opt/cuda"])
        #expect(none == nil && last.first == "/opt/cuda/lib64" && last.contains("/usr/local/cuda/lib64"))
    }

    /// A driver that lacks a function podgap calls is refused when loaded, not when first called.
    @Test func aDriverMissingAFunctionIsRefusedAtLoad() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try CCompiler.library("int cuInit(unsigned int flags) { return 0; }\n", named: "libcuda.so.1", in: folder)
        do {
            _ = try Driver.load(environment: only)
            Issue.record("an incomplete driver loaded")
        } catch let error as LibraryError {
            #expect(error.description.contains("has no symbol cuDriverGetVersion"))
        }
    }

    /// Versioned names first: a folder with only the CUDA 12 name still loads.
    @Test func olderVersionedNamesAreAccepted() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try CCompiler.library("int nvrtcVersion(int *a, int *b) { *a = 12; *b = 9; return 0; }\n", named: "libnvrtc.so.12", in: folder)
        let library = try DynamicLibrary.open(RuntimeCompiler.candidates, what: "NVRTC", environment: only)
        #expect(library.path == "\(folder.path)/libnvrtc.so.12")
        // The CUDA 13 name wins when both are there.
        try CCompiler.library("int nvrtcVersion(int *a, int *b) { *a = 13; *b = 0; return 0; }\n", named: "libnvrtc.so.13", in: folder)
        #expect(try DynamicLibrary.open(RuntimeCompiler.candidates, what: "NVRTC", environment: only).path == "\(folder.path)/libnvrtc.so.13")
    }

    /// ncclCommInitRank takes its 128-byte id by value: the trampoline must hand over every byte,
    /// and the ranks, unchanged. The stand-in keeps what it received for the test to read back.
    @Test func ncclsUniqueIDArrivesByValue() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try CCompiler.library("""
        #include <string.h>
        typedef struct { char internal[128]; } ncclUniqueId;
        static ncclUniqueId seen; static int seen_ranks = -1, seen_rank = -1; static int comm_token;
        int ncclGetVersion(int *v) { *v = 22803; return 0; }
        int ncclGetUniqueId(ncclUniqueId *id) { for (int i = 0; i < 128; i++) id->internal[i] = (char)(255 - i); return 0; }
        int ncclCommInitRank(void **comm, int nranks, ncclUniqueId id, int rank) {
            seen = id; seen_ranks = nranks; seen_rank = rank; *comm = &comm_token; return 0;
        }
        int ncclAllReduce(const void *s, void *r, unsigned long n, int t, int o, void *c, void *st) { return 0; }
        int ncclCommDestroy(void *comm) { return comm == &comm_token ? 0 : 4; }
        const char *ncclGetErrorString(int r) { return "stand-in"; }
        const char *seen_id(void) { return seen.internal; }
        int seen_ranks_count(void) { return seen_ranks; }
        int seen_rank_index(void) { return seen_rank; }
        """, named: "libnccl.so.2", in: folder)
        let library = try DynamicLibrary.open(NCCL.candidates, what: "NCCL", environment: only)
        let nccl = try NCCL(library: library)
        #expect(nccl.version() == "2.28.3")
        let id = try nccl.uniqueID()
        #expect(id.count == 128 && id[0] == 255 && id[127] == 128)
        var sent = [UInt8](repeating: 0, count: 128)
        for index in sent.indices { sent[index] = UInt8((index * 37 + 11) % 256) }
        let communicator = try nccl.communicator(uniqueID: sent, ranks: 5, rank: 3)
        let seenID: @convention(c) () -> UnsafePointer<CChar> = try library.function("seen_id")
        let ranks: @convention(c) () -> Int32 = try library.function("seen_ranks_count")
        let rank: @convention(c) () -> Int32 = try library.function("seen_rank_index")
        let received = UnsafeRawBufferPointer(start: seenID(), count: 128).map { $0 }
        #expect(received == sent)
        #expect(ranks() == 5 && rank() == 3)
        _ = communicator
    }

    @Test func versionsAndNamesAreSpelledAsTheToolsSpellThem() {
        #expect(NCCL.versionText(22803) == "2.28.3")
        #expect(NCCL.versionText(2708) == "2.7.8")
        #expect(NCCL.uniqueIDBytes == 128)
        let uuid = DeviceProperties.uuidText((0..<16).map { UInt8($0) })
        #expect(uuid == "GPU-00010203-0405-0607-0809-0a0b0c0d0e0f")
        #expect(PCIAddress("00000000:65:00.0") == PCIAddress("0000:65:00.0"))
        #expect(PCIAddress("0000:CA:00.0")?.text == "0000:ca:00.0")
        #expect(PCIAddress("65:00.0") == nil)
        var properties = DeviceProperties(ordinal: 0, name: "H200", memoryBytes: 1, computeCapability: (9, 0), busID: nil, uuid: nil)
        #expect(properties.architecture == "sm_90")
        properties.computeCapability = (10, 3)
        #expect(properties.architecture == "sm_103")
        #expect(BLAS.Compute.fp32.rawValue == 68 && BLAS.Compute.tf32.rawValue == 77 && BLAS.Compute.bf16.rawValue == 75)
    }
}

/// The host's C compiler, for stand-in shared libraries.
enum CCompiler {
    static var path: String? {
        ["/usr/bin/cc", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func library(_ source: String, named name: String, in folder: URL) throws {
        let file = folder.appendingPathComponent("\(name).c")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = ["-shared", "-fPIC", "-Wl,-soname,\(name)", "-o", folder.appendingPathComponent(name).path, file.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw LibraryError(library: name, names: [name], attempts: ["cc failed"]) }
    }
}
