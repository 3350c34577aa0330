import XCTest
import SwiftAdamCore

/// The GradScaler "found_inf" step: any NaN/±Inf grad anywhere skips the whole step,
/// changing nothing; without the flag non-finite values flow through the formula.
final class SkipNonFiniteTests: XCTestCase {
    /// Tensor 0 has 37 elements (vector body 0..<32 for AVX2, tail 32...36), tensor 1 one
    /// element, tensor 2 is a middle tensor of 64, tensor 3 ends the group with 19.
    let lengths = [37, 1, 64, 19]
    let badValues: [Float] = [.nan, -.nan, .signalingNaN, .infinity, -.infinity]
    /// (tensor, element): first element, a vector tail, a one-element tensor, the middle
    /// of a middle tensor, the last element of the group.
    let positions = [(0, 0), (0, 35), (0, 36), (1, 0), (2, 31), (3, 18)]

    func makeState(_ h: Hyperparameters, seed: UInt64) throws -> (AdamState, Buffers, TestRNG) {
        var rng = TestRNG(seed: seed)
        let state = try AdamState(lengths: lengths, hyper: h)
        let params = Buffers(lengths.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } })
        // Two normal steps first so the moments and step counts are not trivially zero.
        for _ in 0..<2 {
            try state.stepGroup(params, Buffers(lengths.map { n in rng.floats(n) { $0.gradient() } }))
        }
        return (state, params, rng)
    }

    func testAnyNonFiniteGradSkipsTheWholeStepBitIdentically() throws {
        var cases = 0
        for opt in [Options(amsgrad: true, decay: .decoupled, maximize: false, biasCorrection: true),
                    Options(amsgrad: false, decay: .l2, maximize: true, biasCorrection: false)] {
            let h = opt.hyper(lr: 1e-2)
            for backend in Backend.supported {
                let (state, params, seeded) = try makeState(h, seed: 31)
                var rng = seeded
                for bad in badValues {
                    for (t, e) in positions {
                        let grads = Buffers(lengths.map { n in rng.floats(n) { $0.gradient() } })
                        grads[t][e] = bad
                        let snap = state.snapshot()
                        let p = params.flat
                        let outcome = try state.stepGroup(params, grads, skipNonFinite: true, backend: backend)
                        let what = "\(opt) \(backend): \(bad) at tensor \(t) element \(e)"
                        XCTAssertEqual(outcome, .skipped, what)
                        assertBitsEqual(params.flat, p, "\(what): params")
                        assertBytesEqual(state.snapshot(), snap, "\(what): moments/steps/config")
                        XCTAssertEqual(Array(state.steps), [2, 2, 2, 2], what)
                        cases += 1
                    }
                }
                // A non-finite value in a tensor whose grad is not passed is never read;
                // all-finite extremes (max float, denormals, -0) are not "non-finite".
                let grads = Buffers(lengths.map { n in rng.floats(n) { $0.gradient() } })
                grads[0][0] = .greatestFiniteMagnitude
                grads[0][36] = -.greatestFiniteMagnitude
                grads[2][5] = .leastNonzeroMagnitude
                grads[3][18] = -0.0
                XCTAssertEqual(try state.stepGroup(params, grads, skipNonFinite: true, backend: backend), .applied,
                               "\(backend): finite extremes were treated as non-finite")
                XCTAssertEqual(Array(state.steps), [3, 3, 3, 3])
                grads[1][0] = .nan
                XCTAssertEqual(try state.stepGroup(params, grads, skip: [1], skipNonFinite: true, backend: backend), .applied,
                               "\(backend): a NaN in a skipped (nil) tensor must not be seen")
                XCTAssertEqual(Array(state.steps), [4, 3, 4, 4])
            }
        }
        XCTAssertGreaterThan(cases, 0)
    }

    /// Without the flag: the step is applied; a NaN grad makes that element's params and
    /// moments NaN, +-Inf gives m = +-Inf, v = Inf and a NaN param (Inf/Inf), exactly as the
    /// formula; every other element is updated normally.
    func testWithoutTheFlagNonFiniteValuesPropagateLikeTheFormula() throws {
        for bad: Float in [.nan, .infinity, -.infinity] {
            for amsgrad in [false, true] {
                let h = Hyperparameters(lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0,
                                        flags: amsgrad ? [.amsgrad] : [])
                var rng = TestRNG(seed: 5)
                let p = rng.floats(37) { Float($0.uniform(-1, 1)) }
                var g = rng.floats(37) { $0.gradient() }
                g[33] = bad
                for backend in Backend.supported {
                    let got = try librarySteps(h, from: TensorState(p: p), grads: [g, g.map { $0 == bad ? 1 : $0 }],
                                               backend: backend)
                    let want = emulatedSteps(h, from: TensorState(p: p), grads: [g, g.map { $0 == bad ? 1 : $0 }])
                    assertMatchesEmulation(got, want, amsgrad: amsgrad, "\(bad) amsgrad=\(amsgrad) \(backend)")
                    XCTAssertTrue(got.p[33].isNaN, "param of the bad element")
                    if bad.isNaN {
                        XCTAssertTrue(got.m[33].isNaN && got.v[33].isNaN)
                    } else {
                        XCTAssertTrue(got.m[33].isNaN || got.m[33].isInfinite, "exp_avg \(got.m[33])")
                        XCTAssertEqual(got.v[33], .infinity)
                    }
                    XCTAssertEqual(got.p.filter { $0.isNaN }.count, 1, "NaN leaked to other elements")
                    XCTAssertEqual(got.step, 2)
                }
                // Through the skip flag, the same NaN is refused.
                let s = try AdamState(lengths: [37], hyper: h)
                XCTAssertEqual(try s.stepGroup(Buffers([p]), Buffers([g]), skipNonFinite: true), .skipped)
            }
        }
    }
}
