import Foundation
import XCTest
import AdamKernelBase
import SwiftAdamCore

/// libm's pow in T (powf for Float), written here rather than taken from the library.
func referencePow<T: AdamElement>(_ x: T, _ y: T) -> T {
    T.self == Float.self ? T(powf(Float(x), Float(y))) : T(pow(Double(x), Double(y)))
}

/// One tensor's Adam written out element by element in T, op by op as the flavour's library
/// does it, with the scalars computed here (independently of KernelScalars): torch's in
/// double and rounded once to T, Keras's in T (Keras 3 Adam.update_step and
/// Optimizer._apply_weight_decay; L2 as torch folds it into the gradient).
struct ReferenceAdam<T: AdamElement> {
    var p: [T], m: [T], v: [T], vmax: [T]
    var t: UInt64 = 0
    let flavor: AdamFlavor
    let opt: Options
    let h: Hyperparameters

    init(_ p: [T], _ flavor: AdamFlavor, _ opt: Options, _ h: Hyperparameters) {
        self.p = p
        m = [T](repeating: 0, count: p.count)
        v = m
        vmax = m
        self.flavor = flavor
        self.opt = opt
        self.h = h
    }

    mutating func step(_ grad: [T]) {
        t += 1
        let bc = opt.biasCorrection
        let wd = T(h.weightDecay), lr = T(h.lr), eps = T(h.eps)
        let oneMinusBeta1 = T(1 - h.beta1), oneMinusBeta2 = T(1 - h.beta2)
        // torch
        let decay = T(1 - h.lr * h.weightDecay)
        let lerpHigh = !(abs(oneMinusBeta1) < 0.5)
        let bc1 = bc ? 1 - pow(h.beta1, Double(t)) : 1
        let bc2 = bc ? 1 - pow(h.beta2, Double(t)) : 1
        let bc2Sqrt = T(bc2.squareRoot()), negStepSize = T(-(h.lr / bc1))
        // Keras
        let b1p = referencePow(T(h.beta1), T(t)), b2p = referencePow(T(h.beta2), T(t))
        let alpha = bc ? lr * (1 - b2p).squareRoot() / (1 - b1p) : lr
        for i in 0..<p.count {
            var g = grad[i]
            if opt.maximize { g = -g }
            if opt.decay == .l2 { g = g + wd * p[i] }
            if flavor == .torch {
                if opt.decay == .decoupled { p[i] = p[i] * decay }
                m[i] = lerpHigh ? g - (g - m[i]) * (1 - oneMinusBeta1) : m[i] + oneMinusBeta1 * (g - m[i])
                v[i] = v[i] * T(h.beta2) + (oneMinusBeta2 * g) * g
            } else {
                if opt.decay == .decoupled { p[i] = p[i] - p[i] * wd * lr }
                m[i] = m[i] + (g - m[i]) * oneMinusBeta1
                v[i] = v[i] + (g * g - v[i]) * oneMinusBeta2
            }
            var vhat = v[i]
            if opt.amsgrad {
                vmax[i] = vmax[i] > v[i] ? vmax[i] : v[i]
                vhat = vmax[i]
            }
            if flavor == .torch {
                p[i] = p[i] + (negStepSize * m[i]) / (vhat.squareRoot() / bc2Sqrt + eps)
            } else {
                p[i] = p[i] - (m[i] * alpha) / (vhat.squareRoot() + eps)
            }
        }
    }
}

/// scikit-learn's AdamOptimizer (sklearn/neural_network/_stochastic_optimizers.py) in
/// float64, op by op: `m = beta_1*m + (1 - beta_1)*grad`, `v = beta_2*v + (1 - beta_2)*grad**2`,
/// `lr_t = lr*sqrt(1 - beta_2**t)/(1 - beta_1**t)` (Python floats), `p += -lr_t*m/(sqrt(v) + eps)`.
struct SklearnAdam {
    var p: [Double], m: [Double], v: [Double]
    var t = 0
    let lr, beta1, beta2, eps: Double

    mutating func step(_ grad: [Double]) {
        t += 1
        let lrT = lr * (1 - pow(beta2, Double(t))).squareRoot() / (1 - pow(beta1, Double(t)))
        for i in 0..<p.count {
            m[i] = beta1 * m[i] + (1 - beta1) * grad[i]
            v[i] = beta2 * v[i] + (1 - beta2) * (grad[i] * grad[i])
            p[i] += -lrT * m[i] / (v[i].squareRoot() + eps)
        }
    }
}

