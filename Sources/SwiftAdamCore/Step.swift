import AdamKernelBase
import CPUFeatures

public enum StepOutcome: Sendable { case applied, skipped }

extension Hyperparameters {
    /// The per-tensor scalars at step t (the step being taken, >= 1), in element type T.
    func kernelScalars<T: AdamElement>(t: UInt64, _: T.Type) -> KernelScalars<T> {
        KernelScalars(lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
                      amsgrad: flags.contains(.amsgrad), decoupled: flags.contains(.decoupledWeightDecay),
                      maximize: flags.contains(.maximize),
                      biasCorrection: !flags.contains(.noBiasCorrection), t: t, flavor: flavor)
    }
}

extension AdamState {
    /// Groups smaller than this stay on the calling thread: waking a worker costs about
    /// as much as updating this many in-cache elements.
    public static let parallelThreshold = 1 << 17

    /// One Adam step over the group. `grads[i] == nil` skips tensor i (torch's
    /// `p.grad is None`). Validates everything before touching anything, so a thrown
    /// error leaves params, moments and steps as they were. T must be the state's dtype.
    /// Computed in the IEEE default floating-point mode on every thread whatever mode the
    /// caller's thread is in (its mode is restored on return): results depend on nothing
    /// but the inputs.
    public func step<T: AdamElement>(params: UnsafePointer<UnsafeMutablePointer<T>?>,
                                     grads: UnsafePointer<UnsafePointer<T>?>,
                                     count: Int, skipNonFinite: Bool,
                                     backend: Backend = .active) throws(AdamError) -> StepOutcome {
        try checkDType(T.self, T.self == Double.self ? "swiftadam_step_f64" : "swiftadam_step")
        // Called from another module this runs unspecialised (every generic operation a
        // witness call: measured 2x slower on 1000 tensors of 100); the step itself runs
        // in the specialised instantiation of the dtype.
        let p = UnsafeRawPointer(params), g = UnsafeRawPointer(grads)
        if dtype == .float64 {
            return try typedStep(p.assumingMemoryBound(to: UnsafeMutablePointer<Double>?.self),
                                 g.assumingMemoryBound(to: UnsafePointer<Double>?.self), count, skipNonFinite, backend)
        }
        return try typedStep(p.assumingMemoryBound(to: UnsafeMutablePointer<Float>?.self),
                             g.assumingMemoryBound(to: UnsafePointer<Float>?.self), count, skipNonFinite, backend)
    }

    /// The checks every step entry makes before touching anything; returns the elements
    /// the step will update.
    func checkStepArguments<P, G>(_ params: UnsafePointer<P?>, _ grads: UnsafePointer<G?>,
                                  _ count: Int) throws(AdamError) -> Int {
        if count != self.count {
            throw AdamError(.sizeMismatch, "num_tensors must equal the state's \(self.count), got \(UInt(bitPattern: count))")
        }
        var work = 0
        for i in 0..<count where grads[i] != nil {
            if params[i] == nil {
                throw AdamError(.nullPointer, "params[\(i)] is NULL while grads[\(i)] is not")
            }
            if table.steps[i] >= AdamState.maxStep {
                throw AdamError(.overflow, "tensor \(i) has reached the maximum step count 2^53")
            }
            work += table.lengths[i]
        }
        return work
    }

    /// Runs `part(lo, hi)` over [0, work) on the calling thread, or cut into parts on the
    /// worker pool when the step is large enough.
    func runParts(_ work: Int, params: UnsafeRawPointer, grads: UnsafeRawPointer, backend: Backend,
                  half: HalfStepJob? = nil, contiguous: Bool = false, single: () -> Void) {
        let wanted = work >= AdamState.parallelThreshold ? effectiveThreads : 1
        if wanted <= 1 {
            single()
            return
        }
        var job = RangeJob(state: Unmanaged.passUnretained(self), params: params, grads: grads,
                           backend: backend, work: work, half: half, contiguous: contiguous)
        withUnsafePointer(to: &job) { ctx in
            WorkerPool.ready.run(parts: wanted, context: UnsafeRawPointer(ctx)) { raw, k, parts in
                let j = raw.assumingMemoryBound(to: RangeJob.self).pointee
                let (lo, hi) = AdamState.partition(j.work, parts: parts, k)
                j.state.takeUnretainedValue().updateRange(lo, hi, job: j)
            }
        }
    }

