import AdamKernelBase
import CPUFeatures

/// swiftadam_step_contiguous: the tensors lie end to end in one params buffer and one grads
/// buffer (for callers such as cgo, Fortran, Julia or JNA that cannot hand over an array of
/// pointers). It shares the slice walk (forEachSlice), the thread split (runParts) and the
/// kernel with the pointer-array step, so both give the same bits for the same tensors.
extension AdamState {
    /// One Adam step over every tensor, tensor i at the sum of the lengths before it in
    /// `params` and in `grads`. The same checks, outcome and bits as
    /// `step(params:grads:count:...)` with pointers into these buffers; nothing is
    /// allocated. float32 states only.
    public func stepContiguous(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                               skipNonFinite: Bool, backend: Backend = .active) throws(AdamError) -> StepOutcome {
        try checkDType(Float.self, "swiftadam_step_contiguous")
        let lengths = table.lengths, steps = table.steps
        var work = 0
        for i in 0..<count {
            if steps[i] >= AdamState.maxStep {
                throw AdamError(.overflow, "tensor \(i) has reached the maximum step count 2^53")
            }
            work += lengths[i]
        }
        let callerMode = swiftadam_internal_fp_enter_default()
        defer { swiftadam_internal_fp_leave(callerMode) }
        if skipNonFinite && !backend.kernels.f32.allFinite(grads, work) { return .skipped }
        runParts(work, params: UnsafeRawPointer(params), grads: UnsafeRawPointer(grads), backend: backend,
                 contiguous: true) {
            contiguousUpdateRange(0, work, params: UnsafeMutableRawPointer(params), grads: UnsafeRawPointer(grads),
                                  backend: backend)
        }
        for i in 0..<count { steps[i] += 1 }
        return .applied
    }

    /// Elements [lo, hi) of the two buffers (every tensor is stepped, so the concatenation
    /// of the stepped tensors is the buffer itself).
    func contiguousUpdateRange(_ lo: Int, _ hi: Int, params: UnsafeMutableRawPointer, grads: UnsafeRawPointer,
                               backend: Backend) {
        let p = params.assumingMemoryBound(to: Float.self), g = grads.assumingMemoryBound(to: Float.self)
        let kernel = backend.kernels.f32
        forEachSlice(lo, hi, Float.self, stepped: { _ in true }) { i, a, b, s, start in
            let m = pointer(.expAvg, i, Float.self)! + a
            let v = pointer(.expAvgSq, i, Float.self)! + a
            kernel.update(p + start + a, g + start + a, m, v, pointer(.maxExpAvgSq, i, Float.self).map { $0 + a }, b - a, s)
        }
    }
}
