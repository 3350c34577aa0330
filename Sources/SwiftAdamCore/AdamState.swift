import AdamKernelBase

/// The moments of one tensor group, and how they are laid out.
public enum Moment: Int, Sendable, CaseIterable {
    case expAvg = 0, expAvgSq = 1, maxExpAvgSq = 2
    public var name: String {
        switch self {
        case .expAvg: return "exp_avg"
        case .expAvgSq: return "exp_avg_sq"
        case .maxExpAvgSq: return "max_exp_avg_sq"
        }
    }
}

/// Optimizer state for one group of float32 or float64 tensors (torch's param group).
/// All memory is allocated in `init` and never reallocated: m, v and (amsgrad) vmax
/// live in one arena of the state's dtype, each tensor's slice starting on a 64-byte
/// boundary; lengths, offsets (in elements) and steps live in one table. Both are
/// allocated fallibly (their sizes are the caller's): running out of memory is an error,
/// never a trap.
public final class AdamState {
    let table: TensorTable
    /// The element type of the tensors and of the moments.
    public let dtype: DType
    /// Elements per moment region (sum of padded lengths).
    let regionElements: Int
    let storage: AlignedStorage
    public internal(set) var hyper: Hyperparameters
    /// 0 = default (SWIFTADAM_NUM_THREADS or available cores).
    public var requestedThreads: Int = 0

    /// The largest step count we accept: torch keeps `step` as a float64 tensor.
    public static let maxStep: UInt64 = 1 << 53

    /// A zeroed state for tensors of these lengths (read once: the caller's memory may
    /// change under us, the table is what counts).
    public convenience init<C: Collection>(lengths: C, hyper: Hyperparameters,
                                           dtype: DType = .float32) throws(AdamError) where C.Element == Int {
        if lengths.isEmpty {
            throw AdamError(.invalidArgument, "num_tensors must be >= 1, got 0")
        }
        try hyper.validate()
        let table = try TensorTable(count: lengths.count)
        var i = 0
        for n in lengths where i < table.count {
            table.lengths[i] = n
            i += 1
        }
        try self.init(table: table, hyper: hyper, dtype: dtype)
    }

    /// A zeroed state over a filled-in table (lengths and steps set; offsets computed here).
    init(table: TensorTable, hyper: Hyperparameters, dtype: DType) throws(AdamError) {
        if table.count == 0 {
            throw AdamError(.invalidArgument, "num_tensors must be >= 1, got 0")
        }
        try hyper.validate()
        var total = 0
        for i in 0..<table.count {
            let n = table.lengths[i]
            if n < 0 { throw AdamError(.overflow, "lengths[\(i)] = \(UInt(bitPattern: n)) does not fit in a signed size") }
            table.offsets[i] = total
            total = try checkedAdd(total, try paddedElements(n, dtype), "total state size at lengths[\(i)] = \(n)")
        }
        let regions = AdamState.regions(hyper, dtype)
        let all = try checkedMul(total, regions, "state of \(total) elements x \(regions) regions")
        let bytes = try checkedMul(all, dtype.elementBytes, "state of \(all) \(dtype.stateDType.name) elements")
        storage = try AlignedStorage(bytes: bytes)
        switch dtype.stateDType {
        case .float64: storage.raw.bindMemory(to: Double.self, capacity: all)
        default: storage.raw.bindMemory(to: Float.self, capacity: all)
        }
        self.table = table
        self.dtype = dtype
        regionElements = total
        self.hyper = hyper
    }

    /// Element count of each tensor.
    public var lengths: TensorColumn<Int> { TensorColumn(owner: table, base: table.lengths) }
    /// Updates applied to each tensor (torch's per-parameter state["step"]).
    public var steps: TensorColumn<UInt64> { TensorColumn(owner: table, base: table.steps) }

