import MPI

/// The element types a kernel can be run with (`--dtype`).
public enum ElementType: String, CaseIterable, Sendable {
    case float32, float64, int32

    public var byteCount: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64: return 8
        }
    }
}

/// Element types whose sums of small integers are exact, which is what result checks rely on.
public protocol ExactlySummable: MPIElement, Numeric {
    init(_ value: Int)
}

extension Float: ExactlySummable {}
extension Double: ExactlySummable {}
extension Int32: ExactlySummable {}
