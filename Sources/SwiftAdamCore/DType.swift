import AdamKernelBase

/// The element type of a state's tensors, fixed when the state is created. Raw values are
/// SWIFTADAM_DTYPE_* and the checkpoint's dtype field. float16 and bfloat16 states keep
/// float32 moments and a float32 master copy of the params (mixed precision).
public enum DType: UInt32, Sendable, CaseIterable {
    case float32 = 0
    case float64 = 1
    case float16 = 2
    case bfloat16 = 3

    /// Bytes of one element of the state's own arrays (moments, master): float32's for
    /// the 16-bit dtypes.
    public var elementBytes: Int {
        switch self {
        case .float64: return 8
        default: return 4
        }
    }

    /// The 16-bit format of the params, for states that keep a master copy.
    public var half: HalfFormat? {
        switch self {
        case .float16: return .float16
        case .bfloat16: return .bfloat16
        default: return nil
        }
    }

    /// The dtype of the moments (and master): what get_moment/set_moment take.
    public var stateDType: DType { self == .float64 ? .float64 : .float32 }

    public var name: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
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

extension AdamState {
    /// Throws unless the state's moments (and master) are T: float32 for the 16-bit dtypes.
    public func checkStateDType<T: AdamElement>(_: T.Type, _ entry: @autoclosure () -> String) throws(AdamError) {
        if DType(T.self) != dtype.stateDType {
            throw AdamError(.dtypeMismatch, "this state holds \(dtype.stateDType.name) moments; \(entry()) takes \(DType(T.self).name)")
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
