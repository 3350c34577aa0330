import XCTest
import AdamKernelBase
import SwiftAdamCore

/// Every kernel path gives BIT-IDENTICAL results to every other path and to the
/// scalar one, for every option, on any input (odd lengths, misaligned pointers, NaN,
/// ±Inf, denormals, huge values). NaN results must be NaN on every path; their
/// payload bits are not compared (see assertBitsEqualExceptNaNPayload).
final class BackendIdentityTests: XCTestCase {
    let lengths = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 31, 32, 33, 63, 64, 65, 100, 257]

    func testEverySupportedBackendHasAnEntryPoint() {
        XCTAssertEqual(Backend.supported.first, .scalar)
        XCTAssertTrue(Backend.supported.contains(Backend.active), "active \(Backend.active) not in supported")
        for b in Backend.supported {
            XCTAssertNotNil(kernelEntryPoints(b), "backend \(b) has no entry point in Tests/SwiftAdamTests/Support/Kernels.swift")
        }
        print("kernel paths on this CPU: \(Backend.supported.map(\.rawValue)), active: \(Backend.active.rawValue)")
    }

    /// A value for one input array: mostly ordinary, often special.
    static func value(_ rng: inout TestRNG, nonNegative: Bool) -> Float {
        let specials: [Float] = [.nan, -.nan, Float(bitPattern: 0x7FC0_1234), .signalingNaN, .infinity, -.infinity,
                                 0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
                                 .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e30, -1e30, 1e-30]
        switch rng.int(10) {
        case 0, 1:
            return specials[rng.int(specials.count)]
        case 2:   // denormal
            let d = Float(bitPattern: UInt32(1 + rng.int(0x7F_FFFF)))
            return rng.sign() < 0 && !nonNegative ? -d : d
        default:
            let x = Float(rng.logUniform(-6, 2))
            return nonNegative ? abs(x) * abs(x) : x
        }
    }

    func testKernelEntryPointsAreBitIdenticalOnAnyInput() throws {
        let paths = Backend.supported.compactMap { b in kernelEntryPoints(b).map { (b, $0) } }
        XCTAssertGreaterThanOrEqual(paths.count, 2, "nothing to compare")
        var rng = TestRNG(seed: 0x1D)
        var compared = 0, nanOutputs = 0, nanPayloadDiffs = 0
        let variants: [(beta1: Double, t: UInt64, eps: Double)] = [(0.9, 1, 1e-8), (0.3, 50, 1e-8), (0.9, 7, 0)]
        for opt in Options.all {
            for variant in variants {
                let h = opt.hyper(lr: 1e-2, beta1: variant.beta1, eps: variant.eps, weightDecay: 0.1)
                let s = KernelScalars<Float>(lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay,
                                      amsgrad: opt.amsgrad, decoupled: opt.decay == .decoupled, maximize: opt.maximize,
                                      biasCorrection: opt.biasCorrection, t: variant.t)
                for n in lengths {
                    let misalign = rng.int(4)   // start 0-3 floats past an aligned address
                    let p = (0..<n).map { _ in Self.value(&rng, nonNegative: false) }
                    let g = (0..<n).map { _ in Self.value(&rng, nonNegative: false) }
                    let m = (0..<n).map { _ in Self.value(&rng, nonNegative: false) }
                    let v = (0..<n).map { _ in Self.value(&rng, nonNegative: rng.int(8) != 0) }
                    let vm = (0..<n).map { _ in Self.value(&rng, nonNegative: true) }
                    var results: [(Backend, [[Float]])] = []
                    for (b, k) in paths {
                        let bufs = Buffers([p, g, m, v, vm].map { [Float](repeating: 0, count: misalign) + $0 })
                        k.update(bufs.ptrs[0] + misalign, bufs.ptrs[1] + misalign, bufs.ptrs[2] + misalign,
                                 bufs.ptrs[3] + misalign, opt.amsgrad ? bufs.ptrs[4] + misalign : nil, n, s)
                        results.append((b, bufs.arrays.map { Array($0.dropFirst(misalign)) }))
                        assertBitsEqual(bufs.array(1), [Float](repeating: 0, count: misalign) + g, "\(b) wrote into grads")
                    }
                    let (b0, want) = results[0]
                    for (b, got) in results.dropFirst() {
                        let ctx = "\(opt) beta1=\(variant.beta1) t=\(variant.t) eps=\(variant.eps) n=\(n): \(b) vs \(b0)"
                        assertBitsEqualExceptNaNPayload(got[0], want[0], "\(ctx): params")
                        assertBitsEqualExceptNaNPayload(got[2], want[2], "\(ctx): exp_avg")
                        assertBitsEqualExceptNaNPayload(got[3], want[3], "\(ctx): exp_avg_sq")
                        assertBitsEqualExceptNaNPayload(got[4], want[4], "\(ctx): max_exp_avg_sq")
                        for k in [0, 2, 3, 4] {
                            for i in 0..<n where got[k][i].isNaN {
                                nanOutputs += 1
                                if got[k][i].bitPattern != want[k][i].bitPattern { nanPayloadDiffs += 1 }
                            }
                        }
                        compared += n
                    }
                    if !opt.amsgrad { assertBitsEqual(results[0].1[4], vm, "vmax touched without amsgrad") }
                }
            }
        }
        print("kernel paths \(paths.map { $0.0.rawValue }): \(compared) element updates compared bit for bit; " +
              "\(nanOutputs) NaN outputs, \(nanPayloadDiffs) with a different NaN payload than the scalar path")
        XCTAssertGreaterThan(nanOutputs, 0, "the special inputs should produce NaNs")
    }

    /// maximize negates the gradient with a sign flip (x ^ 0x80000000) on every path: a
    /// zero gradient becomes -0 and a NaN's sign bit flips. Signed zeros then decide the
    /// sign of zero moments and params; the scalar path's unary minus is the reference.
    func testMaximizeNegationFlipsSignedZerosAndNaNs() throws {
        let n = 19   // two AVX2 vectors, four SSE2 vectors and a tail
        let g: [Float] = (0..<n).map { [0, -0.0, .nan, -.nan][$0 % 4] }
        let m = [Float](repeating: -0.0, count: n)
        let p: [Float] = (0..<n).map { $0 % 2 == 0 ? 0 : -0.0 }
        let v = [Float](repeating: 0, count: n)
        for beta1 in [0.9, 0.0] {
            let s = KernelScalars<Float>(lr: 1e-3, beta1: beta1, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false,
                                  decoupled: false, maximize: true, biasCorrection: true, t: 1)
            var results: [(Backend, [[Float]])] = []
            for b in Backend.supported {
                guard let k = kernelEntryPoints(b) else { continue }
                let bufs = Buffers([p, g, m, v])
                k.update(bufs.ptrs[0], bufs.ptrs[1], bufs.ptrs[2], bufs.ptrs[3], nil, n, s)
                results.append((b, bufs.arrays))
            }
            // Scalar reference: m = g_neg exactly when beta1 = 0 (lerp weight 1).
            if beta1 == 0 {
                assertBitsEqual(results[0].1[2], g.map { -$0 }, "scalar: exp_avg = -grad bit for bit")
            }
            for (b, got) in results.dropFirst() {
                assertBitsEqual(got[0], results[0].1[0], "beta1=\(beta1) \(b) vs scalar: params")
                assertBitsEqual(got[2], results[0].1[2], "beta1=\(beta1) \(b) vs scalar: exp_avg")
                assertBitsEqual(got[3], results[0].1[3], "beta1=\(beta1) \(b) vs scalar: exp_avg_sq")
            }
        }
    }

    func testAllFiniteAgreesOnEveryPath() {
        var rng = TestRNG(seed: 0xF1)
        let paths = Backend.supported.compactMap { b in kernelEntryPoints(b).map { (b, $0.allFinite) } }
        for n in lengths where n > 0 {
            for bad: Float in [.nan, .infinity, -.infinity, .signalingNaN] {
                for pos in Set([0, n / 2, n - 1, max(0, n - 3)]) {
                    var g = (0..<n).map { _ in Float(rng.logUniform(-40, 38)) }
                    g[rng.int(n)] = .greatestFiniteMagnitude
                    for (b, f) in paths { XCTAssertTrue(f(g, n), "\(b) n=\(n): finite input reported non-finite") }
                    g[pos] = bad
                    for (b, f) in paths { XCTAssertFalse(f(g, n), "\(b) n=\(n): \(bad) at \(pos) missed") }
                    // Counting only the elements before it: finite again.
                    for (b, f) in paths { XCTAssertTrue(f(g, pos), "\(b): read past count \(pos)") }
                }
            }
        }
        var empty: Float = .nan
        for (b, f) in paths { XCTAssertTrue(f(&empty, 0), "\(b): empty range") }
    }

    /// The whole step (group, scalars per tensor, skip logic) through AdamState with each
    /// backend, gradients with NaN/Inf/denormals in between ordinary steps: identical
    /// params, moments and step counts.
    func testStateStepIsBitIdenticalOnEveryBackend() throws {
        let groupLengths = [0, 1, 7, 33, 100, 5, 1001]
        for (k, opt) in Options.all.enumerated() where k % 2 == 0 || opt.amsgrad {
            var results: [(Backend, [Float], [Float], [UInt64])] = []
            for b in Backend.supported {
                var rng = TestRNG(seed: 500 + UInt64(k))
                let h = opt.hyper(lr: 1e-2, beta1: k % 4 == 0 ? 0.3 : 0.9, weightDecay: 0.1)
                let state = try AdamState(lengths: groupLengths, hyper: h)
                let params = Buffers(groupLengths.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } })
                for s in 0..<6 {
                    let g = Buffers(groupLengths.map { n in rng.floats(n) { Self.value(&$0, nonNegative: false) } })
                    let skip: Set<Int> = s % 2 == 0 ? [3] : []
                    _ = try state.stepGroup(params, g, skip: skip, skipNonFinite: s == 5, backend: b)
                    _ = try state.stepGroup(params, Buffers(groupLengths.map { n in rng.floats(n) { $0.gradient() } }),
                                            skip: skip, backend: b)
                }
                let moments = (0..<groupLengths.count).flatMap { i in
                    state.moment(.expAvg, i) + state.moment(.expAvgSq, i) + (opt.amsgrad ? state.moment(.maxExpAvgSq, i) : [])
                }
                results.append((b, params.flat, moments, Array(state.steps)))
            }
            for (b, p, moments, steps) in results.dropFirst() {
                assertBitsEqualExceptNaNPayload(p, results[0].1, "\(opt): \(b) vs \(results[0].0) params")
                assertBitsEqualExceptNaNPayload(moments, results[0].2, "\(opt): \(b) vs \(results[0].0) moments")
                XCTAssertEqual(steps, results[0].3, "\(opt): \(b) step counts")
            }
        }
    }
}
