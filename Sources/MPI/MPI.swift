import CMPI

/// Process-wide MPI state: start, stop, clocks and versions.
public enum MPI {
    public enum ThreadLevel: Int32, Sendable {
        case single, funneled, serialized, multiple

        var raw: Int32 {
            switch self {
            case .single: return Int32(MPI_THREAD_SINGLE)
            case .funneled: return Int32(MPI_THREAD_FUNNELED)
            case .serialized: return Int32(MPI_THREAD_SERIALIZED)
            case .multiple: return Int32(MPI_THREAD_MULTIPLE)
            }
        }

        /// The level as records and tables name it: "single", "funneled" ...
        public var name: String { String(describing: self) }

        init(raw: Int32) {
            switch raw {
            case Int32(MPI_THREAD_MULTIPLE): self = .multiple
            case Int32(MPI_THREAD_SERIALIZED): self = .serialized
            case Int32(MPI_THREAD_FUNNELED): self = .funneled
            default: self = .single
            }
        }
    }

    /// Starts MPI and makes errors on `Communicator.world` return instead of aborting, so they
    /// surface as `MPIError`. Returns the thread level MPI granted.
    @discardableResult
    public static func initialize(threadLevel: ThreadLevel = .funneled) throws -> ThreadLevel {
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, threadLevel.raw, &provided), "MPI_Init_thread")
        try check(MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        try check(MPI_Comm_set_errhandler(cmpi_comm_self(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        return ThreadLevel(raw: provided)
    }

    public static func finalize() throws {
        try check(MPI_Finalize(), "MPI_Finalize")
    }

    public static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    public static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    /// Ends every rank of the job; for when one rank knows the job cannot go on.
    public static func abort(code: Int32) -> Never {
        MPI_Abort(cmpi_comm_world(), code)
        fatalError("MPI_Abort returned")
    }

    /// Seconds since an arbitrary time in the past (MPI_Wtime).
    @inline(__always)
    public static var wallTime: Double { MPI_Wtime() }

    /// Resolution of `wallTime` in seconds.
    public static var wallTimeResolution: Double { MPI_Wtick() }

    /// The library's own version text, e.g. "Open MPI v4.1.4, ...". Callable before initialize.
    public static var libraryVersion: String {
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Get_library_version(&text, &length) == MPI_SUCCESS else { return "unknown" }
        let line = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return line.trimmingCharacters(in: [" ", "\n", "\0"])
    }

    /// The MPI standard version the library implements, e.g. (3, 1).
    public static var standardVersion: (major: Int, minor: Int) {
        var major: Int32 = 0, minor: Int32 = 0
        MPI_Get_version(&major, &minor)
        return (Int(major), Int(minor))
    }

    /// The name MPI gives this process's node.
    public static var processorName: String {
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_PROCESSOR_NAME) + 1)
        var length: Int32 = 0
        guard MPI_Get_processor_name(&text, &length) == MPI_SUCCESS else { return "unknown" }
        return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
