#if arch(x86_64)
import _Builtin_intrinsics.intel
import AdamKernelBase

// This module is compiled with -target-cpu skylake-avx512; nothing in it may run unless
// the CPU reports AVX-512 F/CD/BW/DQ/VL and the OS saves ZMM state (see
// CPUFeatures/cpu_features.c and SwiftAdamCore/Backend.swift).

/// Sixteen float32 lanes in a ZMM register.
public struct AVX512Lanes: AdamLanes {
    public var v: __m512
    @inline(__always) public init(_ v: __m512) { self.v = v }
    @inline(__always) public static var width: Int { 16 }
    @inline(__always) public init(broadcast: Float) { v = _mm512_set1_ps(broadcast) }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> AVX512Lanes { AVX512Lanes(_mm512_loadu_ps(p)) }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Float>) { _mm512_storeu_ps(p, v) }
    @inline(__always) public static func + (a: AVX512Lanes, b: AVX512Lanes) -> AVX512Lanes { AVX512Lanes(_mm512_add_ps(a.v, b.v)) }
    @inline(__always) public static func - (a: AVX512Lanes, b: AVX512Lanes) -> AVX512Lanes { AVX512Lanes(_mm512_sub_ps(a.v, b.v)) }
    @inline(__always) public static func * (a: AVX512Lanes, b: AVX512Lanes) -> AVX512Lanes { AVX512Lanes(_mm512_mul_ps(a.v, b.v)) }
    @inline(__always) public static func / (a: AVX512Lanes, b: AVX512Lanes) -> AVX512Lanes { AVX512Lanes(_mm512_div_ps(a.v, b.v)) }
    @inline(__always) public func negated() -> AVX512Lanes { AVX512Lanes(_mm512_xor_ps(v, _mm512_set1_ps(-0.0))) }
    @inline(__always) public func squareRoot() -> AVX512Lanes { AVX512Lanes(_mm512_sqrt_ps(v)) }
    @inline(__always) public static func greaterOrSecond(_ a: AVX512Lanes, _ b: AVX512Lanes) -> AVX512Lanes {
        AVX512Lanes(_mm512_max_ps(a.v, b.v))
    }
}

/// Eight float64 lanes in a ZMM register.
public struct AVX512DoubleLanes: AdamLanes {
    public var v: __m512d
    @inline(__always) public init(_ v: __m512d) { self.v = v }
    @inline(__always) public static var width: Int { 8 }
    @inline(__always) public init(broadcast: Double) { v = _mm512_set1_pd(broadcast) }
    @inline(__always) public static func load(_ p: UnsafePointer<Double>) -> AVX512DoubleLanes { AVX512DoubleLanes(_mm512_loadu_pd(p)) }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Double>) { _mm512_storeu_pd(p, v) }
    @inline(__always) public static func + (a: AVX512DoubleLanes, b: AVX512DoubleLanes) -> AVX512DoubleLanes { AVX512DoubleLanes(_mm512_add_pd(a.v, b.v)) }
    @inline(__always) public static func - (a: AVX512DoubleLanes, b: AVX512DoubleLanes) -> AVX512DoubleLanes { AVX512DoubleLanes(_mm512_sub_pd(a.v, b.v)) }
    @inline(__always) public static func * (a: AVX512DoubleLanes, b: AVX512DoubleLanes) -> AVX512DoubleLanes { AVX512DoubleLanes(_mm512_mul_pd(a.v, b.v)) }
    @inline(__always) public static func / (a: AVX512DoubleLanes, b: AVX512DoubleLanes) -> AVX512DoubleLanes { AVX512DoubleLanes(_mm512_div_pd(a.v, b.v)) }
    @inline(__always) public func negated() -> AVX512DoubleLanes { AVX512DoubleLanes(_mm512_xor_pd(v, _mm512_set1_pd(-0.0))) }
    @inline(__always) public func squareRoot() -> AVX512DoubleLanes { AVX512DoubleLanes(_mm512_sqrt_pd(v)) }
    @inline(__always) public static func greaterOrSecond(_ a: AVX512DoubleLanes, _ b: AVX512DoubleLanes) -> AVX512DoubleLanes {
        AVX512DoubleLanes(_mm512_max_pd(a.v, b.v))
    }
}

/// The AVX-512 kernel table, specialised here so that it is compiled for AVX-512.
public let avx512Kernels = AdamKernels(f32: kernel(AVX512Lanes.self), f64: kernel(AVX512DoubleLanes.self))

/// This module's copy of AdamKernelBase's `kernel(_:)` (see there why it is not shared).
private func kernel<L: AdamLanes>(_: L.Type) -> AdamKernel<L.Scalar> {
    AdamKernel(width: L.width, update: { adamUpdate(L.self, p: $0, g: $1, m: $2, v: $3, vmax: $4, count: $5, s: $6) },
               allFinite: { allFinite(L.self, $0, count: $1) })
}
#endif