/// Norm-wise relative difference ||a - b|| / ||b||, in double.
func relativeDifference<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ a: [A], _ b: [B]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<a.count {
        let d = Double(a[i]) - Double(b[i])
        num += d * d
        den += Double(b[i]) * Double(b[i])
    }
    return (num / den).squareRoot()
}

final class KernelAccuracyTests: XCTestCase {
    /// Gradients as in ReferenceAccuracyTests: half fresh log-uniform 1e-4...10 every step,
    /// half a per-element scale with random sign and a 0.5...2 factor.
    struct GradientStream {
        var rng: TestRNG
        let scales: [Double]
        init(n: Int, seed: UInt64) {
            var r = TestRNG(seed: seed)
            scales = (0..<n).map { _ in abs(r.logUniform(-4, 1)) }
            rng = r
        }
        mutating func next() -> [Double] {
            (0..<scales.count).map { i in
                i < scales.count / 2 ? rng.logUniform(-4, 1) : rng.sign() * scales[i] * rng.uniform(0.5, 2)
            }
        }
    }

    /// The kernel (every path) against ReferenceAdam<T>, the same formula written out
    /// independently: BIT-IDENTICAL after every one of 20 steps, every option combination.
    func assertKernelMatchesReference<T: AdamElement>(_: T.Type, _ flavor: AdamFlavor) {
        let n = 257
        var compared = 0
        for (k, opt) in Options.all.enumerated() {
            for (beta1, lr) in [(0.9, 1e-2), (0.3, 1e-1)] {
                let h = opt.hyper(lr: lr, beta1: beta1, weightDecay: 0.1)
                var rng = TestRNG(seed: 0xE0 + UInt64(k))
                let p0 = (0..<n).map { i in i % 37 == 0 ? 0 : T(rng.uniform(-1, 1)) }
                for b in Backend.supported {
                    guard let kernel = kernelEntry(b, T.self) else { XCTFail("\(b): no \(T.self) kernel"); continue }
                    var ref = ReferenceAdam(p0, flavor, opt, h)
                    var state = [p0, [], ref.m, ref.v, ref.vmax]
                    var stream = GradientStream(n: n, seed: 0xD0 + UInt64(k))
                    for step in 1...20 {
                        let g = stream.next().map { T($0) }
                        state[1] = g
                        let s = KernelScalars<T>(lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps,
                                                 weightDecay: h.weightDecay, amsgrad: opt.amsgrad,
                                                 decoupled: opt.decay == .decoupled, maximize: opt.maximize,
                                                 biasCorrection: opt.biasCorrection, t: UInt64(step), flavor: flavor)
                        state = runKernel(kernel, state, misalign: step % 3, amsgrad: opt.amsgrad, s)
                        ref.step(g)
                        let want = [ref.p, g, ref.m, ref.v, ref.vmax]
                        for a in [0, 2, 3, 4] where a != 4 || opt.amsgrad {
                            let bad = differingIndices(state[a], want[a])
                            if let i = bad.first {
                                XCTFail("\(T.self) \(flavor) \(opt) beta1=\(beta1) \(b) step \(step) array \(a): " +
                                        "\(bad.count) differ, first [\(i)] \(state[a][i]) vs reference \(want[a][i])")
                                return
                            }
                        }
                        compared += n
                    }
                }
            }
        }
        print("\(T.self) \(flavor) kernel vs a \(T.self) reference of the same formula: \(compared) element-steps, " +
              "all bit-identical")
    }

    func testFloat64TorchIsBitIdenticalToReference() { assertKernelMatchesReference(Double.self, .torch) }
    func testFloat64KerasIsBitIdenticalToReference() { assertKernelMatchesReference(Double.self, .keras) }
    /// Pins Keras's float32 scalars (beta^t, alpha in float32, not double rounded once).
    func testFloat32KerasIsBitIdenticalToReference() { assertKernelMatchesReference(Float.self, .keras) }

