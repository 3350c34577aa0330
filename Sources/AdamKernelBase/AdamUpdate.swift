import CPUFeatures

/// Lane types are at most 16 floats wide (AVX-512), the size of the tail buffers below.
/// The Adam update of `count` elements, written once for every lane type.
/// Operation order is torch's single-tensor path (see include/swiftadam.h); changing
/// it here changes every backend together, which is what keeps them bit-identical.
@inlinable @inline(__always)
public func adamUpdate<L: AdamLanes>(
    _: L.Type, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
    m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
    vmax: UnsafeMutablePointer<Float>?, count: Int, s: KernelScalars
) {
    var i = 0
    let w = L.width
    // Two vectors per trip, and each of the four streams prefetched 2 KiB ahead: the
    // sqrt/div chain keeps too few loads in flight for the hardware prefetcher alone
    // (measured on a 16M tensor: 1.2x the roofline without, ~1.07x with).
    while i + 2 * w <= count {
        swiftadam_internal_prefetch(p + i + 512); swiftadam_internal_prefetch(g + i + 512)
        swiftadam_internal_prefetch(m + i + 512); swiftadam_internal_prefetch(v + i + 512)
        adamLanes(L.self, p: p + i, g: g + i, m: m + i, v: v + i, vmax: vmax.map { $0 + i }, s: s)
        adamLanes(L.self, p: p + i + w, g: g + i + w, m: m + i + w, v: v + i + w, vmax: vmax.map { $0 + i + w }, s: s)
        i += 2 * w
    }
    while i + w <= count {
        adamLanes(L.self, p: p + i, g: g + i, m: m + i, v: v + i, vmax: vmax.map { $0 + i }, s: s)
        i += w
    }
    let rem = count - i
    if rem > 0 {
        // The tail goes through one full-width pass over zero-padded stack copies: the
        // same lane operations as the body (so bit-identical), without a scalar sqrt and
        // two scalar divisions per leftover element. Padding lanes are computed and dropped.
        var tp = SIMD16<Float>(repeating: 0), tg = tp, tm = tp, tv = tp, tx = tp
        withUnsafeMutablePointer(to: &tp) { tp in
        withUnsafeMutablePointer(to: &tg) { tg in
        withUnsafeMutablePointer(to: &tm) { tm in
        withUnsafeMutablePointer(to: &tv) { tv in
        withUnsafeMutablePointer(to: &tx) { tx in
            let bp = UnsafeMutableRawPointer(tp).assumingMemoryBound(to: Float.self)
            let bg = UnsafeMutableRawPointer(tg).assumingMemoryBound(to: Float.self)
            let bm = UnsafeMutableRawPointer(tm).assumingMemoryBound(to: Float.self)
            let bv = UnsafeMutableRawPointer(tv).assumingMemoryBound(to: Float.self)
            let bx = UnsafeMutableRawPointer(tx).assumingMemoryBound(to: Float.self)
            bp.update(from: p + i, count: rem)
            bg.update(from: g + i, count: rem)
            bm.update(from: m + i, count: rem)
            bv.update(from: v + i, count: rem)
            if let vmax { bx.update(from: vmax + i, count: rem) }
            adamLanes(L.self, p: bp, g: UnsafePointer(bg), m: bm, v: bv, vmax: vmax == nil ? nil : bx, s: s)
            (p + i).update(from: bp, count: rem)
            (m + i).update(from: bm, count: rem)
            (v + i).update(from: bv, count: rem)
            if let vmax { (vmax + i).update(from: bx, count: rem) }
        }}}}}
    }
}

@inlinable @inline(__always)
public func adamLanes<L: AdamLanes>(
    _: L.Type, p: UnsafeMutablePointer<Float>, g gp: UnsafePointer<Float>,
    m mp: UnsafeMutablePointer<Float>, v vp: UnsafeMutablePointer<Float>,
    vmax: UnsafeMutablePointer<Float>?, s: KernelScalars
) {
    var param = L.load(p)
    var g = L.load(gp)
    if s.maximize { g = g.negated() }
    if s.hasL2 { g = g + L(broadcast: s.l2) * param }
    if s.hasDecay { param = param * L(broadcast: s.decay) }
    let m0 = L.load(mp)
    let m = s.lerpHigh
        ? g - (g - m0) * L(broadcast: s.oneMinusW1)
        : m0 + L(broadcast: s.w1) * (g - m0)
    let v = L.load(vp) * L(broadcast: s.beta2) + (L(broadcast: s.oneMinusBeta2) * g) * g
    var vhat = v
    if let vmax {
        vhat = L.greaterOrSecond(L.load(vmax), v)
        vhat.store(vmax)
    }
    let denom = vhat.squareRoot() / L(broadcast: s.bc2Sqrt) + L(broadcast: s.eps)
    param = param + (L(broadcast: s.negStepSize) * m) / denom
    m.store(mp)
    v.store(vp)
    param.store(p)
}

/// True when every element of g[0..<count) is finite. `x * 0` is 0 for finite x and NaN
/// for NaN or ±Inf, and NaN survives addition, so one pass of multiplies and adds
/// answers it without a branch per element.
@inlinable @inline(__always)
public func allFinite<L: AdamLanes>(_: L.Type, _ g: UnsafePointer<Float>, count: Int) -> Bool {
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
    // Lane types are at most 16 floats wide (AVX-512); spill to the stack, not the heap.
    var spill = SIMD16<Float>(repeating: 0)
    withUnsafeMutablePointer(to: &spill) {
        $0.withMemoryRebound(to: Float.self, capacity: 16) { acc.store($0) }
    }
    var tail: Float = 0
    for k in 0..<w { tail = tail + spill[k] }
    while i < count {
        tail = tail + g[i] * 0
        i += 1
    }
    return !tail.isNaN
}
