/// Where a step finds each tensor's params and grad: one pointer per tensor (swiftadam_step),
/// or one buffer per side holding the tensors end to end (swiftadam_step_contiguous, for
/// callers such as cgo, Fortran, Julia or JNA that cannot hand over an array of pointers).
/// Both feed the same validation and the same range update, so the two entry points
/// cannot drift apart and give the same bits for the same tensors.
enum TensorOperands {
    case arrays(UnsafePointer<UnsafeMutablePointer<Float>?>, UnsafePointer<UnsafePointer<Float>?>)
    /// Every tensor is stepped, so tensor i starts where the stepped tensors before it end.
    case contiguous(UnsafeMutablePointer<Float>, UnsafePointer<Float>)

    /// Whether tensor i takes part in the step (a NULL grad skips it).
    @inline(__always)
    func isStepped(_ i: Int) -> Bool {
        switch self {
        case .arrays(_, let g): return g[i] != nil
        case .contiguous: return true
        }
    }

    /// Tensor i's grad; `offset` = elements of the tensors stepped before it.
    @inline(__always)
    func grad(_ i: Int, at offset: Int) -> UnsafePointer<Float>? {
        switch self {
        case .arrays(_, let g): return g[i]
        case .contiguous(_, let g): return g + offset
        }
    }

    /// Tensor i's params; `offset` as for `grad`.
    @inline(__always)
    func param(_ i: Int, at offset: Int) -> UnsafeMutablePointer<Float>? {
        switch self {
        case .arrays(let p, _): return p[i]
        case .contiguous(let p, _): return p + offset
        }
    }
}

extension AdamState {
    /// One Adam step over every tensor, the tensors lying end to end in `params` and in
    /// `grads` in creation order (tensor i at the sum of the lengths before it). The same
    /// checks, outcome and bits as `step(params:grads:count:...)` with pointers into
    /// these buffers; nothing is allocated.
    public func stepContiguous(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                               skipNonFinite: Bool, backend: Backend = .active) throws(AdamError) -> StepOutcome {
        try step(.contiguous(params, grads), skipNonFinite: skipNonFinite, backend: backend)
    }
}
