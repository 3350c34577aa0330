#if arch(x86_64)
import _Builtin_intrinsics.intel
import AdamKernelBase

/// Eight lanes in a YMM register. This module is compiled with -target-cpu haswell;
/// nothing in it may run unless the CPU reports AVX2 (see SwiftAdamCore/Backend.swift).
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

/// The AVX2 instantiations, as plain non-generic entry points the dispatcher can call.
public func adamUpdateAVX2(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                           m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                           vmax: UnsafeMutablePointer<Float>?, count: Int, s: KernelScalars) {
    adamUpdate(AVX2Lanes.self, p: p, g: g, m: m, v: v, vmax: vmax, count: count, s: s)
}

public func allFiniteAVX2(_ g: UnsafePointer<Float>, count: Int) -> Bool {
    allFinite(AVX2Lanes.self, g, count: count)
}
#endif
