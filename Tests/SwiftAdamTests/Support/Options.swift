import SwiftAdamCore

/// One combination of the optimizer's options: amsgrad x weight decay kind x maximize x
/// bias correction. `Options.all` enumerates all 24.
struct Options: CustomStringConvertible {
    enum Decay: CaseIterable { case none, l2, decoupled }
    var amsgrad: Bool
    var decay: Decay
    var maximize: Bool
    var biasCorrection: Bool

    static let all: [Options] = {
        var out: [Options] = []
        for amsgrad in [false, true] {
            for decay in Decay.allCases {
                for maximize in [false, true] {
                    for bc in [true, false] {
                        out.append(Options(amsgrad: amsgrad, decay: decay, maximize: maximize, biasCorrection: bc))
                    }
                }
            }
        }
        return out
    }()

    var flags: Hyperparameters.Flags {
        var f: Hyperparameters.Flags = []
        if amsgrad { f.insert(.amsgrad) }
        if decay == .decoupled { f.insert(.decoupledWeightDecay) }
        if maximize { f.insert(.maximize) }
        if !biasCorrection { f.insert(.noBiasCorrection) }
        return f
    }

    /// Hyperparameters for this combination; `weightDecay` is used only when decay != none.
    func hyper(lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
               weightDecay: Double = 0.1) -> Hyperparameters {
        Hyperparameters(lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                        weightDecay: decay == .none ? 0 : weightDecay, flags: flags)
    }

    var description: String {
        let wd: String
        switch decay {
        case .none: wd = "no-wd"
        case .l2: wd = "L2-wd"
        case .decoupled: wd = "decoupled-wd"
        }
        return "[amsgrad=\(amsgrad ? 1 : 0) \(wd) maximize=\(maximize ? 1 : 0) bias_correction=\(biasCorrection ? 1 : 0)]"
    }
}
