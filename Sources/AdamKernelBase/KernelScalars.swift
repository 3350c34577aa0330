/// Which library's Adam the kernel reproduces. Raw values are the C config's and the
/// checkpoint's encoding.
public enum AdamFlavor: UInt32, Sendable, CaseIterable {
    /// torch.optim.Adam / AdamW, single-tensor path: scalars in double, rounded once.
    case torch = 0
    /// Keras 3 Adam.update_step (and AdamW's weight decay): scalars in the element type.
    case keras = 1
}

/// Everything one tensor's update needs besides its arrays, already in the element type T,
/// rounded the way the chosen flavour's library rounds them.
public struct KernelScalars<T: AdamElement> {
    public var flavor: AdamFlavor
    public var maximize: Bool
    public var amsgrad: Bool
    /// L2 penalty folded into the gradient (torch.optim.Adam's weight_decay); 0 = none.
    public var l2: T
    public var hasL2: Bool
    /// Decoupled weight decay, applied only when hasDecay. torch multiplies by
    /// `decay = 1 - lr*wd`; Keras subtracts `p*decayWd*decayLr`.
    public var decay: T
    public var decayWd: T
    public var decayLr: T
    public var hasDecay: Bool
    /// `1 - beta1`. torch's lerp(m, g, w1) takes one of two forms depending on w1
    /// (lerpHigh); Keras always computes `m + (g - m)*w1`.
    public var w1: T
    public var oneMinusW1: T
    public var lerpHigh: Bool
    public var beta2: T
    /// `1 - beta2`, both flavours.
    public var oneMinusBeta2: T
    public var eps: T
    /// torch: `denom = sqrt(v)/bc2Sqrt + eps`, `p += negStepSize*m / denom`.
    public var bc2Sqrt: T
    public var negStepSize: T
    /// Keras: `p -= m*alpha / (sqrt(v) + eps)`.
    public var alpha: T

    /// Scalars for one tensor at step `t` (the step being taken, >= 1).
    ///
    /// torch: each scalar is torch's Python-side double expression, rounded to T once
    /// (for Double nothing is rounded). Keras: as Keras 3 computes them, in T: Python
    /// floats (`1 - beta_1`, epsilon) rounded to T, then `beta^t`, `1 - beta^t`, the
    /// square root and `lr*sqrt(..)/(..)` each rounded in T.
    @inlinable
    public init(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double,
                amsgrad: Bool, decoupled: Bool, maximize: Bool, biasCorrection: Bool, t: UInt64,
                flavor: AdamFlavor = .torch) {
        self.flavor = flavor
        self.maximize = maximize
        self.amsgrad = amsgrad
        hasL2 = weightDecay != 0 && !decoupled
        l2 = hasL2 ? T(weightDecay) : 0
        hasDecay = weightDecay != 0 && decoupled
        decay = hasDecay ? T(1 - lr * weightDecay) : 1
        decayWd = hasDecay ? T(weightDecay) : 0
        decayLr = T(lr)
        w1 = T(1 - beta1)
        oneMinusW1 = 1 - w1
        lerpHigh = flavor == .torch && !(abs(w1) < 0.5)
        self.beta2 = T(beta2)
        oneMinusBeta2 = T(1 - beta2)
        self.eps = T(eps)
        let bc1 = biasCorrection ? 1 - Double.power(beta1, Double(t)) : 1
        let bc2 = biasCorrection ? 1 - Double.power(beta2, Double(t)) : 1
        bc2Sqrt = T(bc2.squareRoot())
        negStepSize = T(-(lr / bc1))
        if biasCorrection {
            let step = T(t)
            let beta1Power = T.power(T(beta1), step)
            let beta2Power = T.power(T(beta2), step)
            alpha = T(lr) * (1 - beta2Power).squareRoot() / (1 - beta1Power)
        } else {
            alpha = T(lr)
        }
    }
}
