import XCTest
import SwiftAdamCore

/// Bit-exact agreement with torch's single-tensor Adam/AdamW op sequence in float32
/// (the header's formula), and the details where a plausible implementation would differ.
final class TorchSemanticsTests: XCTestCase {
    func randomState(_ n: Int, seed: UInt64) -> (TensorState, [Float]) {
        var rng = TestRNG(seed: seed)
        var s = TensorState(p: rng.floats(n) { Float($0.logUniform(-3, 0.5)) })
        s.m = rng.floats(n) { Float($0.logUniform(-4, 1)) }
        s.v = s.m.map { $0 * $0 * Float(1.5) }
        s.vmax = s.v.map { $0 * 1.1 }
        let g = rng.floats(n) { $0.gradient() }
        return (s, g)
    }

    /// Every option combination, several steps, against the emulation, bit for bit, on
    /// every kernel path.
    func testEveryOptionMatchesTorchOpSequenceBitForBit() throws {
        for (k, opt) in Options.all.enumerated() {
            let (start, _) = randomState(61, seed: 10 + UInt64(k))
            var rng = TestRNG(seed: 99 + UInt64(k))
            let grads = (0..<5).map { _ in rng.floats(61) { $0.gradient() } }
            let h = opt.hyper(lr: 3e-3, weightDecay: 0.05)
            let want = emulatedSteps(h, from: start, grads: grads)
            for b in Backend.supported {
                let got = try librarySteps(h, from: start, grads: grads, backend: b)
                assertMatchesEmulation(got, want, amsgrad: opt.amsgrad, "\(opt) backend \(b)")
                assertBitsEqual(got.p, want.p, "\(opt) backend \(b): params bits")
            }
        }
    }

    /// torch computes m with lerp(m, g, w = 1 - beta1), whose ATen kernel uses
    /// m + w*(g - m) when |w| < 0.5 and g - (g - m)*(1 - w) otherwise. The two forms round
    /// differently; beta1 < 0.5 (w > 0.5) must take the second.
    func testLerpFormFollowsTheWeight() throws {
        let n = 2000
        for beta1 in [0.9, 0.6, 0.5, 0.45, 0.3, 0.0] {
            let (start, g) = randomState(n, seed: 7)
            let h = Hyperparameters(lr: 1e-3, beta1: beta1, beta2: 0.999, eps: 1e-8, weightDecay: 0, flags: [])
            let got = try librarySteps(h, from: start, grads: [g])
            let want = emulatedSteps(h, from: start, grads: [g])
            assertBitsEqual(got.m, want.m, "beta1=\(beta1): exp_avg")
            assertBitsEqual(got.p, want.p, "beta1=\(beta1): params")
            // The test discriminates: the other form gives different bits somewhere.
            let w = Float(1 - beta1)
            let high = !(abs(w) < 0.5)
            XCTAssertEqual(high, beta1 <= 0.5, "beta1=\(beta1): branch choice")
            var differ = 0
            for i in 0..<n {
                let other = high ? start.m[i] + w * (g[i] - start.m[i]) : g[i] - (g[i] - start.m[i]) * (1 - w)
                if other.bitPattern != got.m[i].bitPattern { differ += 1 }
            }
            if beta1 != 0.0 {   // w = 1: both forms give g exactly
                XCTAssertGreaterThan(differ, 0, "beta1=\(beta1): the two lerp forms agree everywhere, test is blind")
            }
        }
    }

