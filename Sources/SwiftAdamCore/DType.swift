import AdamKernelBase

/// The element type of a state's tensors and moments, fixed when the state is created.
/// Raw values are SWIFTADAM_DTYPE_* and the checkpoint's dtype field.
public enum DType: UInt32, Sendable, CaseIterable {
    case float32 = 0
    case float64 = 1

    public var elementBytes: Int {
        switch self {
        case .float32: return 4
        case .float64: return 8
        }
    }

    public var name: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        }
    }

    /// The dtype whose elements are T.
    public init<T: AdamElement>(_: T.Type) {
        self = T.self == Double.self ? .float64 : .float32
    }
}

extension AdamState {
    /// Throws unless this state's tensors are T: a float64 state's bytes are never read
    /// as float32 or the other way round.
    @inline(__always)
    public func checkDType<T: AdamElement>(_: T.Type, _ entry: @autoclosure () -> String) throws(AdamError) {
        if DType(T.self) != dtype {
            throw AdamError(.dtypeMismatch, "this state holds \(dtype.name) tensors; \(entry()) takes \(DType(T.self).name)")
        }
    }
}

/// Round up to a whole number of 64-byte blocks of `elementBytes`-byte elements, in
/// elements, overflow-checked.
@inline(__always)
func paddedElements(_ n: Int, _ dtype: DType) throws(AdamError) -> Int {
    let perBlock = 64 / dtype.elementBytes
    return try checkedAdd(n, perBlock - 1, "tensor length \(n) + padding") & ~(perBlock - 1)
}
