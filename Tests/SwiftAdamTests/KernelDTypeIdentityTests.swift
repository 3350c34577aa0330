import XCTest
import AdamKernelBase
import SwiftAdamCore

/// float64 and the keras flavour on every kernel path: BIT-IDENTICAL results to the scalar
/// path for every option, on any input (tails, misaligned pointers, NaN, ±Inf, denormals,
/// huge values). NaN payloads are not compared (see assertBitsEqualExceptNaNPayload).
final class KernelDTypeIdentityTests: XCTestCase {
    let lengths = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 31, 32, 33, 63, 64, 65, 100, 257]

    func testEverySupportedPathHasBothDTypesWithTheExpectedWidths() {
        for b in Backend.supported {
            XCTAssertNotNil(kernelEntry(b, Float.self), "\(b): float32 entry missing or of the wrong width")
            XCTAssertNotNil(kernelEntry(b, Double.self), "\(b): float64 entry missing or of the wrong width")
        }
        print("kernel widths (float32, float64): " +
              Backend.supported.map { "\($0.rawValue) \($0.kernels.f32.width)/\($0.kernels.f64.width)" }.joined(separator: ", "))
    }

    /// A value for one input array: mostly ordinary, often special.
    static func value<T: AdamElement>(_ rng: inout TestRNG, nonNegative: Bool) -> T {
        let specials: [T] = [.nan, -.nan, .signalingNaN, .infinity, -.infinity, 0, -0.0,
                             .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
                             .greatestFiniteMagnitude, -.greatestFiniteMagnitude, T(1e30), T(-1e30), T(1e-30)]
        switch rng.int(10) {
        case 0, 1:
            return specials[rng.int(specials.count)]
        case 2:   // denormal
            let d = T.leastNormalMagnitude * T(rng.uniform(0, 1))
            return rng.sign() < 0 && !nonNegative ? -d : d
        default:
            let x = T(rng.logUniform(-6, 2))
            return nonNegative ? abs(x) * abs(x) : x
        }
    }

    /// Every supported path against the scalar path, for every option combination.
    func assertPathsAgree<T: AdamElement>(_: T.Type, _ flavor: AdamFlavor, seed: UInt64) {
        let paths = Backend.supported.compactMap { b in kernelEntry(b, T.self).map { (b, $0) } }
        XCTAssertGreaterThanOrEqual(paths.count, 2, "nothing to compare")
        var rng = TestRNG(seed: seed)
        var compared = 0, nanOutputs = 0
        let variants: [(beta1: Double, t: UInt64, eps: Double)] = [(0.9, 1, 1e-8), (0.3, 50, 1e-8), (0.9, 7, 0)]
        for opt in Options.all {
            for variant in variants {
                let h = opt.hyper(lr: 1e-2, beta1: variant.beta1, eps: variant.eps, weightDecay: 0.1)
                let s = KernelScalars<T>(lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay,
                                         amsgrad: opt.amsgrad, decoupled: opt.decay == .decoupled, maximize: opt.maximize,
                                         biasCorrection: opt.biasCorrection, t: variant.t, flavor: flavor)
                for n in lengths {
                    let misalign = rng.int(4)
                    let inputs: [[T]] = (0..<5).map { k in
                        (0..<n).map { _ in Self.value(&rng, nonNegative: k == 4 || (k == 3 && rng.int(8) != 0)) }
                    }
                    let results = paths.map { (b, k) in (b, runKernel(k, inputs, misalign: misalign, amsgrad: opt.amsgrad, s)) }
                    let (b0, want) = results[0]
                    for (b, got) in results {
                        XCTAssertTrue(differingIndices(got[1], inputs[1]).isEmpty, "\(b) wrote into grads")
                        if !opt.amsgrad { XCTAssertTrue(differingIndices(got[4], inputs[4]).isEmpty, "\(b) touched vmax") }
                        if b == b0 { continue }
                        for (k, name) in [(0, "params"), (2, "exp_avg"), (3, "exp_avg_sq"), (4, "max_exp_avg_sq")] {
                            let bad = differingIndices(got[k], want[k])
                            if let i = bad.first {
                                XCTFail("\(T.self) \(flavor) \(opt) beta1=\(variant.beta1) t=\(variant.t) eps=\(variant.eps) " +
                                        "n=\(n): \(b) vs \(b0) \(name): \(bad.count) differ, first [\(i)] \(got[k][i]) vs \(want[k][i])")
                            }
                            nanOutputs += got[k].filter(\.isNaN).count
                        }
                        compared += n
                    }
                }
            }
        }
        print("\(T.self) \(flavor): paths \(paths.map { $0.0.rawValue }) agree on \(compared) element updates " +
              "(\(nanOutputs) NaN outputs, payload not compared)")
        XCTAssertGreaterThan(nanOutputs, 0, "the special inputs should produce NaNs")
    }

    func testFloat64TorchIsBitIdenticalOnEveryPath() { assertPathsAgree(Double.self, .torch, seed: 0x64) }
    func testFloat64KerasIsBitIdenticalOnEveryPath() { assertPathsAgree(Double.self, .keras, seed: 0x65) }
    func testFloat32KerasIsBitIdenticalOnEveryPath() { assertPathsAgree(Float.self, .keras, seed: 0x66) }

    /// maximize flips the gradient's sign bit on every path and dtype: a zero gradient
    /// becomes -0, which then decides the sign of zero moments and params.
    func testMaximizeFlipsSignedZerosOnEveryPath() {
        func check<T: AdamElement>(_: T.Type, _ flavor: AdamFlavor) {
            let n = 19   // vectors of every width plus a tail
            let g: [T] = (0..<n).map { [0, -0.0, .nan, -.nan][$0 % 4] }
            let p: [T] = (0..<n).map { $0 % 2 == 0 ? 0 : -0.0 }
            let inputs = [p, g, [T](repeating: -0.0, count: n), [T](repeating: 0, count: n), [T](repeating: 0, count: n)]
            for beta1 in [0.9, 0.0] {
                let s = KernelScalars<T>(lr: 1e-3, beta1: beta1, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false,
                                         decoupled: false, maximize: true, biasCorrection: true, t: 1, flavor: flavor)
                let results = Backend.supported.compactMap { b in
                    kernelEntry(b, T.self).map { (b, runKernel($0, inputs, misalign: 0, amsgrad: false, s)) }
                }
                if beta1 == 0 && flavor == .torch {
                    // torch's lerp with weight 1 is g - (g - m)*0: m = -g exactly, +0 -> -0.
                    // (Keras's m + (g - m)*1 turns -0 + +0 into +0: no such identity.)
                    let m = results[0].1[2]
                    for i in 0..<n where !g[i].isNaN {
                        XCTAssertTrue(m[i] == 0 && m[i].sign != g[i].sign, "\(T.self) \(flavor) scalar: exp_avg[\(i)] = \(m[i])")
                    }
                }
                for (b, got) in results.dropFirst() {
                    for k in [0, 2, 3] {
                        XCTAssertTrue(differingIndices(got[k], results[0].1[k]).isEmpty,
                                      "\(T.self) \(flavor) beta1=\(beta1): \(b) vs scalar, array \(k)")
                    }
                }
            }
        }
        check(Double.self, .torch)
        check(Double.self, .keras)
        check(Float.self, .keras)
    }

    func testFloat64AllFiniteAgreesOnEveryPath() {
        var rng = TestRNG(seed: 0xF64)
        let paths = Backend.supported.compactMap { b in kernelEntry(b, Double.self).map { (b, $0.allFinite) } }
        for n in lengths where n > 0 {
            for bad: Double in [.nan, .infinity, -.infinity, .signalingNaN] {
                for pos in Set([0, n / 2, n - 1, max(0, n - 3)]) {
                    var g = (0..<n).map { _ in rng.logUniform(-300, 300) }
                    g[rng.int(n)] = .greatestFiniteMagnitude
                    for (b, f) in paths { XCTAssertTrue(f(g, n), "\(b) n=\(n): finite input reported non-finite") }
                    g[pos] = bad
                    for (b, f) in paths { XCTAssertFalse(f(g, n), "\(b) n=\(n): \(bad) at \(pos) missed") }
                    for (b, f) in paths { XCTAssertTrue(f(g, pos), "\(b): read past count \(pos)") }
                }
            }
        }
    }
}
