import CMPI
import Glibc

extension MPI {
    /// Reads an MCA parameter as the library holds it, through the MPI tool interface (MPI_T),
    /// so the answer reflects mpirun flags, `OMPI_MCA_*` variables and the params files alike.
    /// Returns nil when the library does not know the variable. Callable before `initialize`.
    public static func controlVariable(named name: String) -> String? {
        controlVariables(named: [name])[name]
    }

    /// Several MCA parameters read in one MPI_T session; those the library does not know are left
    /// out. Each session costs: MPI_T_init_thread loads every component of every framework, and on
    /// Debian four of them link libpsm2 and libpsm_infinipath, whose constructors calibrate a clock
    /// by sleeping 100 ms or more (docs/tests.md). The session still ends here, as one per variable
    /// did: variables registered in it would not see `OMPI_MCA_*` set before MPI_Init.
    public static func controlVariables(named names: [String]) -> [String: String] {
        var provided: Int32 = 0
        guard MPI_T_init_thread(Int32(MPI_THREAD_SINGLE), &provided) == MPI_SUCCESS else { return [:] }
        defer { MPI_T_finalize() }
        var values: [String: String] = [:]
        for name in names { values[name] = readControlVariable(name) }
        return values
    }

    /// One variable, inside an open MPI_T session.
    private static func readControlVariable(_ name: String) -> String? {
        var index: Int32 = 0
        guard MPI_T_cvar_get_index(name, &index) == MPI_SUCCESS else { return nil }

        var nameBuffer = [CChar](repeating: 0, count: 256)
        var nameLength = Int32(nameBuffer.count)
        var verbosity: Int32 = 0, binding: Int32 = 0, scope: Int32 = 0
        var datatype: MPI_Datatype? = cmpi_datatype_null()
        var enumeration: MPI_T_enum? = cmpi_t_enum_null()
        var descriptionLength: Int32 = 0
        guard MPI_T_cvar_get_info(index, &nameBuffer, &nameLength, &verbosity, &datatype, &enumeration,
                                  nil, &descriptionLength, &binding, &scope) == MPI_SUCCESS else { return nil }

        var handle: MPI_T_cvar_handle? = cmpi_t_cvar_handle_null()
        var count: Int32 = 0
        guard MPI_T_cvar_handle_alloc(index, nil, &handle, &count) == MPI_SUCCESS else { return nil }
        defer { MPI_T_cvar_handle_free(&handle) }

        if datatype == cmpi_char() {
            var text = [CChar](repeating: 0, count: Int(max(count, 1)) + 1)
            guard MPI_T_cvar_read(handle, &text) == MPI_SUCCESS else { return nil }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        // Integers, booleans and enumerations are all read as 64 bits of room; MPI writes its own width.
        var raw = [Int64](repeating: 0, count: Int(max(count, 1)))
        guard MPI_T_cvar_read(handle, &raw) == MPI_SUCCESS else { return nil }
        if datatype == cmpi_double() {
            return String(Double(bitPattern: UInt64(bitPattern: raw[0])))
        }
        // MPI_Type_size is not callable before MPI_Init, so widths are known by handle.
        let narrow = datatype == cmpi_int() || datatype == cmpi_unsigned() || datatype == cmpi_int32()
        let value = narrow ? Int64(Int32(truncatingIfNeeded: raw[0])) : raw[0]
        return String(value)
    }
}

extension MPI {
    /// Whether this MPI reads and writes CUDA device memory. After `initialize`, Open MPI's own
    /// answer, MPIX_Query_cuda_support() from its mpi-ext.h (1: yes), found with dlsym so that
    /// other MPIs still link; before, the MCA parameter that function returns (opal_cuda_support,
    /// whose synonym is mpi_cuda_support) read through MPI_T. Nil when the library says neither.
    public static func cudaSupport() -> Bool? {
        typealias Query = @convention(c) () -> Int32
        // RTLD_DEFAULT is the null handle on glibc: any library already loaded (libmpi is).
        if isInitialized, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "MPIX_Query_cuda_support") {
            return unsafeBitCast(symbol, to: Query.self)() == 1
        }
        guard let value = controlVariable(named: "mpi_cuda_support") ?? controlVariable(named: "opal_cuda_support") else {
            return nil
        }
        return value == "1" || value == "true"
    }
}
