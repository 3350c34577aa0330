import Foundation
import SwiftAdamCore

/// The documented update (include/swiftadam.h, top comment) in float64 throughout:
/// the "true" value the float32 kernel approximates.
struct Float64Adam {
    var p: [Double]
    var m: [Double]
    var v: [Double]
    var vmax: [Double]
    var t: UInt64

    init(params: [Float], m: [Float]? = nil, v: [Float]? = nil, vmax: [Float]? = nil, step: UInt64 = 0) {
        p = params.map(Double.init)
        self.m = (m ?? [Float](repeating: 0, count: params.count)).map(Double.init)
        self.v = (v ?? [Float](repeating: 0, count: params.count)).map(Double.init)
        self.vmax = (vmax ?? [Float](repeating: 0, count: params.count)).map(Double.init)
        t = step
    }

    mutating func step(grad: [Float], _ h: Hyperparameters) {
        t += 1
        let ams = h.flags.contains(.amsgrad)
        let decoupled = h.flags.contains(.decoupledWeightDecay)
        let maximize = h.flags.contains(.maximize)
        let bc = !h.flags.contains(.noBiasCorrection)
        let bc1 = bc ? 1 - pow(h.beta1, Double(t)) : 1
        let bc2 = bc ? 1 - pow(h.beta2, Double(t)) : 1
        for i in 0..<p.count {
            var g = Double(grad[i])
            if maximize { g = -g }
            if h.weightDecay != 0 && !decoupled { g += h.weightDecay * p[i] }
            if h.weightDecay != 0 && decoupled { p[i] *= 1 - h.lr * h.weightDecay }
            m[i] = h.beta1 * m[i] + (1 - h.beta1) * g
            v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g
            var vhat = v[i]
            if ams {
                vmax[i] = max(vmax[i], v[i])
                vhat = vmax[i]
            }
            let denom = vhat.squareRoot() / bc2.squareRoot() + h.eps
            p[i] -= (h.lr / bc1) * m[i] / denom
        }
    }
}

/// torch's single-tensor Adam/AdamW written out op by op in float32, with each Python
/// scalar computed in double and rounded to float where torch rounds it. An independent
/// re-statement of the header's formula: results of the library must match it BIT FOR BIT.
struct TorchScalars {
    var maximize, amsgrad, hasL2, hasDecay, lerpHigh: Bool
    var l2, decay, w, oneMinusW, beta2, oneMinusBeta2, bc2Sqrt, eps, negStepSize: Float

    init(_ h: Hyperparameters, t: UInt64) {
        maximize = h.flags.contains(.maximize)
        amsgrad = h.flags.contains(.amsgrad)
        let decoupled = h.flags.contains(.decoupledWeightDecay)
        hasL2 = h.weightDecay != 0 && !decoupled
        hasDecay = h.weightDecay != 0 && decoupled
        l2 = Float(h.weightDecay)                       // grad.add(param, alpha=wd)
        decay = Float(1 - h.lr * h.weightDecay)         // param.mul_(1 - lr*wd)
        w = Float(1 - h.beta1)                          // exp_avg.lerp_(grad, 1 - beta1)
        lerpHigh = !(abs(w) < 0.5)                      // ATen lerp: weight < 0.5 ? ... : ...
        oneMinusW = 1 - w
        beta2 = Float(h.beta2)                          // exp_avg_sq.mul_(beta2)
        oneMinusBeta2 = Float(1 - h.beta2)              // .addcmul_(grad, grad, value=1-beta2)
        let bc = !h.flags.contains(.noBiasCorrection)
        let bc1 = bc ? 1 - pow(h.beta1, Double(t)) : 1
        let bc2 = bc ? 1 - pow(h.beta2, Double(t)) : 1
        bc2Sqrt = Float(bc2.squareRoot())               // bias_correction2_sqrt
        eps = Float(h.eps)                              // denom.add_(eps)
        negStepSize = Float(-(h.lr / bc1))              // addcdiv_(m, denom, value=-step_size)
    }
}

@inline(never)
func torchElement(p: inout Float, g grad: Float, m: inout Float, v: inout Float, vmax: inout Float,
                  _ s: TorchScalars) {
    var g = grad
    if s.maximize { g = -g }
    if s.hasL2 { g = g + s.l2 * p }
    if s.hasDecay { p = p * s.decay }
    m = s.lerpHigh ? g - (g - m) * s.oneMinusW : m + s.w * (g - m)
    v = v * s.beta2 + (s.oneMinusBeta2 * g) * g
    var vhat = v
    if s.amsgrad {
        vmax = vmax > v ? vmax : v
        vhat = vmax
    }
    let denom = vhat.squareRoot() / s.bc2Sqrt + s.eps
    p = p + (s.negStepSize * m) / denom
}

/// One tensor's float32 torch emulation.
struct Float32Torch {
    var p: [Float]
    var m: [Float]
    var v: [Float]
    var vmax: [Float]
    var t: UInt64

    init(params: [Float], m: [Float]? = nil, v: [Float]? = nil, vmax: [Float]? = nil, step: UInt64 = 0) {
        p = params
        self.m = m ?? [Float](repeating: 0, count: params.count)
        self.v = v ?? [Float](repeating: 0, count: params.count)
        self.vmax = vmax ?? [Float](repeating: 0, count: params.count)
        t = step
    }

    mutating func step(grad: [Float], _ h: Hyperparameters) {
        t += 1
        let s = TorchScalars(h, t: t)
        for i in 0..<p.count {
            torchElement(p: &p[i], g: grad[i], m: &m[i], v: &v[i], vmax: &vmax[i], s)
        }
    }
}
