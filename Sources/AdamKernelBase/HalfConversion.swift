/// A 16-bit param format whose master copy is float32. Conversions are written in integer
/// arithmetic (plus, for grads, one float32 multiply), the same code on every kernel path:
/// their results cannot depend on the instruction set. Each is IEEE-754 convertFormat:
/// narrowing rounds to nearest even, overflows to ±Inf and keeps subnormals; a NaN stays a
/// NaN of the same sign, quiet, with its payload's high bits (as x86 F16C converts).
public enum HalfFormat: Sendable {
    case float16, bfloat16

    /// The exact float32 value of a 16-bit one (a signalling NaN comes out quiet).
    @inlinable @inline(__always)
    public func widen(_ h: UInt16) -> Float {
        switch self {
        case .bfloat16:
            let x = UInt32(h) << 16
            return Float(bitPattern: x & 0x7FFF_FFFF > 0x7F80_0000 ? x | 0x0040_0000 : x)
        case .float16:
            return Float(bitPattern: float16ToFloatBits(h))
        }
    }

    /// `f` rounded to this format (nearest, ties to even).
    @inlinable @inline(__always)
    public func narrow(_ f: Float) -> UInt16 {
        switch self {
        case .bfloat16: return floatToBFloat16Bits(f.bitPattern)
        case .float16: return floatToFloat16Bits(f.bitPattern)
        }
    }

    /// dst[k] = widen(src[k]) * invScale (no multiply when invScale is 1).
    @inlinable
    public func widen(_ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count: Int, invScale: Float) {
        switch self {
        case .bfloat16: widenLoop(.bfloat16, src, dst, count, invScale)
        case .float16: widenLoop(.float16, src, dst, count, invScale)
        }
    }

    /// dst[k] = narrow(src[k]).
    @inlinable
    public func narrow(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<UInt16>, count: Int) {
        switch self {
        case .bfloat16: for k in 0..<count { dst[k] = floatToBFloat16Bits(src[k].bitPattern) }
        case .float16: for k in 0..<count { dst[k] = floatToFloat16Bits(src[k].bitPattern) }
        }
    }
}

/// One loop per format (the format a constant inside it), so the switch is not per element.
@inlinable @inline(__always)
func widenLoop(_ f: HalfFormat, _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ inv: Float) {
    if inv == 1 {
        for k in 0..<n { dst[k] = f.widen(src[k]) }
    } else {
        for k in 0..<n { dst[k] = f.widen(src[k]) * inv }
    }
}

/// float32 grads scaled by invScale into dst (GradScaler's `grad * inv_scale`).
@inlinable
public func scaleGrads(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int, invScale: Float) {
    for k in 0..<count { dst[k] = src[k] * invScale }
}

@inlinable @inline(__always)
public func floatToBFloat16Bits(_ x: UInt32) -> UInt16 {
    if x & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: x >> 16) | 0x0040 }
    // Adding 0x7FFF plus the kept part's lowest bit rounds to nearest even; a carry out of
    // the exponent is the overflow to ±Inf IEEE asks for.
    return UInt16(truncatingIfNeeded: (x &+ 0x7FFF &+ ((x >> 16) & 1)) >> 16)
}

@inlinable @inline(__always)
public func floatToFloat16Bits(_ x: UInt32) -> UInt16 {
    let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
    let a = x & 0x7FFF_FFFF
    if a > 0x7F80_0000 { return sign | 0x7E00 | UInt16(truncatingIfNeeded: (a >> 13) & 0x3FF) }
    if a >= 0x4780_0000 { return sign | 0x7C00 }            // >= 2^16: ±Inf (also Inf itself)
    if a >= 0x3880_0000 {                                   // a float16 normal (>= 2^-14)
        let r = a &- 0x3800_0000                            // exponent rebiased 127 -> 15
        var h = r >> 13
        let rest = r & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && h & 1 != 0) { h += 1 }   // may carry to Inf
        return sign | UInt16(truncatingIfNeeded: h)
    }
    if a <= 0x3300_0000 { return sign }                     // <= 2^-25: rounds to ±0 (tie to even)
    // A float16 subnormal (units of 2^-24): the significand shifted right by 126 - exponent.
    let mant = (a & 0x7F_FFFF) | 0x80_0000
    let shift = 126 - (a >> 23)
    var q = mant >> shift
    let rest = mant & ((1 << shift) - 1), half = UInt32(1) << (shift - 1)
    if rest > half || (rest == half && q & 1 != 0) { q += 1 }        // may carry to 2^-14
    return sign | UInt16(truncatingIfNeeded: q)
}

@inlinable @inline(__always)
public func float16ToFloatBits(_ h: UInt16) -> UInt32 {
    let sign = UInt32(h & 0x8000) << 16
    let e = UInt32(h >> 10) & 0x1F, m = UInt32(h & 0x3FF)
    if e == 0x1F { return sign | 0x7F80_0000 | (m << 13) | (m != 0 ? 0x0040_0000 : 0) }
    if e != 0 { return sign | ((e + 112) << 23) | (m << 13) }
    if m == 0 { return sign }
    // Subnormal: m * 2^-24, normalised (the leading 1 moved to bit 10).
    let lz = UInt32(m.leadingZeroBitCount) - 21
    return sign | ((113 - lz) << 23) | (((m << lz) & 0x3FF) << 13)
}
