/// Everything one tensor's update needs besides its arrays, already rounded to float
/// the way torch rounds its Python-float scalars when it applies them to a float tensor.
public struct KernelScalars {
    public var maximize: Bool
    public var amsgrad: Bool
    /// L2 penalty folded into the gradient (torch.optim.Adam's weight_decay); 0 = none.
    public var l2: Float
    public var hasL2: Bool
    /// Decoupled decay factor `1 - lr*wd` (AdamW); applied only when hasDecay.
    public var decay: Float
    public var hasDecay: Bool
    /// torch's lerp(m, g, w) with w = 1 - beta1 takes one of two forms depending on w.
    public var w1: Float
    public var oneMinusW1: Float
    public var lerpHigh: Bool
    public var beta2: Float
    public var oneMinusBeta2: Float
    public var bc2Sqrt: Float
    public var eps: Float
    public var negStepSize: Float

    /// Scalars for one tensor at step `t` (the step being taken, >= 1). The double
    /// expressions are torch's Python-side ones; each is rounded to float once.
    public init(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double,
                amsgrad: Bool, decoupled: Bool, maximize: Bool, biasCorrection: Bool, t: UInt64) {
        self.maximize = maximize
        self.amsgrad = amsgrad
        hasL2 = weightDecay != 0 && !decoupled
        l2 = hasL2 ? Float(weightDecay) : 0
        hasDecay = weightDecay != 0 && decoupled
        decay = hasDecay ? Float(1 - lr * weightDecay) : 1
        w1 = Float(1 - beta1)
        oneMinusW1 = 1 - w1
        lerpHigh = !(abs(w1) < 0.5)
        self.beta2 = Float(beta2)
        oneMinusBeta2 = Float(1 - beta2)
        let bc1 = biasCorrection ? 1 - pow(beta1, Double(t)) : 1
        let bc2 = biasCorrection ? 1 - pow(beta2, Double(t)) : 1
        bc2Sqrt = Float(bc2.squareRoot())
        self.eps = Float(eps)
        negStepSize = Float(-(lr / bc1))
    }
}
