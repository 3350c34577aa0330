import CPUFeatures

/// The Adam update of `count` elements, written once for every lane type and element
/// type. Operation order is the flavour's library's (see include/swiftadam.h); changing
/// it here changes every path and dtype together, which is what keeps paths bit-identical
/// and float64 in the float32 kernel's order.
@inlinable @inline(__always)
public func adamUpdate<L: AdamLanes>(
    _: L.Type, p: UnsafeMutablePointer<L.Scalar>, g: UnsafePointer<L.Scalar>,
    m: UnsafeMutablePointer<L.Scalar>, v: UnsafeMutablePointer<L.Scalar>,
    vmax: UnsafeMutablePointer<L.Scalar>?, count: Int, s: KernelScalars<L.Scalar>
) {
    // The flavour is chosen once per call, so each loop below is specialised for one
    // formula with no per-vector test of it.
    switch s.flavor {
    case .torch: adamSweep(L.self, TorchFormula.self, p: p, g: g, m: m, v: v, vmax: vmax, count: count, s: s)
    case .keras: adamSweep(L.self, KerasFormula.self, p: p, g: g, m: m, v: v, vmax: vmax, count: count, s: s)
    }
}

/// One flavour's update over `count` elements: two vectors per trip, then one, then the
/// tail in one zero-padded full-width pass. Lane types are at most 64 bytes wide (AVX-512),
/// the size of each tail buffer below.
@inlinable @inline(__always)
public func adamSweep<L: AdamLanes, F: AdamFormula>(
    _: L.Type, _: F.Type, p: UnsafeMutablePointer<L.Scalar>, g: UnsafePointer<L.Scalar>,
    m: UnsafeMutablePointer<L.Scalar>, v: UnsafeMutablePointer<L.Scalar>,
    vmax: UnsafeMutablePointer<L.Scalar>?, count: Int, s: KernelScalars<L.Scalar>
) {
    var i = 0
    let w = L.width
    // Two vectors per trip, and each of the four streams prefetched 2 KiB ahead: the
    // sqrt/div chain keeps too few loads in flight for the hardware prefetcher alone
    // (measured on a 16M float32 tensor: 1.2x the roofline without, ~1.07x with). One
    // prefetch per 64-byte line the trip covers: a trip of two 64-byte AVX-512 vectors
    // spans two lines, and prefetching only the first left it at 1.25x the roofline.
    let ahead = 2048 / MemoryLayout<L.Scalar>.stride
    let line = 64 / MemoryLayout<L.Scalar>.stride
    while i + 2 * w <= count {
        var k = i + ahead
        while k < i + ahead + 2 * w {
            swiftadam_internal_prefetch(p + k); swiftadam_internal_prefetch(g + k)
            swiftadam_internal_prefetch(m + k); swiftadam_internal_prefetch(v + k)
            k += line
        }
        adamLanes(L.self, F.self, p: p + i, g: g + i, m: m + i, v: v + i, vmax: vmax.map { $0 + i }, s: s)
        adamLanes(L.self, F.self, p: p + i + w, g: g + i + w, m: m + i + w, v: v + i + w,
                  vmax: vmax.map { $0 + i + w }, s: s)
        i += 2 * w
    }
    while i + w <= count {
        adamLanes(L.self, F.self, p: p + i, g: g + i, m: m + i, v: v + i, vmax: vmax.map { $0 + i }, s: s)
        i += w
    }
    let rem = count - i
    if rem > 0 {
        // The tail goes through one full-width pass over zero-padded stack copies: the
        // same lane operations as the body (so bit-identical), without a scalar sqrt and
        // two scalar divisions per leftover element. Padding lanes are computed and dropped.
        let cap = 64 / MemoryLayout<L.Scalar>.stride
        withUnsafeTemporaryAllocation(of: L.Scalar.self, capacity: 5 * cap) { buf in
            let base = buf.baseAddress!
            base.initialize(repeating: 0, count: 5 * cap)
            let bp = base, bg = base + cap, bm = base + 2 * cap, bv = base + 3 * cap, bx = base + 4 * cap
            bp.update(from: p + i, count: rem)
            bg.update(from: g + i, count: rem)
            bm.update(from: m + i, count: rem)
            bv.update(from: v + i, count: rem)
            if let vmax { bx.update(from: vmax + i, count: rem) }
            adamLanes(L.self, F.self, p: bp, g: UnsafePointer(bg), m: bm, v: bv, vmax: vmax == nil ? nil : bx, s: s)
            (p + i).update(from: bp, count: rem)
            (m + i).update(from: bm, count: rem)
            (v + i).update(from: bv, count: rem)
            if let vmax { (vmax + i).update(from: bx, count: rem) }
        }
    }
}