    func typedStep<T: AdamElement>(_ params: UnsafePointer<UnsafeMutablePointer<T>?>,
                                   _ grads: UnsafePointer<UnsafePointer<T>?>,
                                   _ count: Int, _ skipNonFinite: Bool, _ backend: Backend) throws(AdamError) -> StepOutcome {
        let work = try checkStepArguments(params, grads, count)
        let lengths = table.lengths, steps = table.steps
        let callerMode = swiftadam_internal_fp_enter_default()
        defer { swiftadam_internal_fp_leave(callerMode) }
        let kernel = backend.kernels[T.self]
        if skipNonFinite {
            for i in 0..<count {
                if let g = grads[i], !kernel.allFinite(g, lengths[i]) { return .skipped }
            }
        }
        runParts(work, params: UnsafeRawPointer(params), grads: UnsafeRawPointer(grads), backend: backend) {
            updateRange(0, work, params: params, grads: grads, kernel: kernel)
        }
        for i in 0..<count where grads[i] != nil { steps[i] += 1 }
        return .applied
    }

    /// What each part of a parallel step needs; lives on the stepping thread's stack.
    /// The pointer arrays are untyped because the part body is a C function pointer (no
    /// generic context): the state's dtype says what they point to.
    struct RangeJob {
        let state: Unmanaged<AdamState>
        let params: UnsafeRawPointer
        let grads: UnsafeRawPointer
        let backend: Backend
        let work: Int
        /// 16-bit states: the grads' format and scale.
        let half: HalfStepJob?
        /// params/grads are the two buffers of swiftadam_step_contiguous, not pointer arrays.
        var contiguous = false
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

    func updateRange(_ lo: Int, _ hi: Int, job j: RangeJob) {
        func typed<T: AdamElement>(_: T.Type) {
            updateRange(lo, hi, params: j.params.assumingMemoryBound(to: UnsafeMutablePointer<T>?.self),
                        grads: j.grads.assumingMemoryBound(to: UnsafePointer<T>?.self), kernel: j.backend.kernels[T.self])
        }
        if j.contiguous {
            contiguousUpdateRange(lo, hi, params: UnsafeMutableRawPointer(mutating: j.params),
                                  grads: j.grads, backend: j.backend)
        } else if let half = j.half {
            halfUpdateRange(lo, hi, params: j.params.assumingMemoryBound(to: UnsafeMutablePointer<UInt16>?.self),
                            grads: j.grads, job: half, kernel: j.backend.kernels.f32)
        } else if dtype == .float64 {
            typed(Double.self)
        } else {
            typed(Float.self)
        }
    }

    /// Calls body(i, a, b, scalars, start) for the slice [a, b) of each stepped tensor i
    /// that lies in elements [lo, hi) of the concatenation of the stepped tensors, with
    /// tensor i's scalars at its next step; `start` is where tensor i begins in that
    /// concatenation (the buffer offset of swiftadam_step_contiguous).
    @inline(__always)
    func forEachSlice<T: AdamElement>(_ lo: Int, _ hi: Int, _: T.Type, stepped: (Int) -> Bool,
                                      _ body: (Int, Int, Int, KernelScalars<T>, Int) -> Void) {
        let h = hyper
        let lengths = table.lengths, steps = table.steps
        var cachedT: UInt64 = 1
        var s = h.kernelScalars(t: 1, T.self)
        var start = 0
        for i in 0..<count {
            if start >= hi { break }
            if !stepped(i) { continue }
            let n = lengths[i]
            let first = start
            let a = max(lo, start) - start
            let b = min(hi, start + n) - start
            start += n
            if a >= b { continue }
            let t = steps[i] + 1
            if t != cachedT {
                // Tensors usually share a step count; recompute pow() only when it differs.
                s = h.kernelScalars(t: t, T.self)
                cachedT = t
            }
            body(i, a, b, s, first)
        }
    }

    /// Update elements [lo, hi) of the concatenation of the tensors being stepped.
    func updateRange<T: AdamElement>(_ lo: Int, _ hi: Int,
                                     params: UnsafePointer<UnsafeMutablePointer<T>?>,
                                     grads: UnsafePointer<UnsafePointer<T>?>, kernel: AdamKernel<T>) {
        forEachSlice(lo, hi, T.self, stepped: { grads[$0] != nil && params[$0] != nil }) { i, a, b, s, _ in
            let m = pointer(.expAvg, i, T.self)! + a
            let v = pointer(.expAvgSq, i, T.self)! + a
            kernel.update(params[i]! + a, grads[i]! + a, m, v, pointer(.maxExpAvgSq, i, T.self).map { $0 + a }, b - a, s)
        }
    }
}
