import XCTest
@testable import SwiftAdamCore

/// Results are bit-identical for any thread count. The pool's limit (the CPU count) is
/// raised for the test so that 3 and 7 threads really run on a smaller machine.
final class ThreadIdentityTests: XCTestCase {
    /// Above AdamState.parallelThreshold, with odd lengths, an empty tensor and a nil-grad
    /// tensor in the middle (so the parallel split runs over the stepped tensors only).
    let lengths = [70_001, 3, 0, 65_536, 17, 1_000, 129]

    func testAnyThreadCountGivesBitIdenticalResults() throws {
        XCTAssertGreaterThan(lengths.reduce(0, +) - 1_000, AdamState.parallelThreshold,
                             "the group must stay above the threshold even with tensor 5 skipped")
        let previousLimit = WorkerPool.shared.setLimit(8)
        defer { WorkerPool.shared.setLimit(previousLimit) }
        for opt in [Options(amsgrad: true, decay: .decoupled, maximize: false, biasCorrection: true),
                    Options(amsgrad: false, decay: .l2, maximize: true, biasCorrection: false)] {
            var results: [(Int, [Float], [UInt8])] = []
            for threads in [1, 2, 3, 7] {
                var rng = TestRNG(seed: 909)
                let state = try AdamState(lengths: lengths, hyper: opt.hyper(lr: 1e-2, weightDecay: 0.1))
                state.requestedThreads = threads
                XCTAssertEqual(state.effectiveThreads, threads)
                let params = Buffers(lengths.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } })
                for s in 0..<3 {
                    let g = Buffers(lengths.map { n in rng.floats(n) { $0.gradient() } })
                    XCTAssertEqual(try state.stepGroup(params, g, skip: s == 1 ? [5] : []), .applied)
                }
                results.append((threads, params.flat, state.snapshot()))
            }
            for (threads, p, snap) in results.dropFirst() {
                assertBitsEqual(p, results[0].1, "\(opt): \(threads) threads vs 1: params")
                assertBytesEqual(snap, results[0].2, "\(opt): \(threads) threads vs 1: state")
            }
            // And the threaded result is the formula: spot-check tensor 4 (17 elements,
            // inside a split) against the emulation.
            var rng = TestRNG(seed: 909)
            let p0 = lengths.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } }
            var emu = Float32Torch(params: p0[4])
            for _ in 0..<3 {
                let g = lengths.map { n in rng.floats(n) { $0.gradient() } }
                emu.step(grad: g[4], opt.hyper(lr: 1e-2, weightDecay: 0.1))
            }
            let offset = lengths[0..<4].reduce(0, +)
            assertBitsEqual(Array(results.last!.1[offset..<offset + 17]), emu.p, "\(opt): 7 threads vs formula, tensor 4")
        }
    }
}
