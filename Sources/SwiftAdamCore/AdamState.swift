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
/// live in one arena, each tensor's slice starting on a 64-byte boundary.
public final class AdamState {
    public let lengths: [Int]
    /// Float offset of each tensor inside one moment region.
    let offsets: [Int]
    /// Floats per moment region (sum of padded lengths).
    let regionFloats: Int
    let storage: AlignedFloats
    public internal(set) var steps: [UInt64]
    public internal(set) var hyper: Hyperparameters
    /// 0 = default (SWIFTADAM_NUM_THREADS or available cores).
    public var requestedThreads: Int = 0
    let pool: WorkerPool

    /// The largest step count we accept: torch keeps `step` as a float64 tensor.
    public static let maxStep: UInt64 = 1 << 53

    public init(lengths: [Int], hyper: Hyperparameters) throws(AdamError) {
        if lengths.isEmpty {
            throw AdamError(.invalidArgument, "num_tensors must be >= 1, got 0")
        }
        try hyper.validate()
        var offsets = [Int]()
        offsets.reserveCapacity(lengths.count)
        var total = 0
        for (i, n) in lengths.enumerated() {
            if n < 0 { throw AdamError(.overflow, "lengths[\(i)] = \(UInt(bitPattern: n)) does not fit in a signed size") }
            offsets.append(total)
            total = try checkedAdd(total, try paddedFloats(n), "total state size at lengths[\(i)] = \(n)")
        }
        let regions = hyper.flags.contains(.amsgrad) ? 3 : 2
        let all = try checkedMul(total, regions, "state of \(total) floats x \(regions) moments")
        _ = try checkedMul(all, MemoryLayout<Float>.stride, "state of \(all) floats")
        storage = try AlignedFloats(count: all)
        self.lengths = lengths
        self.offsets = offsets
        regionFloats = total
        steps = [UInt64](repeating: 0, count: lengths.count)
        self.hyper = hyper
        pool = WorkerPool()
    }

    public var amsgrad: Bool { hyper.flags.contains(.amsgrad) }
    public var count: Int { lengths.count }
    /// Elements over all tensors (not counting padding).
    public var totalElements: Int { lengths.reduce(0, +) }

    /// Base of moment `which` of tensor `i`; nil for vmax without amsgrad.
    /// `i` must be a valid index (callers check with `checkIndex`).
    @inline(__always)
    func pointer(_ which: Moment, _ i: Int) -> UnsafeMutablePointer<Float>? {
        if which == .maxExpAvgSq && !amsgrad { return nil }
        return storage.base + which.rawValue * regionFloats + offsets[i]
    }

    public func checkIndex(_ i: Int) throws(AdamError) {
        if i < 0 || i >= lengths.count {
            throw AdamError(.invalidArgument, "index must be < num_tensors = \(lengths.count), got \(UInt(bitPattern: i))")
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
        steps[i] = step
    }

    public func copyMoment(_ which: Moment, _ i: Int, to out: UnsafeMutablePointer<Float>, capacity: Int) throws(AdamError) {
        try checkIndex(i)
        guard let src = pointer(which, i) else {
            throw AdamError(.invalidArgument, "which = max_exp_avg_sq needs a state created with amsgrad")
        }
        let n = lengths[i]
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
        let n = lengths[i]
        if count != n {
            throw AdamError(.sizeMismatch, "count must equal tensor \(i)'s length \(n), got \(UInt(bitPattern: count))")
        }
        dst.update(from: src, count: n)
    }
}
