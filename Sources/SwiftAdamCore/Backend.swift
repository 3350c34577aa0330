import AdamKernelBase
#if arch(x86_64)
import AdamKernelAVX2
import AdamKernelAVX512
import CPUFeatures
#endif

/// A kernel path. All of them compute bit-identical results (one generic update,
/// AdamKernelBase/AdamUpdate.swift); they differ only in how many lanes they use.
public enum Backend: String, CaseIterable, Sendable {
    case scalar, simd, sse2, avx2, avx512

    /// The paths this CPU can run, narrowest first.
    public static let supported: [Backend] = {
        #if arch(x86_64)
        // `simd` (portable Swift SIMD) is scalarized on x86-64: slower than SSE2, so
        // listed before it and never picked by default here.
        var paths: [Backend] = [.scalar, .simd, .sse2]
        if swiftadam_internal_cpu_has_avx2() != 0 { paths.append(.avx2) }
        if swiftadam_internal_cpu_has_avx512() != 0 { paths.append(.avx512) }
        return paths
        #else
        return [.scalar, .simd]
        #endif
    }()

    /// The widest supported path, or SWIFTADAM_ISA if it names a supported one. An
    /// unsupported request falls back to the widest supported path (never SIGILL), and an
    /// unknown or unsupported value is reported once on stderr, not silently ignored.
    public static let active: Backend = {
        let widest = supported.last ?? .scalar
        guard let env = getenv("SWIFTADAM_ISA"), env.pointee != 0 else { return widest }
        let asked = String(cString: env)
        guard let want = Backend(rawValue: asked.lowercased()) else {
            let known = allCases.map(\.rawValue).joined(separator: ", ")
            warn("SWIFTADAM_ISA=\(asked) is not a kernel path (\(known)); using \(widest.rawValue)")
            return widest
        }
        if !supported.contains(want) {
            warn("SWIFTADAM_ISA=\(asked): this CPU cannot run that path; using \(widest.rawValue)")
            return widest
        }
        return want
    }()

    private static func warn(_ text: String) {
        let line = "swiftadam: \(text)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    /// This path's 16-bit conversion loops (AVX2's compiled for it, the others baseline).
    public var halfKernels: HalfKernels {
        #if arch(x86_64)
        if self == .avx2 { return avx2HalfKernels }
        #endif
        return baseHalfKernels
    }

    /// This path's kernel table (one entry per dtype), built in the module compiled for it.
    public var kernels: AdamKernels {
        switch self {
        #if arch(x86_64)
        case .avx512: return avx512Kernels
        case .avx2: return avx2Kernels
        case .sse2: return sse2Kernels
        #endif
        case .simd: return portableKernels
        default: return scalarKernels
        }
    }
}
