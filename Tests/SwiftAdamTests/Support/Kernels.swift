import AdamKernelBase
import SwiftAdamCore

typealias KernelUpdate = AdamKernel<Float>.Update
typealias KernelAllFinite = AdamKernel<Float>.AllFinite

/// Lanes per vector (float32, float64) of each kernel path, as the tests expect them.
/// A backend missing here gets no entry point (the tests then fail, so a new path cannot
/// go untested), and a table entry with other widths is a path routed to the wrong lanes.
let expectedKernelWidths: [String: (f32: Int, f64: Int)] = [
    "scalar": (1, 1), "simd": (8, 8), "sse2": (4, 2), "avx2": (8, 4), "avx512": (16, 8),
]

/// The kernel table entry of backend `b` for element type T, or nil when the widths are
/// not the expected ones.
func kernelEntry<T: AdamElement>(_ b: Backend, _: T.Type) -> AdamKernel<T>? {
    guard let want = expectedKernelWidths[b.rawValue] else { return nil }
    let k = b.kernels[T.self]
    return k.width == (T.self == Float.self ? want.f32 : want.f64) ? k : nil
}

/// The float32 entry points of backend `b` (see kernelEntry).
func kernelEntryPoints(_ b: Backend) -> (update: KernelUpdate, allFinite: KernelAllFinite)? {
    kernelEntry(b, Float.self).map { ($0.update, $0.allFinite) }
}

/// Same value, signed zeros included, or both NaN: for non-NaN values of a binary format
/// this is bit-for-bit equality, for NaNs it ignores the payload (see
/// assertBitsEqualExceptNaNPayload for why paths may differ there).
func sameBitsOrNaN<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> Bool {
    (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
}

/// Indices where two arrays differ in the sense of sameBitsOrNaN (length mismatch: all).
func differingIndices<T: BinaryFloatingPoint>(_ got: [T], _ want: [T]) -> [Int] {
    if got.count != want.count { return Array(0..<max(got.count, want.count)) }
    return (0..<got.count).filter { !sameBitsOrNaN(got[$0], want[$0]) }
}

/// One kernel call on copies of the five arrays, each starting `misalign` elements past
/// an aligned address. Returns p, g, m, v, vmax after the call.
func runKernel<T: AdamElement>(_ k: AdamKernel<T>, _ arrays: [[T]], misalign: Int, amsgrad: Bool,
                               _ s: KernelScalars<T>) -> [[T]] {
    let n = arrays[0].count
    let bufs = arrays.map { a -> UnsafeMutablePointer<T> in
        let p = UnsafeMutablePointer<T>.allocate(capacity: n + misalign + 1)
        p.initialize(repeating: 0, count: n + misalign + 1)
        (p + misalign).update(from: a, count: n)
        return p
    }
    defer { bufs.forEach { $0.deallocate() } }
    k.update(bufs[0] + misalign, bufs[1] + misalign, bufs[2] + misalign, bufs[3] + misalign,
             amsgrad ? bufs[4] + misalign : nil, n, s)
    return bufs.map { Array(UnsafeBufferPointer(start: $0 + misalign, count: n)) }
}
