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

/// Optimizer state for one group of float32 tensors (torch's param group).
/// All memory is allocated in `init` and never reallocated: m, v and (amsgrad) vmax
/// live in one arena, each tensor's slice starting on a 64-byte boundary; lengths,
/// offsets and steps live in one table. Both are allocated fallibly (their sizes are the
/// caller's): running out of memory is an error, never a trap.
public final class AdamState {
    let table: TensorTable
    /// Floats per moment region (sum of padded lengths).
    let regionFloats: Int
    let storage: AlignedFloats
    public internal(set) var hyper: Hyperparameters
    /// 0 = default (SWIFTADAM_NUM_THREADS or available cores).
    public var requestedThreads: Int = 0

    /// The largest step count we accept: torch keeps `step` as a float64 tensor.
    public static let maxStep: UInt64 = 1 << 53

    /// A zeroed state for tensors of these lengths (read once: the caller's memory may
    /// change under us, the table is what counts).
    public convenience init<C: Collection>(lengths: C, hyper: Hyperparameters) throws(AdamError) where C.Element == Int {
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
        try self.init(table: table, hyper: hyper)
    }

    /// A zeroed state over a filled-in table (lengths and steps set; offsets computed here).
    init(table: TensorTable, hyper: Hyperparameters) throws(AdamError) {
        if table.count == 0 {
            throw AdamError(.invalidArgument, "num_tensors must be >= 1, got 0")
        }
        try hyper.validate()
        var total = 0
        for i in 0..<table.count {
            let n = table.lengths[i]
            if n < 0 { throw AdamError(.overflow, "lengths[\(i)] = \(UInt(bitPattern: n)) does not fit in a signed size") }
            table.offsets[i] = total
            total = try checkedAdd(total, try paddedFloats(n), "total state size at lengths[\(i)] = \(n)")
        }
        let regions = hyper.flags.contains(.amsgrad) ? 3 : 2
        let all = try checkedMul(total, regions, "state of \(total) floats x \(regions) moments")
        _ = try checkedMul(all, MemoryLayout<Float>.stride, "state of \(all) floats")
        storage = try AlignedFloats(count: all)
        self.table = table
        regionFloats = total
        self.hyper = hyper
    }

    /// Element count of each tensor.
    public var lengths: TensorColumn<Int> { TensorColumn(owner: table, base: table.lengths) }
    /// Updates applied to each tensor (torch's per-parameter state["step"]).
    public var steps: TensorColumn<UInt64> { TensorColumn(owner: table, base: table.steps) }

    public var amsgrad: Bool { hyper.flags.contains(.amsgrad) }
    public var count: Int { table.count }
    /// Elements over all tensors (not counting padding).
    public var totalElements: Int { lengths.reduce(0, +) }

    /// Base of moment `which` of tensor `i`; nil for vmax without amsgrad.
    /// `i` must be a valid index (callers check with `checkIndex`).
    @inline(__always)
    func pointer(_ which: Moment, _ i: Int) -> UnsafeMutablePointer<Float>? {
        if which == .maxExpAvgSq && !amsgrad { return nil }
        return storage.base + which.rawValue * regionFloats + table.offsets[i]
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

    public func copyMoment(_ which: Moment, _ i: Int, to out: UnsafeMutablePointer<Float>, capacity: Int) throws(AdamError) {
        try checkIndex(i)
        guard let src = pointer(which, i) else {
            throw AdamError(.invalidArgument, "which = max_exp_avg_sq needs a state created with amsgrad")
        }
        let n = table.lengths[i]
        if capacity < n {
            throw AdamError(.bufferTooSmall, "capacity must be >= tensor \(i)'s length \(n), got \(capacity)")
        }
        out.update(from: src, count: n)
    }

    public func setMoment(_ which: Moment, _ i: Int, from src: UnsafePointer<Float>, count: Int) throws(AdamError) {
        try checkIndex(i)
        guard let dst = pointer(which, i) else {
            throw AdamError(.invalidArgument, "which = max_exp_avg_sq needs a state created with amsgrad")
        }
        let n = table.lengths[i]
        if count != n {
            throw AdamError(.sizeMismatch, "count must equal tensor \(i)'s length \(n), got \(UInt(bitPattern: count))")
        }
        dst.update(from: src, count: n)
    }
}
