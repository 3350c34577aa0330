import SwiftAdamCore

/// Caller-owned float arrays with stable addresses, one per tensor (what a C or numpy
/// caller passes as params[i] / grads[i]).
final class Buffers {
    let lengths: [Int]
    let ptrs: [UnsafeMutablePointer<Float>]

    init(lengths: [Int]) {
        self.lengths = lengths
        ptrs = lengths.map { n in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
    }

    convenience init(_ arrays: [[Float]]) {
        self.init(lengths: arrays.map(\.count))
        for (i, a) in arrays.enumerated() { set(i, a) }
    }

    deinit { for p in ptrs { p.deallocate() } }

    var count: Int { lengths.count }

    subscript(i: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: ptrs[i], count: lengths[i])
    }

    func set(_ i: Int, _ a: [Float]) {
        precondition(a.count == lengths[i])
        for k in 0..<a.count { ptrs[i][k] = a[k] }
    }

    func array(_ i: Int) -> [Float] { Array(self[i]) }
    var arrays: [[Float]] { (0..<count).map(array) }
    /// All tensors concatenated.
    var flat: [Float] { arrays.flatMap { $0 } }

    func clone() -> Buffers { Buffers(arrays) }
}

extension AdamState {
    /// One step with caller buffers; tensors listed in `skip` get grads[i] = nil.
    @discardableResult
    func stepGroup(_ params: Buffers, _ grads: Buffers, skip: Set<Int> = [], skipNonFinite: Bool = false,
                   backend: Backend = .active) throws -> StepOutcome {
        let pp: [UnsafeMutablePointer<Float>?] = params.ptrs.map { $0 }
        let gp: [UnsafePointer<Float>?] = (0..<grads.count).map { skip.contains($0) ? nil : UnsafePointer(grads.ptrs[$0]) }
        return try pp.withUnsafeBufferPointer { ppb in
            try gp.withUnsafeBufferPointer { gpb in
                try step(params: ppb.baseAddress!, grads: gpb.baseAddress!, count: pp.count,
                         skipNonFinite: skipNonFinite, backend: backend)
            }
        }
    }

    func moment(_ which: Moment, _ i: Int) -> [Float] {
        var out = [Float](repeating: 0, count: max(lengths[i], 1))
        out.withUnsafeMutableBufferPointer { b in
            try! copyMoment(which, i, to: b.baseAddress!, capacity: b.count)
        }
        return Array(out.prefix(lengths[i]))
    }

    func setMoment(_ which: Moment, _ i: Int, _ a: [Float]) {
        var dummy: Float = 0
        withUnsafePointer(to: &dummy) { empty in
            a.withUnsafeBufferPointer { b in
                try! setMoment(which, i, from: b.baseAddress ?? empty, count: a.count)
            }
        }
    }

    /// Everything the state holds (hyperparameters, steps, moments) as checkpoint bytes.
    func snapshot() -> [UInt8] { try! serializedBytes() }
}
