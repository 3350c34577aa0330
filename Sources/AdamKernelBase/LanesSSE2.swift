#if arch(x86_64)
import _Builtin_intrinsics.intel

// SSE2 is part of the x86-64 baseline, so these paths need no CPU check.

/// Four float32 lanes in an XMM register.
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

/// Two float64 lanes in an XMM register.
public struct SSE2DoubleLanes: AdamLanes {
    public var v: __m128d
    @inline(__always) public init(_ v: __m128d) { self.v = v }
    @inline(__always) public static var width: Int { 2 }
    @inline(__always) public init(broadcast: Double) { v = _mm_set1_pd(broadcast) }
    @inline(__always) public static func load(_ p: UnsafePointer<Double>) -> SSE2DoubleLanes { SSE2DoubleLanes(_mm_loadu_pd(p)) }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Double>) { _mm_storeu_pd(p, v) }
    @inline(__always) public static func + (a: SSE2DoubleLanes, b: SSE2DoubleLanes) -> SSE2DoubleLanes { SSE2DoubleLanes(_mm_add_pd(a.v, b.v)) }
    @inline(__always) public static func - (a: SSE2DoubleLanes, b: SSE2DoubleLanes) -> SSE2DoubleLanes { SSE2DoubleLanes(_mm_sub_pd(a.v, b.v)) }
    @inline(__always) public static func * (a: SSE2DoubleLanes, b: SSE2DoubleLanes) -> SSE2DoubleLanes { SSE2DoubleLanes(_mm_mul_pd(a.v, b.v)) }
    @inline(__always) public static func / (a: SSE2DoubleLanes, b: SSE2DoubleLanes) -> SSE2DoubleLanes { SSE2DoubleLanes(_mm_div_pd(a.v, b.v)) }
    @inline(__always) public func negated() -> SSE2DoubleLanes { SSE2DoubleLanes(_mm_xor_pd(v, _mm_set1_pd(-0.0))) }
    @inline(__always) public func squareRoot() -> SSE2DoubleLanes { SSE2DoubleLanes(_mm_sqrt_pd(v)) }
    @inline(__always) public static func greaterOrSecond(_ a: SSE2DoubleLanes, _ b: SSE2DoubleLanes) -> SSE2DoubleLanes {
        SSE2DoubleLanes(_mm_max_pd(a.v, b.v))
    }
}

public let sse2Kernels = AdamKernels(f32: kernel(SSE2Lanes.self), f64: kernel(SSE2DoubleLanes.self))
#endif
