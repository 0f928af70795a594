import Foundation

/// A shared library opened at run time, so that podgap builds and runs where CUDA is absent and
/// finds it where it is present: the driver (libcuda.so.1) comes with the NVIDIA driver, the
/// toolkit's libraries (cuBLAS, NVRTC) often live outside the loader's path (/usr/local/cuda/lib64).
/// Libraries stay loaded for the life of the process: CUDA's do not support being unloaded.
public final class DynamicLibrary: @unchecked Sendable {
    /// The path or name dlopen accepted.
    public let path: String
    private let handle: UnsafeMutableRawPointer

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// One version of a library: its file name and the libraries of the same release that must
    /// come from the same folder (cuBLAS needs its cuBLASLt; NVRTC its builtins).
    public struct Candidate: Sendable {
        public var name: String
        /// File names, or prefixes ending in "*", of companions loaded first from the same folder.
        public var companions: [String]
        public init(_ name: String, companions: [String] = []) { self.name = name; self.companions = companions }
    }

    /// Where libraries are looked for. `PODGAP_CUDA_LIBRARY_PATH` (colon-separated folders), when
    /// set, is the only place: a run (or a test's stand-ins) then never mixes in another
    /// installation's libraries. Otherwise the loader's own path (LD_LIBRARY_PATH, the ldconfig
    /// cache) first, then the toolkit's usual homes, which the loader often does not know.
    public static func searchFolders(environment: [String: String] = ProcessInfo.processInfo.environment) -> (only: [String]?, last: [String]) {
        let only = (environment["PODGAP_CUDA_LIBRARY_PATH"] ?? "").split(separator: ":").map(String.init)
        guard only.isEmpty else { return (only, []) }
        var last: [String] = []
        for variable in ["CUDA_HOME", "CUDA_PATH"] {
            if let home = environment[variable], !home.isEmpty { last += ["\(home)/lib64", "\(home)/lib"] }
        }
        last += ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/lib/x86_64-linux-gnu"]
        return (nil, last)
    }

    /// Opens the first candidate that loads: from `PODGAP_CUDA_LIBRARY_PATH`'s folders where it
    /// is set; else by name (the loader's path), then from the toolkit's folders. Throws a
    /// `LibraryError` naming every attempt when none loads.
    public static func open(_ candidates: [Candidate], what: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DynamicLibrary {
        let (only, last) = searchFolders(environment: environment)
        var attempts: [String] = []
        for candidate in candidates {
            let places: [String?] = only ?? ([nil] + last.map { $0 })
            for folder in places {
                let path = folder.map { "\($0)/\(candidate.name)" } ?? candidate.name
                if folder != nil, !FileManager.default.fileExists(atPath: path) {
                    if only != nil { attempts.append("\(path): no such file") }
                    continue
                }
                if let folder { loadCompanions(candidate.companions, from: folder) }
                if let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) {
                    return DynamicLibrary(path: path, handle: handle)
                }
                attempts.append(String(cString: dlerror()))
            }
        }
        throw LibraryError(library: what, names: candidates.map(\.name), attempts: attempts)
    }

    /// Loads a candidate's companions from `folder`, so that the library's own dependencies
    /// resolve to the same release (the loader matches an already loaded soname).
    private static func loadCompanions(_ companions: [String], from folder: String) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for companion in companions {
            let matches = companion.hasSuffix("*")
                ? files.filter { $0.hasPrefix(companion.dropLast()) }.sorted()
                : files.filter { $0 == companion }
            for file in matches { _ = dlopen("\(folder)/\(file)", RTLD_NOW | RTLD_GLOBAL) }
        }
    }

    /// The function `name`, typed as the caller declares it (a `@convention(c)` function type
    /// written from the library's header).
    public func function<T>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let address = dlsym(handle, name) else {
            throw LibraryError(library: path, names: [name], attempts: ["\(path) has no symbol \(name)"])
        }
        return unsafeBitCast(address, to: type)
    }

    /// The first of `names` the library exports (newer versioned entry points first).
    public func function<T>(anyOf names: [String], as type: T.Type = T.self) throws -> T {
        for name in names {
            if let address = dlsym(handle, name) { return unsafeBitCast(address, to: type) }
        }
        throw LibraryError(library: path, names: names, attempts: ["\(path) has none of \(names.joined(separator: ", "))"])
    }

    /// The function `name` where the library has it.
    public func optionalFunction<T>(_ name: String, as type: T.Type = T.self) -> T? {
        dlsym(handle, name).map { unsafeBitCast($0, to: type) }
    }

    /// A symbol of any library already loaded into the process (MPI's extensions, say).
    public static func loadedFunction<T>(_ name: String, as type: T.Type = T.self) -> T? {
        // RTLD_DEFAULT is the null handle on glibc.
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: type) }
    }
}

/// A library that could not be loaded, or lacks a function podgap needs.
public struct LibraryError: Error, CustomStringConvertible, Sendable {
    public var library: String
    public var names: [String]
    /// What dlopen or dlsym said, attempt by attempt.
    public var attempts: [String]

    public var description: String {
        let reason = attempts.first ?? "not found"
        return "cannot load \(library) (tried \(names.joined(separator: ", ")); \(reason))"
    }
}
