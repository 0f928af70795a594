import CMPI

extension MPI {
    /// The names of every control variable (MCA parameter) the library registers, through MPI_T.
    /// Open MPI registers each component's parameters whether or not the component is selected, so
    /// `btl_tcp_...` names tell that the tcp component is installed. Callable before `initialize`.
    public static func controlVariableNames() -> [String] {
        var provided: Int32 = 0
        guard MPI_T_init_thread(Int32(MPI_THREAD_SINGLE), &provided) == MPI_SUCCESS else { return [] }
        defer { MPI_T_finalize() }
        var count: Int32 = 0
        guard MPI_T_cvar_get_num(&count) == MPI_SUCCESS else { return [] }
        var names: [String] = []
        for index in 0..<count {
            var name = [CChar](repeating: 0, count: 256)
            var length = Int32(name.count)
            var verbosity: Int32 = 0, binding: Int32 = 0, scope: Int32 = 0, descriptionLength: Int32 = 0
            var datatype: MPI_Datatype? = cmpi_datatype_null()
            var enumeration: MPI_T_enum? = cmpi_t_enum_null()
            guard MPI_T_cvar_get_info(index, &name, &length, &verbosity, &datatype, &enumeration,
                                      nil, &descriptionLength, &binding, &scope) == MPI_SUCCESS else { continue }
            names.append(String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }
}
