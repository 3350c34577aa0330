#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Four lanes in an XMM register. SSE2 is part of the x86-64 baseline, so this path
/// needs no CPU check.
public struct SSE2Lanes: AdamLanes {
    public var v: __m128
    @inline(__always) public init(_ v: __m128) { self.v = v }
    @inline(__always) public static var width: Int { 4 }
    @inline(__always) public init(broadcast: Float) { v = _mm_set1_ps(broadcast) }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> SSE2Lanes { SSE2Lanes(_mm_loadu_ps(p)) }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Float>) { _mm_storeu_ps(p, v) }
    @inline(__always) public static func + (a: SSE2Lanes, b: SSE2Lanes) -> SSE2Lanes { SSE2Lanes(_mm_add_ps(a.v, b.v)) }
    @inline(__always) public static func - (a: SSE2Lanes, b: SSE2Lanes) -> SSE2Lanes { SSE2Lanes(_mm_sub_ps(a.v, b.v)) }
    @inline(__always) public static func * (a: SSE2Lanes, b: SSE2Lanes) -> SSE2Lanes { SSE2Lanes(_mm_mul_ps(a.v, b.v)) }
    @inline(__always) public static func / (a: SSE2Lanes, b: SSE2Lanes) -> SSE2Lanes { SSE2Lanes(_mm_div_ps(a.v, b.v)) }
    @inline(__always) public func negated() -> SSE2Lanes { SSE2Lanes(_mm_xor_ps(v, _mm_set1_ps(-0.0))) }
    @inline(__always) public func squareRoot() -> SSE2Lanes { SSE2Lanes(_mm_sqrt_ps(v)) }
    @inline(__always) public static func greaterOrSecond(_ a: SSE2Lanes, _ b: SSE2Lanes) -> SSE2Lanes {
        SSE2Lanes(_mm_max_ps(a.v, b.v))
    }
}
#endif

#if arch(x86_64)
public func adamUpdateSSE2(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                           m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                           vmax: UnsafeMutablePointer<Float>?, count: Int, s: KernelScalars) {
    adamUpdate(SSE2Lanes.self, p: p, g: g, m: m, v: v, vmax: vmax, count: count, s: s)
}

public func allFiniteSSE2(_ g: UnsafePointer<Float>, count: Int) -> Bool {
    allFinite(SSE2Lanes.self, g, count: count)
}
#endif
