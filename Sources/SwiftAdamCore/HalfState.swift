import AdamKernelBase
import CPUFeatures

/// How one step of a float16/bfloat16 state reads its grads.
struct HalfStepJob {
    let format: HalfFormat
    /// Grads in the params' 16-bit format, else float32.
    let gradsAreHalf: Bool
    /// GradScaler's `inv_scale`: 1 = no scaling.
    let invScale: Float
    /// The kernel path's conversion loops.
    let loops: HalfKernels

    /// Master elements per pass (2 KiB of float32): the converted grads and the master
    /// stay in L1 between the passes. Measured on 16M bfloat16 params, 1 thread: 8192
    /// elements 0.71 ns/param, 2048 0.60, 512 0.52, 256 0.53.
    static let chunk = 512

    /// `count` grads of one tensor from element `at`, as the float32 values the kernel
    /// takes: unscaled float32 grads in place, anything else converted into `buf`.
    @inline(__always)
    func grads(_ g: UnsafeRawPointer, at: Int, count: Int, into buf: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if gradsAreHalf {
            loops.widen(format, g.assumingMemoryBound(to: UInt16.self) + at, buf, count, invScale)
            return UnsafePointer(buf)
        }
        let g32 = g.assumingMemoryBound(to: Float.self) + at
        if invScale == 1 { return g32 }
        loops.scale(g32, buf, count, invScale)
        return UnsafePointer(buf)
    }
}

extension AdamState {
    /// A state for 16-bit params whose float32 master copies start as the exact values of
    /// `params` (every pointer non-NULL, each to lengths[i] elements).
    public convenience init(lengths: UnsafeBufferPointer<Int>, hyper: Hyperparameters, dtype: DType,
                            halfParams params: UnsafePointer<UnsafePointer<UInt16>?>) throws(AdamError) {
        guard let format = dtype.half else {
            throw AdamError(.dtypeMismatch, "swiftadam_create_half takes cfg->dtype FLOAT16 or BFLOAT16, got \(dtype.name) (use swiftadam_create)")
        }
        for i in 0..<lengths.count where params[i] == nil {
            throw AdamError(.nullPointer, "params[\(i)] is NULL")
        }
        try self.init(lengths: lengths, hyper: hyper, dtype: dtype)
        for i in 0..<count {
            format.widen(params[i]!, into: masterPointer(i)!, count: table.lengths[i], invScale: 1)
        }
    }

    /// Tensor i's float32 master copy; nil unless the dtype is 16-bit.
    @inline(__always)
    func masterPointer(_ i: Int) -> UnsafeMutablePointer<Float>? {
        if dtype.half == nil { return nil }
        return regionPointer(momentRegions, i).assumingMemoryBound(to: Float.self)
    }

    /// Region r (0 exp_avg, 1 exp_avg_sq, then max_exp_avg_sq with amsgrad, then the
    /// master for 16-bit dtypes) of tensor i.
    @inline(__always)
    func regionPointer(_ r: Int, _ i: Int) -> UnsafeMutableRawPointer {
        storage.raw + (r * regionElements + table.offsets[i]) * dtype.elementBytes
    }

    func regionName(_ r: Int) -> String {
        r < momentRegions ? Moment(rawValue: r)!.name : "master"
    }

    private func masterSlice(_ i: Int, _ entry: String) throws(AdamError) -> (UnsafeMutablePointer<Float>, Int) {
        guard let p = masterPointer(i) else {
            throw AdamError(.dtypeMismatch, "this state holds \(dtype.name) tensors and no master copy; \(entry) needs a float16 or bfloat16 state")
        }
        return (p, table.lengths[i])
    }

    private func halfFormat(_ entry: String) throws(AdamError) -> HalfFormat {
        guard let f = dtype.half else {
            throw AdamError(.dtypeMismatch, "this state holds \(dtype.name) tensors; \(entry) takes float16 or bfloat16")
        }
        return f
    }

    /// Copy tensor i's float32 master into out[0..<length).
    public func copyMaster(_ i: Int, to out: UnsafeMutablePointer<Float>, capacity: Int) throws(AdamError) {
        _ = try halfFormat("swiftadam_get_master")
        try checkIndex(i)
        let (p, n) = try masterSlice(i, "swiftadam_get_master")
        if capacity < n { throw AdamError(.bufferTooSmall, "capacity must be >= tensor \(i)'s length \(n), got \(capacity)") }
        out.update(from: p, count: n)
    }

    /// Replace tensor i's master with count float32 values (count == length).
    public func setMaster(_ i: Int, from src: UnsafePointer<Float>, count: Int) throws(AdamError) {
        _ = try halfFormat("swiftadam_set_master")
        try checkIndex(i)
        let (p, n) = try masterSlice(i, "swiftadam_set_master")
        if count != n { throw AdamError(.sizeMismatch, "count must equal tensor \(i)'s length \(n), got \(UInt(bitPattern: count))") }
        p.update(from: src, count: n)
    }