/// One vector of elements: the steps both flavours share (maximize, L2, AMSGrad, loads
/// and stores), with the flavour's formula in between.
@inlinable @inline(__always)
public func adamLanes<L: AdamLanes, F: AdamFormula>(
    _: L.Type, _: F.Type, p: UnsafeMutablePointer<L.Scalar>, g gp: UnsafePointer<L.Scalar>,
    m mp: UnsafeMutablePointer<L.Scalar>, v vp: UnsafeMutablePointer<L.Scalar>,
    vmax: UnsafeMutablePointer<L.Scalar>?, s: KernelScalars<L.Scalar>
) {
    var param = L.load(p)
    var g = L.load(gp)
    if s.maximize { g = g.negated() }
    if s.hasL2 { g = g + L(broadcast: s.l2) * param }
    if s.hasDecay { param = F.decayed(param, s) }
    let (m, v) = F.moments(g: g, m0: L.load(mp), v0: L.load(vp), s)
    var vhat = v
    if let vmax {
        vhat = L.greaterOrSecond(L.load(vmax), v)
        vhat.store(vmax)
    }
    param = F.stepped(param, m: m, vhat: vhat, s)
    m.store(mp)
    v.store(vp)
    param.store(p)
}

/// The parts of the update where the flavours differ.
public protocol AdamFormula {
    /// Decoupled weight decay of the param (AdamW).
    static func decayed<L: AdamLanes>(_ param: L, _ s: KernelScalars<L.Scalar>) -> L
    /// The new first and second moments.
    static func moments<L: AdamLanes>(g: L, m0: L, v0: L, _ s: KernelScalars<L.Scalar>) -> (m: L, v: L)
    /// The param after the step, with `vhat` the second moment under the root.
    static func stepped<L: AdamLanes>(_ param: L, m: L, vhat: L, _ s: KernelScalars<L.Scalar>) -> L
}

/// torch's single-tensor Adam: `param.mul_(1 - lr*wd)`, `exp_avg.lerp_(g, 1 - beta1)`,
/// `exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)`,
/// `param.addcdiv_(exp_avg, sqrt(v)/bc2_sqrt + eps, value=-lr/bc1)`.
public enum TorchFormula: AdamFormula {
    @inlinable @inline(__always)
    public static func decayed<L: AdamLanes>(_ param: L, _ s: KernelScalars<L.Scalar>) -> L {
        param * L(broadcast: s.decay)
    }

    @inlinable @inline(__always)
    public static func moments<L: AdamLanes>(g: L, m0: L, v0: L, _ s: KernelScalars<L.Scalar>) -> (m: L, v: L) {
        let m = s.lerpHigh
            ? g - (g - m0) * L(broadcast: s.oneMinusW1)
            : m0 + L(broadcast: s.w1) * (g - m0)
        let v = v0 * L(broadcast: s.beta2) + (L(broadcast: s.oneMinusBeta2) * g) * g
        return (m, v)
    }

    @inlinable @inline(__always)
    public static func stepped<L: AdamLanes>(_ param: L, m: L, vhat: L, _ s: KernelScalars<L.Scalar>) -> L {
        let denom = vhat.squareRoot() / L(broadcast: s.bc2Sqrt) + L(broadcast: s.eps)
        return param + (L(broadcast: s.negStepSize) * m) / denom
    }
}

/// Keras 3's Adam: `variable - variable*wd*lr` (Optimizer._apply_weight_decay), then
/// update_step's `m += (g - m)*(1 - beta_1)`, `v += (g*g - v)*(1 - beta_2)`,
/// `variable -= (m*alpha) / (sqrt(v) + epsilon)`.
public enum KerasFormula: AdamFormula {
    @inlinable @inline(__always)
    public static func decayed<L: AdamLanes>(_ param: L, _ s: KernelScalars<L.Scalar>) -> L {
        param - param * L(broadcast: s.decayWd) * L(broadcast: s.decayLr)
    }

    @inlinable @inline(__always)
    public static func moments<L: AdamLanes>(g: L, m0: L, v0: L, _ s: KernelScalars<L.Scalar>) -> (m: L, v: L) {
        (m0 + (g - m0) * L(broadcast: s.w1), v0 + (g * g - v0) * L(broadcast: s.oneMinusBeta2))
    }

    @inlinable @inline(__always)
    public static func stepped<L: AdamLanes>(_ param: L, m: L, vhat: L, _ s: KernelScalars<L.Scalar>) -> L {
        param - (m * L(broadcast: s.alpha)) / (vhat.squareRoot() + L(broadcast: s.eps))
    }
}

/// True when every element of g[0..<count) is finite. `x * 0` is 0 for finite x and NaN
/// for NaN or ±Inf, and NaN survives addition, so one pass of multiplies and adds
/// answers it without a branch per element.
@inlinable @inline(__always)
public func allFinite<L: AdamLanes>(_: L.Type, _ g: UnsafePointer<L.Scalar>, count: Int) -> Bool {
    let zero = L(broadcast: 0)
    var acc = zero
    var i = 0
    let w = L.width
    if w > 1 {
        while i + w <= count {
            acc = acc + L.load(g + i) * zero
            i += w
        }
    }
    // Lane types are at most 64 bytes wide (AVX-512); spill to the stack, not the heap.
    var tail: L.Scalar = withUnsafeTemporaryAllocation(of: L.Scalar.self, capacity: 64 / MemoryLayout<L.Scalar>.stride) { spill in
        let lanes = spill.baseAddress!
        acc.store(lanes)
        var sum: L.Scalar = 0
        for k in 0..<w { sum = sum + lanes[k] }
        return sum
    }
    while i < count {
        tail = tail + g[i] * 0
        i += 1
    }
    return !tail.isNaN
}
