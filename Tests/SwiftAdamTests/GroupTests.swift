import XCTest
import SwiftAdamCore

/// Tensor groups: one step call over many tensors equals each tensor on its own;
/// NULL grads skip a tensor (torch's per-parameter step counts); schedules and
/// set_config between steps.
final class GroupTests: XCTestCase {
    /// Empty tensor, single elements, lengths around every vector width (4, 8, 16) so every
    /// path runs its tails.
    let lengths = [0, 1, 3, 7, 8, 9, 15, 16, 17, 33, 100, 0, 1001, 5]

    func randomGroup(seed: UInt64, steps: Int) -> (p0: [[Float]], grads: [[[Float]]]) {
        var rng = TestRNG(seed: seed)
        let p0 = lengths.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } }
        let grads = (0..<steps).map { _ in lengths.map { n in rng.floats(n) { $0.gradient() } } }
        return (p0, grads)
    }

    func testGroupEqualsEachTensorAloneAndTheFormula() throws {
        let steps = 6
        for (k, opt) in Options.all.enumerated() where k % 3 == 0 || opt.amsgrad {
            let (p0, grads) = randomGroup(seed: 40 + UInt64(k), steps: steps)
            let h = opt.hyper(lr: 1e-2, weightDecay: 0.1)
            let group = try AdamState(lengths: lengths, hyper: h)
            let params = Buffers(p0)
            for s in 0..<steps { XCTAssertEqual(try group.stepGroup(params, Buffers(grads[s])), .applied) }
            XCTAssertEqual(Array(group.steps), [UInt64](repeating: UInt64(steps), count: lengths.count))
            for (i, n) in lengths.enumerated() {
                let alone = try librarySteps(h, from: TensorState(p: p0[i]), grads: grads.map { $0[i] })
                let want = emulatedSteps(h, from: TensorState(p: p0[i]), grads: grads.map { $0[i] })
                XCTAssertEqual(params.array(i).count, n)
                assertBitsEqual(params.array(i), alone.p, "\(opt) tensor \(i) (length \(n)): params vs alone")
                assertBitsEqual(group.moment(.expAvg, i), alone.m, "\(opt) tensor \(i): exp_avg vs alone")
                assertBitsEqual(group.moment(.expAvgSq, i), alone.v, "\(opt) tensor \(i): exp_avg_sq vs alone")
                if opt.amsgrad {
                    assertBitsEqual(group.moment(.maxExpAvgSq, i), alone.vmax, "\(opt) tensor \(i): vmax vs alone")
                }
                assertBitsEqual(params.array(i), want.p, "\(opt) tensor \(i): params vs formula")
            }
        }
    }

    /// grads[i] == nil: tensor i's params, moments and step count stay exactly as they
    /// were; the other tensors step normally. Step counts then differ per tensor, and so
    /// do the bias corrections (torch keeps state["step"] per parameter).
    func testNilGradSkipsTheTensorWithPerTensorStepCounts() throws {
        let steps = 9
        for opt in [Options(amsgrad: true, decay: .decoupled, maximize: false, biasCorrection: true),
                    Options(amsgrad: false, decay: .l2, maximize: true, biasCorrection: true)] {
            let (p0, grads) = randomGroup(seed: 77, steps: steps)
            let h = opt.hyper(lr: 1e-2, weightDecay: 0.1)
            let group = try AdamState(lengths: lengths, hyper: h)
            let params = Buffers(p0)
            var emulations = p0.map { Float32Torch(params: $0) }
            var counts = [UInt64](repeating: 0, count: lengths.count)
            for s in 0..<steps {
                // Tensor 2 never gets a grad, 4 every third step, 12 (the long one, which
                // straddles vector tails) on odd steps, 5 only from step 4.
                var skip: Set<Int> = [2]
                if s % 3 != 0 { skip.insert(4) }
                if s % 2 == 0 { skip.insert(12) }
                if s < 4 { skip.insert(5) }
                let before = (0..<lengths.count).map { i in
                    (params.array(i), group.moment(.expAvg, i), group.moment(.expAvgSq, i),
                     opt.amsgrad ? group.moment(.maxExpAvgSq, i) : [])
                }
                XCTAssertEqual(try group.stepGroup(params, Buffers(grads[s]), skip: skip), .applied)
                for i in 0..<lengths.count {
                    if skip.contains(i) {
                        assertBitsEqual(params.array(i), before[i].0, "step \(s): skipped tensor \(i) params")
                        assertBitsEqual(group.moment(.expAvg, i), before[i].1, "step \(s): skipped tensor \(i) exp_avg")
                        assertBitsEqual(group.moment(.expAvgSq, i), before[i].2, "step \(s): skipped tensor \(i) exp_avg_sq")
                        if opt.amsgrad {
                            assertBitsEqual(group.moment(.maxExpAvgSq, i), before[i].3, "step \(s): skipped tensor \(i) vmax")
                        }
                    } else {
                        emulations[i].step(grad: grads[s][i], h)
                        counts[i] += 1
                    }
                }
                XCTAssertEqual(Array(group.steps), counts, "step \(s): per-tensor step counts")
            }
            XCTAssertEqual(counts[2], 0)
            XCTAssertEqual(Set(counts), [0, 3, 4, 5, 9], "per-tensor step counts")
            for i in 0..<lengths.count {
                assertBitsEqual(params.array(i), emulations[i].p, "\(opt) tensor \(i) after \(counts[i]) steps: params")
                assertBitsEqual(group.moment(.expAvgSq, i), emulations[i].v, "\(opt) tensor \(i): exp_avg_sq")
            }
            // A step where every grad is nil changes nothing at all.
            let snap = group.snapshot()
            let pBefore = params.flat
            XCTAssertEqual(try group.stepGroup(params, Buffers(grads[0]), skip: Set(0..<lengths.count)), .applied)
            assertBytesEqual(group.snapshot(), snap, "all-nil step")
            assertBitsEqual(params.flat, pBefore, "all-nil step params")
        }
    }

    /// A learning-rate schedule (warmup then cosine) set before every step: bit-identical
    /// to the formula with that step's lr, and within 1e-4 of the float64 reference.
    func testLearningRateScheduleBetweenSteps() throws {
        let n = 513, steps = 60
        var rng = TestRNG(seed: 8)
        let p0 = rng.floats(n) { Float($0.uniform(-1, 1)) }
        for opt in [Options(amsgrad: false, decay: .decoupled, maximize: false, biasCorrection: true),
                    Options(amsgrad: true, decay: .l2, maximize: false, biasCorrection: false)] {
            var h = opt.hyper(lr: 0, weightDecay: 0.05)
            let state = try AdamState(lengths: [n], hyper: h)
            let params = Buffers([p0])
            var emu = Float32Torch(params: p0)
            var ref = Float64Adam(params: p0)
            var lrs: Set<Double> = []
            for s in 0..<steps {
                let lr = s < 10 ? 1e-2 * Double(s + 1) / 10 : 1e-2 * 0.5 * (1 + cos(Double.pi * Double(s - 10) / Double(steps - 10)))
                lrs.insert(lr)
                try state.setLR(lr)
                h.lr = lr
                XCTAssertEqual(state.hyper.lr, lr)
                let g = rng.floats(n) { $0.gradient() }
                try state.stepGroup(params, Buffers([g]))
                emu.step(grad: g, h)
                ref.step(grad: g, h)
            }
            XCTAssertGreaterThan(lrs.count, 50)
            assertBitsEqual(params.array(0), emu.p, "\(opt): scheduled lr vs formula")
            let rel = relativeError(params.array(0), ref.p)
            XCTAssertLessThanOrEqual(rel, 1e-4, "\(opt): scheduled lr vs float64 reference")
            // And the schedule really mattered: a constant lr gives other params.
            let constant = try librarySteps(opt.hyper(lr: 1e-2, weightDecay: 0.05), from: TensorState(p: p0), grads: [])
            XCTAssertNotEqual(constant.p, params.array(0))
        }
    }

    /// set_config between steps: betas, eps, weight decay and every flag except amsgrad may
    /// change; each step uses the config current at that step.
    func testSetConfigMidRun() throws {
        let n = 77
        var rng = TestRNG(seed: 12)
        let p0 = rng.floats(n) { Float($0.uniform(-1, 1)) }
        let configs: [Hyperparameters] = [
            Hyperparameters(lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, flags: [.amsgrad]),
            Hyperparameters(lr: 5e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, flags: [.amsgrad]),
            Hyperparameters(lr: 5e-3, beta1: 0.3, beta2: 0.9, eps: 1e-6, weightDecay: 0.1, flags: [.amsgrad, .decoupledWeightDecay]),
            Hyperparameters(lr: 2e-2, beta1: 0.95, beta2: 0.995, eps: 0, weightDecay: 0.2, flags: [.amsgrad, .maximize]),
            Hyperparameters(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, flags: [.amsgrad, .noBiasCorrection]),
        ]
        let state = try AdamState(lengths: [n], hyper: configs[0])
        let params = Buffers([p0])
        var emu = Float32Torch(params: p0)
        for (k, h) in configs.enumerated() {
            try state.setHyperparameters(h)
            XCTAssertEqual(state.hyper, h)
            for _ in 0..<3 {
                let g = rng.floats(n) { $0.gradient() }
                try state.stepGroup(params, Buffers([g]))
                emu.step(grad: g, h)
            }
            assertBitsEqual(params.array(0), emu.p, "after config \(k): params")
            assertBitsEqual(state.moment(.maxExpAvgSq, 0), emu.vmax, "after config \(k): vmax")
        }
        XCTAssertEqual(Array(state.steps), [15])
    }
}
