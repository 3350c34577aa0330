import AdamKernelBase
import CPUFeatures

public enum StepOutcome: Sendable { case applied, skipped }

extension Hyperparameters {
    /// The per-tensor scalars at step t (the step being taken, >= 1).
    func kernelScalars(t: UInt64) -> KernelScalars {
        KernelScalars(lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
                      amsgrad: flags.contains(.amsgrad), decoupled: flags.contains(.decoupledWeightDecay),
                      maximize: flags.contains(.maximize),
                      biasCorrection: !flags.contains(.noBiasCorrection), t: t)
    }
}

extension AdamState {
    /// Groups smaller than this stay on the calling thread: waking a worker costs about
    /// as much as updating this many in-cache elements.
    public static let parallelThreshold = 1 << 17

    /// One Adam step over the group. `grads[i] == nil` skips tensor i (torch's
    /// `p.grad is None`). Validates everything before touching anything, so a thrown
    /// error leaves params, moments and steps as they were. Computed in the IEEE default
    /// floating-point mode on every thread whatever mode the caller's thread is in (its
    /// mode is restored on return): results depend on nothing but the inputs.
    public func step(params: UnsafePointer<UnsafeMutablePointer<Float>?>,
                     grads: UnsafePointer<UnsafePointer<Float>?>,
                     count: Int, skipNonFinite: Bool,
                     backend: Backend = .active) throws(AdamError) -> StepOutcome {
        if count != self.count {
            throw AdamError(.sizeMismatch, "num_tensors must equal the state's \(self.count), got \(UInt(bitPattern: count))")
        }
        let lengths = table.lengths, steps = table.steps
        var work = 0
        for i in 0..<count where grads[i] != nil {
            if params[i] == nil {
                throw AdamError(.nullPointer, "params[\(i)] is NULL while grads[\(i)] is not")
            }
            if steps[i] >= AdamState.maxStep {
                throw AdamError(.overflow, "tensor \(i) has reached the maximum step count 2^53")
            }
            work += lengths[i]
        }
        let callerMode = swiftadam_internal_fp_enter_default()
        defer { swiftadam_internal_fp_leave(callerMode) }
        if skipNonFinite {
            for i in 0..<count {
                if let g = grads[i], !backend.allFinite(g, count: lengths[i]) { return .skipped }
            }
        }
        let wanted = work >= AdamState.parallelThreshold ? effectiveThreads : 1
        if wanted <= 1 {
            updateRange(0, work, params: params, grads: grads, backend: backend)
        } else {
            var job = RangeJob(state: Unmanaged.passUnretained(self), params: params, grads: grads,
                               backend: backend, work: work)
            withUnsafePointer(to: &job) { ctx in
                WorkerPool.ready.run(parts: wanted, context: UnsafeRawPointer(ctx)) { raw, k, parts in
                    let j = raw.assumingMemoryBound(to: RangeJob.self).pointee
                    let (lo, hi) = AdamState.partition(j.work, parts: parts, k)
                    j.state.takeUnretainedValue().updateRange(lo, hi, params: j.params, grads: j.grads, backend: j.backend)
                }
            }
        }
        for i in 0..<count where grads[i] != nil { steps[i] += 1 }
        return .applied
    }

    /// What each part of a parallel step needs; lives on the stepping thread's stack.
    struct RangeJob {
        let state: Unmanaged<AdamState>
        let params: UnsafePointer<UnsafeMutablePointer<Float>?>
        let grads: UnsafePointer<UnsafePointer<Float>?>
        let backend: Backend
        let work: Int
    }

    /// [lo, hi) of part k when `total` elements are cut into `parts` pieces whose
    /// boundaries fall on 16-element (64-byte) multiples, so no cache line is shared.
    static func partition(_ total: Int, parts: Int, _ k: Int) -> (Int, Int) {
        let blocks = (total + 15) / 16
        func edge(_ j: Int) -> Int {
            let b = (blocks / parts) * j + min(j, blocks % parts)
            return min(b * 16, total)
        }
        return (edge(k), edge(k + 1))
    }

    /// Update elements [lo, hi) of the concatenation of the tensors being stepped.
    func updateRange(_ lo: Int, _ hi: Int,
                     params: UnsafePointer<UnsafeMutablePointer<Float>?>,
                     grads: UnsafePointer<UnsafePointer<Float>?>, backend: Backend) {
        let h = hyper
        let ams = amsgrad
        let lengths = table.lengths, offsets = table.offsets, steps = table.steps
        var cachedT: UInt64 = 1
        var s = h.kernelScalars(t: 1)
        var start = 0
        for i in 0..<count {
            if start >= hi { break }
            guard let g = grads[i], let p = params[i] else { continue }
            let n = lengths[i]
            let a = max(lo, start) - start
            let b = min(hi, start + n) - start
            start += n
            if a >= b { continue }
            let t = steps[i] + 1
            if t != cachedT {
                // Tensors usually share a step count; recompute pow() only when it differs.
                s = h.kernelScalars(t: t)
                cachedT = t
            }
            let off = offsets[i] + a
            let base = storage.base
            backend.update(p: p + a, g: g + a, m: base + off, v: base + regionFloats + off,
                           vmax: ams ? base + 2 * regionFloats + off : nil, count: b - a, s: s)
        }
    }
}
