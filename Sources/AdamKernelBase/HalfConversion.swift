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
    @inlinable @inline(__always)
    public func widen(_ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count: Int, invScale: Float) {
        switch self {
        case .bfloat16: widenLoop(.bfloat16, src, dst, count, invScale)
        case .float16: widenLoop(.float16, src, dst, count, invScale)
        }
    }

    /// dst[k] = narrow(src[k]).
    @inlinable @inline(__always)
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
@inlinable @inline(__always)
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

// The float16 conversions compute every case and select one, with no branch: written this
// way they vectorise (each kernel module compiles its own copy, see HalfKernels), and the
// selected value is the same integer result in every lane width.
@inlinable @inline(__always)
public func floatToFloat16Bits(_ x: UInt32) -> UInt16 {
    let sign = (x >> 16) & 0x8000
    let a = x & 0x7FFF_FFFF
    // A float16 normal (a >= 2^-14): exponent rebiased 127 -> 15, then nearest-even by
    // adding 0xFFF plus the kept part's lowest bit; a carry out is the overflow to Inf.
    let r = a &- 0x3800_0000
    let normal = (r &+ 0xFFF &+ ((r >> 13) & 1)) >> 13
    // A float16 subnormal (units of 2^-24): the significand shifted right by 126 - exponent,
    // nearest-even; a shift of 25 or more leaves 0 (also for float32 subnormals and zero).
    let shift = min(126 &- (a >> 23), 25)
    let mant = (a & 0x7F_FFFF) | 0x80_0000
    let sub = (mant &+ ((1 &<< (shift &- 1)) &- 1) &+ ((mant &>> shift) & 1)) &>> shift
    let nan = 0x7E00 | ((a >> 13) & 0x3FF)
    let mag: UInt32 = a > 0x7F80_0000 ? nan : a >= 0x4780_0000 ? 0x7C00 : a >= 0x3880_0000 ? normal : sub
    return UInt16(truncatingIfNeeded: sign | mag)
}

@inlinable @inline(__always)
public func float16ToFloatBits(_ h: UInt16) -> UInt32 {
    let x = UInt32(h)
    let sign = (x & 0x8000) << 16
    let em = x & 0x7FFF, e = em >> 10, m = x & 0x3FF
    let normal = (em << 13) &+ 0x3800_0000                            // exponent rebiased 15 -> 127
    let infNaN = (em << 13) | 0x7F80_0000 | (m != 0 ? 0x40_0000 : 0)  // a NaN comes out quiet
    // m * 2^-24: both operations exact (m < 2^10, the product a float32 normal), so the
    // result does not depend on the rounding mode or FTZ/DAZ.
    let sub = (Float(m) * 0x1p-24).bitPattern
    return sign | (e == 0x1F ? infNaN : e == 0 ? sub : normal)
}

/// One kernel path's conversion loops (integer code, the same results on every path).
/// Each lane module builds its own so that the loops are compiled, and vectorised, for
/// that module's instruction set.
public struct HalfKernels: Sendable {
    public typealias Widen = @Sendable (HalfFormat, UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int, Float) -> Void
    public typealias Narrow = @Sendable (HalfFormat, UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void
    public typealias Scale = @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Float) -> Void
    /// widen(format, src, dst, count, invScale): 16-bit grads to float32, times invScale.
    public let widen: Widen
    /// narrow(format, src, dst, count): the master rounded into the params.
    public let narrow: Narrow
    /// scale(src, dst, count, invScale): float32 grads times invScale.
    public let scale: Scale

    @inlinable
    public init(widen: @escaping Widen, narrow: @escaping Narrow, scale: @escaping Scale) {
        self.widen = widen
        self.narrow = narrow
        self.scale = scale
    }
}

/// The conversion loops as compiled for the baseline instruction set.
public let baseHalfKernels = HalfKernels(
    widen: { f, s, d, n, inv in f.widen(s, into: d, count: n, invScale: inv) },
    narrow: { f, s, d, n in f.narrow(s, into: d, count: n) },
    scale: { s, d, n, inv in scaleGrads(s, into: d, count: n, invScale: inv) })
