#if arch(x86_64)
import _Builtin_intrinsics.intel
import AdamKernelBase

// This module is compiled with -target-cpu haswell; nothing in it may run unless the
// CPU reports AVX2 (see SwiftAdamCore/Backend.swift).

/// Eight float32 lanes in a YMM register.
public struct AVX2Lanes: AdamLanes {
    public var v: __m256
    @inline(__always) public init(_ v: __m256) { self.v = v }
    @inline(__always) public static var width: Int { 8 }
    @inline(__always) public init(broadcast: Float) { v = _mm256_set1_ps(broadcast) }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> AVX2Lanes { AVX2Lanes(_mm256_loadu_ps(p)) }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Float>) { _mm256_storeu_ps(p, v) }
    @inline(__always) public static func + (a: AVX2Lanes, b: AVX2Lanes) -> AVX2Lanes { AVX2Lanes(_mm256_add_ps(a.v, b.v)) }
    @inline(__always) public static func - (a: AVX2Lanes, b: AVX2Lanes) -> AVX2Lanes { AVX2Lanes(_mm256_sub_ps(a.v, b.v)) }
    @inline(__always) public static func * (a: AVX2Lanes, b: AVX2Lanes) -> AVX2Lanes { AVX2Lanes(_mm256_mul_ps(a.v, b.v)) }
    @inline(__always) public static func / (a: AVX2Lanes, b: AVX2Lanes) -> AVX2Lanes { AVX2Lanes(_mm256_div_ps(a.v, b.v)) }
    @inline(__always) public func negated() -> AVX2Lanes { AVX2Lanes(_mm256_xor_ps(v, _mm256_set1_ps(-0.0))) }
    @inline(__always) public func squareRoot() -> AVX2Lanes { AVX2Lanes(_mm256_sqrt_ps(v)) }
    @inline(__always) public static func greaterOrSecond(_ a: AVX2Lanes, _ b: AVX2Lanes) -> AVX2Lanes {
        AVX2Lanes(_mm256_max_ps(a.v, b.v))
    }
}

/// Four float64 lanes in a YMM register.
public struct AVX2DoubleLanes: AdamLanes {
    public var v: __m256d
    @inline(__always) public init(_ v: __m256d) { self.v = v }
    @inline(__always) public static var width: Int { 4 }
    @inline(__always) public init(broadcast: Double) { v = _mm256_set1_pd(broadcast) }
    @inline(__always) public static func load(_ p: UnsafePointer<Double>) -> AVX2DoubleLanes { AVX2DoubleLanes(_mm256_loadu_pd(p)) }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Double>) { _mm256_storeu_pd(p, v) }
    @inline(__always) public static func + (a: AVX2DoubleLanes, b: AVX2DoubleLanes) -> AVX2DoubleLanes { AVX2DoubleLanes(_mm256_add_pd(a.v, b.v)) }
    @inline(__always) public static func - (a: AVX2DoubleLanes, b: AVX2DoubleLanes) -> AVX2DoubleLanes { AVX2DoubleLanes(_mm256_sub_pd(a.v, b.v)) }
    @inline(__always) public static func * (a: AVX2DoubleLanes, b: AVX2DoubleLanes) -> AVX2DoubleLanes { AVX2DoubleLanes(_mm256_mul_pd(a.v, b.v)) }
    @inline(__always) public static func / (a: AVX2DoubleLanes, b: AVX2DoubleLanes) -> AVX2DoubleLanes { AVX2DoubleLanes(_mm256_div_pd(a.v, b.v)) }
    @inline(__always) public func negated() -> AVX2DoubleLanes { AVX2DoubleLanes(_mm256_xor_pd(v, _mm256_set1_pd(-0.0))) }
    @inline(__always) public func squareRoot() -> AVX2DoubleLanes { AVX2DoubleLanes(_mm256_sqrt_pd(v)) }
    @inline(__always) public static func greaterOrSecond(_ a: AVX2DoubleLanes, _ b: AVX2DoubleLanes) -> AVX2DoubleLanes {
        AVX2DoubleLanes(_mm256_max_pd(a.v, b.v))
    }
}

/// The AVX2 kernel table, specialised here so that it is compiled for Haswell.
public let avx2Kernels = AdamKernels(f32: kernel(AVX2Lanes.self), f64: kernel(AVX2DoubleLanes.self))

/// The 16-bit conversion loops compiled for Haswell (AVX2 integer lanes).
public let avx2HalfKernels = HalfKernels(
    widen: { f, s, d, n, inv in f.widen(s, into: d, count: n, invScale: inv) },
    narrow: { f, s, d, n in f.narrow(s, into: d, count: n) },
    scale: { s, d, n, inv in scaleGrads(s, into: d, count: n, invScale: inv) })

/// This module's copy of AdamKernelBase's `kernel(_:)` (see there why it is not shared).
private func kernel<L: AdamLanes>(_: L.Type) -> AdamKernel<L.Scalar> {
    AdamKernel(width: L.width, update: { adamUpdate(L.self, p: $0, g: $1, m: $2, v: $3, vmax: $4, count: $5, s: $6) },
               allFinite: { allFinite(L.self, $0, count: $1) })
}
#endif