    /// The keras flavour in float32 against Keras's formula in float64 over 300 steps:
    /// within the float32 spread torch's own kernel shows against its float64 reference.
    func testKerasFloat32Within1e5OfFloat64ReferenceOver300Steps() throws {
        let n = 1024, steps = 300
        var worst = 0.0
        var report: [String] = []
        for (k, opt) in Options.all.enumerated() where !opt.maximize {
            let h = opt.hyper(lr: 1e-2, weightDecay: 0.1)
            var rng = TestRNG(seed: 0x4E7A5 + UInt64(k))
            let p0 = (0..<n).map { _ in Float(rng.uniform(-1, 1)) }
            var grads = GradientStream(n: n, seed: 0xCAFE + UInt64(k))
            var state: [[Float]] = [p0, [], [Float](repeating: 0, count: n), [Float](repeating: 0, count: n),
                                    [Float](repeating: 0, count: n)]
            var ref = ReferenceAdam(p0.map(Double.init), .keras, opt, h)
            let kernel = Backend.active.kernels.f32
            for step in 1...steps {
                let g = grads.next().map { Float($0) }
                state[1] = g
                let s = KernelScalars<Float>(lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay,
                                             amsgrad: opt.amsgrad, decoupled: opt.decay == .decoupled, maximize: false,
                                             biasCorrection: opt.biasCorrection, t: UInt64(step), flavor: .keras)
                state = runKernel(kernel, state, misalign: 0, amsgrad: opt.amsgrad, s)
                ref.step(g.map(Double.init))
            }
            let rel = relativeDifference(state[0], ref.p)
            let mRel = relativeDifference(state[2], ref.m), vRel = relativeDifference(state[3], ref.v)
            worst = max(worst, rel)
            report.append(String(format: "  %@ params %.2e exp_avg %.2e exp_avg_sq %.2e", opt.description, rel, mRel, vRel))
            XCTAssertLessThanOrEqual(rel, 1e-5, "\(opt): ||p - p_ref|| / ||p_ref|| after \(steps) steps")
            XCTAssertLessThanOrEqual(mRel, 1e-5, "\(opt): exp_avg")
            XCTAssertLessThanOrEqual(vRel, 1e-5, "\(opt): exp_avg_sq")
        }
        print("keras flavour float32 (\(Backend.active.rawValue)) vs Keras's formula in float64, \(n) x \(steps) steps, lr 1e-2:")
        print(report.joined(separator: "\n"))
        print(String(format: "  worst params relative error %.3e (bound 1e-5)", worst))
    }

    /// What a scikit-learn user gets from the keras flavour in float64: the same alpha and
    /// the same final division as scikit-learn's AdamOptimizer, moments by the other
    /// association (m + (g - m)(1-b) instead of b*m + (1-b)*g). Measured, and bounded.
    func testKerasFloat64AgainstScikitLearnFormula() {
        let n = 1024, steps = 300
        var rng = TestRNG(seed: 0x5C1)
        let p0 = (0..<n).map { _ in rng.uniform(-1, 1) }
        let h = Hyperparameters(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, flags: [])
        var sk = SklearnAdam(p: p0, m: [Double](repeating: 0, count: n), v: [Double](repeating: 0, count: n),
                             lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps)
        var grads = GradientStream(n: n, seed: 0x5C2)
        var results: [AdamFlavor: [[Double]]] = [:]
        for flavor in AdamFlavor.allCases { results[flavor] = [p0, [], sk.m, sk.v, sk.v] }
        var report: [String] = []
        for step in 1...steps {
            let g = grads.next()
            sk.step(g)
            for flavor in AdamFlavor.allCases {
                var st = results[flavor]!
                st[1] = g
                let s = KernelScalars<Double>(lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: 0,
                                              amsgrad: false, decoupled: false, maximize: false, biasCorrection: true,
                                              t: UInt64(step), flavor: flavor)
                results[flavor] = runKernel(Backend.active.kernels.f64, st, misalign: 0, amsgrad: false, s)
            }
            if [1, 10, 100, 300].contains(step) {
                let keras = results[.keras]!, torch = results[.torch]!
                let kAbs = zip(keras[0], sk.p).map { abs($0 - $1) / max(abs($1), 1e-300) }.max()!
                report.append(String(format: "  step %3d: keras %.2e (max elementwise %.2e), torch %.2e",
                                     step, relativeDifference(keras[0], sk.p), kAbs, relativeDifference(torch[0], sk.p)))
            }
        }
        let keras = relativeDifference(results[.keras]![0], sk.p)
        let torch = relativeDifference(results[.torch]![0], sk.p)
        print("float64 params vs scikit-learn's AdamOptimizer formula (lr 1e-3, eps 1e-8), ||p - p_sk|| / ||p_sk||:")
        print(report.joined(separator: "\n"))
        XCTAssertLessThanOrEqual(keras, 1e-13, "keras flavour, float64, vs scikit-learn after \(steps) steps")
        XCTAssertGreaterThan(keras, 0, "the two associations of the moment update should differ somewhere")
        XCTAssertGreaterThan(torch, keras, "torch's eps placement should be further from scikit-learn than keras's")
    }
}
