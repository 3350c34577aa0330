import AdamKernelBase
import SwiftAdamCore
#if arch(x86_64)
import AdamKernelAVX2
#endif

typealias KernelUpdate = (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
                          UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?, Int, KernelScalars) -> Void
typealias KernelAllFinite = (UnsafePointer<Float>, Int) -> Bool

/// The exported entry point of each kernel path, called directly (not through the
/// dispatcher). nil for a path this test file does not know yet: the tests then fail,
/// so a new backend cannot go untested.
func kernelEntryPoints(_ b: Backend) -> (update: KernelUpdate, allFinite: KernelAllFinite)? {
    // Switch on the name so that a backend added later falls to `default` (no warning
    // about an unreachable default on CPUs where every case is listed).
    switch b.rawValue {
    case "scalar":
        return ({ adamUpdateScalar(p: $0, g: $1, m: $2, v: $3, vmax: $4, count: $5, s: $6) },
                { allFiniteScalar($0, count: $1) })
    case "simd":
        return ({ adamUpdatePortable(p: $0, g: $1, m: $2, v: $3, vmax: $4, count: $5, s: $6) },
                { allFinitePortable($0, count: $1) })
    #if arch(x86_64)
    case "sse2":
        return ({ adamUpdateSSE2(p: $0, g: $1, m: $2, v: $3, vmax: $4, count: $5, s: $6) },
                { allFiniteSSE2($0, count: $1) })
    case "avx2":
        // Only ever called when Backend.supported contains .avx2 (the CPU has AVX2).
        return ({ adamUpdateAVX2(p: $0, g: $1, m: $2, v: $3, vmax: $4, count: $5, s: $6) },
                { allFiniteAVX2($0, count: $1) })
    #endif
    default:
        return nil
    }
}