    /// AdamW: p *= Float(1 - lr*wd) before the update; with zero gradients (m = v = 0,
    /// eps > 0) the update adds -0, so the result is exactly p * factor.
    func testDecoupledDecayFactor() throws {
        let n = 257
        var rng = TestRNG(seed: 3)
        let p = rng.floats(n) { Float($0.logUniform(-3, 2)) }
        for (lr, wd) in [(0.1, 0.3), (1e-3, 1e-2), (0.7, 1.3)] {
            let h = Hyperparameters(lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, flags: [.decoupledWeightDecay])
            let zero = [Float](repeating: 0, count: n)
            let got = try librarySteps(h, from: TensorState(p: p), grads: [zero])
            let factor = Float(1 - lr * wd)
            assertBitsEqual(got.p, p.map { $0 * factor }, "lr=\(lr) wd=\(wd): p * Float(1 - lr*wd)")
            XCTAssertTrue(zip(got.p, p).allSatisfy { $0 != $1 }, "decay did not change params")
            // L2 (coupled) decay with the same numbers is a different update.
            let l2 = Hyperparameters(lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, flags: [])
            let gotL2 = try librarySteps(l2, from: TensorState(p: p), grads: [zero])
            assertBitsEqual(gotL2.p, emulatedSteps(l2, from: TensorState(p: p), grads: [zero]).p, "L2 lr=\(lr) wd=\(wd)")
            XCTAssertNotEqual(gotL2.p, got.p)
        }
    }

    /// maximize with grad g is exactly the minimizing update with -g (torch negates the
    /// gradient first, then adds the L2 term), for every decay kind; on a first step from
    /// zero moments the parameter moves along +g.
    func testMaximizeIsMinimizeOfNegatedGradient() throws {
        let (start, g) = randomState(301, seed: 11)
        let negated = g.map { -$0 }
        for opt in Options.all where opt.maximize {
            var minimizing = opt
            minimizing.maximize = false
            let h = opt.hyper(lr: 1e-2, weightDecay: 0.1)
            let a = try librarySteps(h, from: start, grads: [g, g.reversed()])
            let b = try librarySteps(minimizing.hyper(lr: 1e-2, weightDecay: 0.1), from: start,
                                     grads: [negated, negated.reversed()])
            assertBitsEqual(a.p, b.p, "\(opt): params")
            assertBitsEqual(a.m, b.m, "\(opt): exp_avg")
            assertBitsEqual(a.v, b.v, "\(opt): exp_avg_sq")
        }
        let fresh = TensorState(p: start.p)
        let up = try librarySteps(Options(amsgrad: false, decay: .none, maximize: true, biasCorrection: true).hyper(),
                                  from: fresh, grads: [g])
        for i in 0..<g.count {
            XCTAssertEqual((up.p[i] - fresh.p[i]).sign, g[i].sign, "element \(i): maximize did not ascend")
        }
    }

    /// amsgrad keeps vmax = (vmax > v ? vmax : v) with v the updated second moment, and
    /// the denominator uses vmax. NaN in the stored vmax yields v (x86 MAXPS semantics;
    /// torch.maximum would propagate the NaN: a documented difference that can only arise
    /// from a NaN set through set_moment, since v itself never recovers from NaN).
    func testAmsgradMaxSemantics() throws {
        let n = 64
        var rng = TestRNG(seed: 5)
        let p = rng.floats(n) { Float($0.uniform(-1, 1)) }
        let g = rng.floats(n) { $0.gradient() }
        let m = rng.floats(n) { Float($0.logUniform(-4, 0)) }
        let v = rng.floats(n) { Float(abs($0.logUniform(-8, 0))) }
        let h = Hyperparameters(lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, flags: [.amsgrad])
        let vNew = (0..<n).map { i in v[i] * Float(0.99) + (Float(1 - 0.99) * g[i]) * g[i] }
        var vmax = [Float](repeating: 0, count: n)
        for i in 0..<n {
            switch i % 4 {
            case 0: vmax[i] = vNew[i] * 4            // stays
            case 1: vmax[i] = vNew[i] / 4            // replaced by v
            case 2: vmax[i] = vNew[i]                // equal
            default: vmax[i] = .nan                  // NaN > v is false: replaced by v
            }
        }
        for b in Backend.supported {
            let got = try librarySteps(h, from: TensorState(p: p, m: m, v: v, vmax: vmax), grads: [g], backend: b)
            assertBitsEqual(got.v, vNew, "backend \(b): exp_avg_sq")
            let wantMax = (0..<n).map { i in vmax[i] > vNew[i] ? vmax[i] : vNew[i] }
            assertBitsEqual(got.vmax, wantMax, "backend \(b): max_exp_avg_sq")
            XCTAssertFalse(got.vmax.contains { $0.isNaN }, "a NaN vmax survived")
            let want = emulatedSteps(h, from: TensorState(p: p, m: m, v: v, vmax: vmax), grads: [g])
            assertBitsEqual(got.p, want.p, "backend \(b): params use vmax")
            // Elements whose vmax stayed larger take a smaller step than without amsgrad.
            let plain = try librarySteps(Hyperparameters(lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, flags: []),
                                         from: TensorState(p: p, m: m, v: v), grads: [g], backend: b)
            for i in stride(from: 0, to: n, by: 4) {
                XCTAssertLessThan(abs(got.p[i] - p[i]), abs(plain.p[i] - p[i]), "element \(i)")
            }
        }
    }

