import AdamKernelBase

/// Hyperparameters of one group, with torch.optim.Adam's defaults.
public struct Hyperparameters: Equatable, Sendable {
    public struct Flags: OptionSet, Equatable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        // Bit values are the SWIFTADAM_FLAG_* macros and the checkpoint's flag field.
        public static let amsgrad = Flags(rawValue: 1 << 0)
        public static let decoupledWeightDecay = Flags(rawValue: 1 << 1)
        public static let maximize = Flags(rawValue: 1 << 2)
        public static let noBiasCorrection = Flags(rawValue: 1 << 3)
        public static let known: Flags = [.amsgrad, .decoupledWeightDecay, .maximize, .noBiasCorrection]
    }

    public var lr: Double = 1e-3
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    public var weightDecay: Double = 0
    public var flags: Flags = []
    /// Whose formula the step computes (AdamKernelBase/AdamUpdate.swift).
    public var flavor: AdamFlavor = .torch

    public init() {}

    public init(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double,
                flags: Flags, flavor: AdamFlavor = .torch) {
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.flags = flags
        self.flavor = flavor
    }

    /// Throws naming the first bad field, in torch's words plus the accepted range.
    public func validate() throws(AdamError) {
        try Hyperparameters.validateLR(lr)
        if !(beta1 >= 0 && beta1 < 1) {
            throw AdamError(.invalidArgument, "Invalid beta parameter at index 0: \(beta1) (beta1 must be in [0, 1))")
        }
        if !(beta2 >= 0 && beta2 < 1) {
            throw AdamError(.invalidArgument, "Invalid beta parameter at index 1: \(beta2) (beta2 must be in [0, 1))")
        }
        if !(eps >= 0 && eps.isFinite) {
            throw AdamError(.invalidArgument, "Invalid epsilon value: \(eps) (eps must be >= 0 and finite)")
        }
        if !(weightDecay >= 0 && weightDecay.isFinite) {
            throw AdamError(.invalidArgument, "Invalid weight_decay value: \(weightDecay) (weight_decay must be >= 0 and finite)")
        }
        let unknown = flags.subtracting(.known)
        if !unknown.isEmpty {
            throw AdamError(.unsupported, "unknown flag bits 0x\(String(unknown.rawValue, radix: 16)) in flags 0x\(String(flags.rawValue, radix: 16))")
        }
    }

    public static func validateLR(_ lr: Double) throws(AdamError) {
        if !(lr >= 0 && lr.isFinite) {
            throw AdamError(.invalidArgument, "Invalid learning rate: \(lr) (lr must be >= 0 and finite)")
        }
    }
}
