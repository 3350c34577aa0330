import SwiftAdamCore
import XCTest

/// One tensor's complete state after some steps.
struct TensorState {
    var p: [Float]
    var m: [Float]
    var v: [Float]
    var vmax: [Float]
    var step: UInt64

    init(p: [Float], m: [Float]? = nil, v: [Float]? = nil, vmax: [Float]? = nil, step: UInt64 = 0) {
        self.p = p
        let zeros = [Float](repeating: 0, count: p.count)
        self.m = m ?? zeros
        self.v = v ?? zeros
        self.vmax = vmax ?? zeros
        self.step = step
    }
}

/// Run `grads.count` steps of the library (AdamState, chosen backend) from `start`.
func librarySteps(_ h: Hyperparameters, from start: TensorState, grads: [[Float]],
                  backend: Backend = .active) throws -> TensorState {
    let n = start.p.count
    let state = try AdamState(lengths: [n], hyper: h)
    state.setMoment(.expAvg, 0, start.m)
    state.setMoment(.expAvgSq, 0, start.v)
    if h.flags.contains(.amsgrad) { state.setMoment(.maxExpAvgSq, 0, start.vmax) }
    try state.setStep(0, start.step)
    let params = Buffers([start.p])
    let gb = Buffers(lengths: [n])
    for g in grads {
        gb.set(0, g)
        _ = try state.stepGroup(params, gb, backend: backend)
    }
    return TensorState(p: params.array(0), m: state.moment(.expAvg, 0), v: state.moment(.expAvgSq, 0),
                       vmax: h.flags.contains(.amsgrad) ? state.moment(.maxExpAvgSq, 0) : start.vmax,
                       step: state.steps[0])
}

/// The same steps in the float32 torch emulation.
func emulatedSteps(_ h: Hyperparameters, from start: TensorState, grads: [[Float]]) -> TensorState {
    var e = Float32Torch(params: start.p, m: start.m, v: start.v, vmax: start.vmax, step: start.step)
    for g in grads { e.step(grad: g, h) }
    return TensorState(p: e.p, m: e.m, v: e.v, vmax: e.vmax, step: e.t)
}

/// Library vs emulation: same values (NaN matches NaN), every buffer and the step count.
func assertMatchesEmulation(_ got: TensorState, _ want: TensorState, amsgrad: Bool, _ context: String,
                            file: StaticString = #filePath, line: UInt = #line) {
    assertSameValues(got.p, want.p, "\(context): params", file: file, line: line)
    assertSameValues(got.m, want.m, "\(context): exp_avg", file: file, line: line)
    assertSameValues(got.v, want.v, "\(context): exp_avg_sq", file: file, line: line)
    if amsgrad { assertSameValues(got.vmax, want.vmax, "\(context): max_exp_avg_sq", file: file, line: line) }
    if got.step != want.step {
        XCTFail("\(context): step \(got.step), want \(want.step)", file: file, line: line)
    }
}