    /// lr = 0: params bit-unchanged for every option (the added term is a signed zero; only
    /// a -0.0 param can turn into +0.0, exactly as in torch), while moments and step count
    /// still advance.
    func testZeroLearningRateLeavesParamsUnchanged() throws {
        let n = 100
        var rng = TestRNG(seed: 17)
        var p = rng.floats(n) { Float($0.logUniform(-6, 3)) }
        p[0] = 0
        p[1] = -0.0
        p[2] = .leastNonzeroMagnitude
        p[3] = -.greatestFiniteMagnitude
        let grads = (0..<3).map { _ in rng.floats(n) { $0.gradient() } }
        for opt in Options.all {
            let h = opt.hyper(lr: 0, weightDecay: 0.5)
            let got = try librarySteps(h, from: TensorState(p: p), grads: grads)
            let want = emulatedSteps(h, from: TensorState(p: p), grads: grads)
            assertBitsEqual(got.p, want.p, "\(opt): params vs formula")
            for i in 0..<n where p[i] != 0 {
                XCTAssertEqual(got.p[i].bitPattern, p[i].bitPattern, "\(opt) element \(i): lr = 0 changed \(p[i]) to \(got.p[i])")
            }
            XCTAssertEqual(got.p[0].bitPattern, Float(0).bitPattern, "\(opt): +0 stays +0")
            XCTAssertEqual(got.p[1], 0, "\(opt): -0 stays a zero")
            XCTAssertEqual(got.step, 3)
            XCTAssertTrue(got.m.contains { $0 != 0 }, "\(opt): moments did not advance")
        }
    }

    /// eps = 0 with all-zero gradients from a fresh state: m = v = 0, denom = 0, and
    /// (-step_size * 0) / 0 is NaN, so every param becomes NaN. torch does the same
    /// (its addcdiv computes 0/0); we match the formula rather than guard it.
    func testZeroEpsWithZeroGradsGivesNaNLikeTheFormula() throws {
        let n = 37
        let p = (0..<n).map { Float($0) - 18 }
        let zero = [Float](repeating: 0, count: n)
        for opt in Options.all where opt.decay != .l2 {   // L2 makes g = wd*p nonzero
            let h = opt.hyper(eps: 0)
            let got = try librarySteps(h, from: TensorState(p: p), grads: [zero])
            XCTAssertTrue(got.p.allSatisfy { $0.isNaN }, "\(opt): params \(got.p.prefix(4))")
            XCTAssertTrue(got.m.allSatisfy { $0 == 0 } && got.v.allSatisfy { $0 == 0 }, "\(opt): moments")
            XCTAssertEqual(got.step, 1)
            assertMatchesEmulation(got, emulatedSteps(h, from: TensorState(p: p), grads: [zero]), amsgrad: opt.amsgrad, "\(opt)")
        }
        // With eps = 0 and nonzero gradients the update is finite.
        var rng = TestRNG(seed: 23)
        let g = rng.floats(n) { $0.gradient() }
        let got = try librarySteps(Hyperparameters(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 0, weightDecay: 0, flags: []),
                                   from: TensorState(p: p), grads: [g])
        XCTAssertTrue(got.p.allSatisfy { $0.isFinite })
    }
}
