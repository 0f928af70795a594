import CMPI

/// An MPI datatype handle. Call sites name Swift element types; this is how they reach MPI.
public struct Datatype: @unchecked Sendable {
    @usableFromInline let handle: MPI_Datatype

    @usableFromInline init(_ handle: MPI_Datatype) { self.handle = handle }

    /// Size in bytes of one element of this type, as MPI sees it.
    public func size() throws -> Int {
        var bytes: Int32 = 0
        try check(MPI_Type_size(handle, &bytes), "MPI_Type_size")
        return Int(bytes)
    }
}

/// A Swift type that MPI can send, receive and reduce without the caller passing a datatype.
public protocol MPIElement {
    static var mpiDatatype: Datatype { get }
}

extension Float: MPIElement { @inlinable public static var mpiDatatype: Datatype { Datatype(cmpi_float()) } }
extension Double: MPIElement { @inlinable public static var mpiDatatype: Datatype { Datatype(cmpi_double()) } }
extension Int32: MPIElement { @inlinable public static var mpiDatatype: Datatype { Datatype(cmpi_int32()) } }
extension Int64: MPIElement { @inlinable public static var mpiDatatype: Datatype { Datatype(cmpi_int64()) } }
extension UInt8: MPIElement { @inlinable public static var mpiDatatype: Datatype { Datatype(cmpi_uint8()) } }
extension UInt32: MPIElement { @inlinable public static var mpiDatatype: Datatype { Datatype(cmpi_uint32()) } }
extension UInt64: MPIElement { @inlinable public static var mpiDatatype: Datatype { Datatype(cmpi_uint64()) } }

/// A reduction operation over elements.
public enum ReductionOperation: String, Sendable, CaseIterable {
    case sum, min, max, product

    @usableFromInline var handle: MPI_Op {
        switch self {
        case .sum: return cmpi_op_sum()
        case .min: return cmpi_op_min()
        case .max: return cmpi_op_max()
        case .product: return cmpi_op_prod()
        }
    }
}