    public var amsgrad: Bool { hyper.flags.contains(.amsgrad) }
    /// Moment regions (2, or 3 with amsgrad); a master region follows them for 16-bit dtypes.
    var momentRegions: Int { amsgrad ? 3 : 2 }
    static func regions(_ h: Hyperparameters, _ dtype: DType) -> Int {
        (h.flags.contains(.amsgrad) ? 3 : 2) + (dtype.half == nil ? 0 : 1)
    }
    public var count: Int { table.count }
    /// Elements over all tensors (not counting padding).
    public var totalElements: Int { lengths.reduce(0, +) }

    /// Base of moment `which` of tensor `i`; nil for vmax without amsgrad.
    /// `i` must be a valid index (callers check with `checkIndex`).
    @inline(__always)
    func rawPointer(_ which: Moment, _ i: Int) -> UnsafeMutableRawPointer? {
        if which == .maxExpAvgSq && !amsgrad { return nil }
        return storage.raw + (which.rawValue * regionElements + table.offsets[i]) * dtype.elementBytes
    }

    /// rawPointer as T; T must be the state's dtype (callers check with `checkDType`).
    @inline(__always)
    func pointer<T: AdamElement>(_ which: Moment, _ i: Int, _: T.Type) -> UnsafeMutablePointer<T>? {
        rawPointer(which, i)?.assumingMemoryBound(to: T.self)
    }

    public func checkIndex(_ i: Int) throws(AdamError) {
        if i < 0 || i >= count {
            throw AdamError(.invalidArgument, "index must be < num_tensors = \(count), got \(UInt(bitPattern: i))")
        }
    }

    public func setHyperparameters(_ h: Hyperparameters) throws(AdamError) {
        try h.validate()
        if h.flags.contains(.amsgrad) != amsgrad {
            throw AdamError(.invalidArgument, "amsgrad cannot change after creation (state has amsgrad=\(amsgrad), config asks amsgrad=\(!amsgrad))")
        }
        hyper = h
    }

    public func setLR(_ lr: Double) throws(AdamError) {
        try Hyperparameters.validateLR(lr)
        hyper.lr = lr
    }

    public func setStep(_ i: Int, _ step: UInt64) throws(AdamError) {
        try checkIndex(i)
        if step > AdamState.maxStep {
            throw AdamError(.invalidArgument, "step must be <= 2^53, got \(step)")
        }
        table.steps[i] = step
    }

    public func copyMoment<T: AdamElement>(_ which: Moment, _ i: Int, to out: UnsafeMutablePointer<T>,
                                           capacity: Int) throws(AdamError) {
        let (src, n) = try momentRegion(which, i, T.self, "get_moment")
        if capacity < n {
            throw AdamError(.bufferTooSmall, "capacity must be >= tensor \(i)'s length \(n), got \(capacity)")
        }
        // Raw bytes: a generic typed copy would run element by element when unspecialised.
        UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: n * dtype.elementBytes)
    }

    public func setMoment<T: AdamElement>(_ which: Moment, _ i: Int, from src: UnsafePointer<T>,
                                          count: Int) throws(AdamError) {
        let (dst, n) = try momentRegion(which, i, T.self, "set_moment")
        if count != n {
            throw AdamError(.sizeMismatch, "count must equal tensor \(i)'s length \(n), got \(UInt(bitPattern: count))")
        }
        dst.copyMemory(from: src, byteCount: n * dtype.elementBytes)
    }

    /// Moment `which` of tensor `i` and its length, after the checks both copies make.
    private func momentRegion<T: AdamElement>(_ which: Moment, _ i: Int, _: T.Type,
                                              _ entry: String) throws(AdamError) -> (UnsafeMutableRawPointer, Int) {
        try checkStateDType(T.self, entry + (T.self == Double.self ? "_f64" : ""))
        try checkIndex(i)
        guard let region = rawPointer(which, i) else {
            throw AdamError(.invalidArgument, "which = max_exp_avg_sq needs a state created with amsgrad")
        }
        return (region, table.lengths[i])
    }
}