    /// Tensor i's master rounded to the params' dtype (what a step writes) into out.
    public func copyHalfParams(_ i: Int, to out: UnsafeMutablePointer<UInt16>, capacity: Int) throws(AdamError) {
        let f = try halfFormat("swiftadam_get_params_half")
        try checkIndex(i)
        let (p, n) = try masterSlice(i, "swiftadam_get_params_half")
        if capacity < n { throw AdamError(.bufferTooSmall, "capacity must be >= tensor \(i)'s length \(n), got \(capacity)") }
        f.narrow(p, into: out, count: n)
    }

    /// `1/scale` as GradScaler computes it: in double, rounded once to float32.
    static func inverseGradScale(_ scale: Double) throws(AdamError) -> Float {
        let inv = Float(1 / scale)
        if !(scale > 0) || !scale.isFinite || !(inv > 0) || !inv.isFinite {
            throw AdamError(.invalidArgument, "grad_scale must be finite and > 0 with a finite, nonzero float32 reciprocal (1 = none), got \(scale)")
        }
        return inv
    }

    /// One step of a float16/bfloat16 state: the float32 kernel on the master (the same
    /// update, in the same order, as a float32 state fed these grads as float32), then the
    /// master rounded into the caller's params. `grads` is an array of `count` pointers to
    /// UInt16 (gradsAreHalf) or Float; a NULL one skips its tensor.
    public func stepHalf(params: UnsafePointer<UnsafeMutablePointer<UInt16>?>, grads: UnsafeRawPointer,
                         gradsAreHalf: Bool, count: Int, gradScale: Double, skipNonFinite: Bool,
                         backend: Backend = .active) throws(AdamError) -> StepOutcome {
        let format = try halfFormat(gradsAreHalf ? "swiftadam_step_half" : "swiftadam_step_half_f32grad")
        let inv = try AdamState.inverseGradScale(gradScale)
        let gp = grads.assumingMemoryBound(to: UnsafeRawPointer?.self)
        let work = try checkStepArguments(params, gp, count)
        let callerMode = swiftadam_internal_fp_enter_default()
        defer { swiftadam_internal_fp_leave(callerMode) }
        let job = HalfStepJob(format: format, gradsAreHalf: gradsAreHalf, invScale: inv, loops: backend.halfKernels)
        let kernel = backend.kernels.f32
        if skipNonFinite {
            // found_inf: tested on the grads after unscaling (an overflow there counts).
            let finite = withUnsafeTemporaryAllocation(of: Float.self, capacity: HalfStepJob.chunk) { buf in
                for i in 0..<count {
                    guard let g = gp[i] else { continue }
                    var k = 0
                    let n = table.lengths[i]
                    while k < n {
                        let c = min(HalfStepJob.chunk, n - k)
                        if !kernel.allFinite(job.grads(g, at: k, count: c, into: buf.baseAddress!), c) { return false }
                        k += c
                    }
                }
                return true
            }
            if !finite { return .skipped }
        }
        runParts(work, params: UnsafeRawPointer(params), grads: grads, backend: backend, half: job) {
            halfUpdateRange(0, work, params: params, grads: grads, job: job, kernel: kernel)
        }
        for i in 0..<count where gp[i] != nil { table.steps[i] += 1 }
        return .applied
    }

    /// Elements [lo, hi) of the stepped tensors of a 16-bit state, a chunk at a time.
    func halfUpdateRange(_ lo: Int, _ hi: Int, params: UnsafePointer<UnsafeMutablePointer<UInt16>?>,
                         grads: UnsafeRawPointer, job: HalfStepJob, kernel: AdamKernel<Float>) {
        let gp = grads.assumingMemoryBound(to: UnsafeRawPointer?.self)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: HalfStepJob.chunk) { buf in
            let scratch = buf.baseAddress!
            forEachSlice(lo, hi, Float.self, stepped: { gp[$0] != nil && params[$0] != nil }) { i, a, b, s, _ in
                let g = gp[i]!, p = params[i]!, master = masterPointer(i)!
                let m = pointer(.expAvg, i, Float.self)!, v = pointer(.expAvgSq, i, Float.self)!
                let vmax = pointer(.maxExpAvgSq, i, Float.self)
                var k = a
                while k < b {
                    let c = min(HalfStepJob.chunk, b - k)
                    // The 16-bit streams are not among the kernel's prefetched ones: fetch
                    // the params and grads of two chunks ahead, one line (32 elements) at a time.
                    var ahead = k + 2 * HalfStepJob.chunk
                    while ahead < min(k + 3 * HalfStepJob.chunk, b) {
                        swiftadam_internal_prefetch(p + ahead)
                        if job.gradsAreHalf { swiftadam_internal_prefetch(g.assumingMemoryBound(to: UInt16.self) + ahead) }
                        ahead += 32
                    }
                    kernel.update(master + k, job.grads(g, at: k, count: c, into: scratch), m + k, v + k,
                                  vmax.map { $0 + k }, c, s)
                    job.loops.narrow(job.format, master + k, p + k, c)
                    k += c
                }
            }
        }
    }
}
