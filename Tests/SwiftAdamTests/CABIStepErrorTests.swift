import XCTest
import CSwiftAdam

/// swiftadam_step / swiftadam_step_tensor argument errors: exact status, message, and
/// neither the state nor any caller array changes.
final class CABIStepErrorTests: XCTestCase {
    func testStepErrors() {
        let lengths = [5, 0, 9]
        let s = makeState(lengths, defaultConfig(flags: cFlagAmsgrad))
        defer { XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK) }
        let p = Buffers([[1, 2, 3, 4, 5], [], (0..<9).map { Float($0) / 3 }])
        let g = Buffers([[0.5, -0.5, 1, -1, 2], [], (0..<9).map { Float($0) - 4 }])
        XCTAssertEqual(cStep(s, p, g), SWIFTADAM_OK)
        let pBefore = p.flat
        let pp: [UnsafeMutablePointer<Float>?] = p.ptrs.map { $0 }
        let gp: [UnsafePointer<Float>?] = g.ptrs.map { UnsafePointer($0) }

        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["params"], state: s) {
            gp.withUnsafeBufferPointer { swiftadam_step(s, nil, $0.baseAddress, 3, 0) }
        }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["grads"], state: s) {
            pp.withUnsafeBufferPointer { swiftadam_step(s, $0.baseAddress, nil, 3, 0) }
        }
        for i in [0, 2] {
            var holes = pp
            holes[i] = nil
            expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["params[\(i)]"], state: s) { cStep(s, holes, gp) }
        }
        // The empty tensor too: params[1] may be NULL only when grads[1] is.
        var emptyHole = pp
        emptyHole[1] = nil
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["params[1]"], state: s) { cStep(s, emptyHole, gp) }
        var bothNil = gp
        bothNil[1] = nil
        XCTAssertEqual(cStep(s, emptyHole, bothNil), SWIFTADAM_OK, "params[1] NULL with grads[1] NULL is allowed")
        let pAfterGood = p.flat
        XCTAssertNotEqual(pAfterGood, pBefore)

        for n in [0, 2, 4, sizeMax, sz(UInt.max / 2 + 1)] {
            expectFailure(SWIFTADAM_ERR_SIZE_MISMATCH, mentions: ["num_tensors", "3", "got \(UInt(bitPattern: n))"], state: s) {
                cStep(s, pp, gp, count: n)
            }
        }
        for flags: UInt32 in [2, 1 << 31, .max] {
            expectFailure(SWIFTADAM_ERR_UNSUPPORTED, mentions: ["step_flags"], state: s) { cStep(s, pp, gp, flags: flags) }
        }
        // A NaN grad without SKIP_NONFINITE but with an unknown flag: still rejected first.
        g[0][0] = .nan
        expectFailure(SWIFTADAM_ERR_UNSUPPORTED, mentions: ["step_flags"], state: s) { cStep(s, pp, gp, flags: 3) }
        XCTAssertEqual(cStep(s, pp, gp, flags: cSkipNonFinite), SWIFTADAM_STEP_SKIPPED)
        assertBitsEqual(p.flat, pAfterGood, "params changed by failed or skipped steps")

        // step_tensor needs a one-tensor state.
        expectFailure(SWIFTADAM_ERR_SIZE_MISMATCH, mentions: ["1 tensor", "3"], state: s) {
            swiftadam_step_tensor(s, p.ptrs[0], g.ptrs[0], 5, 0)
        }
    }

    func testStepTensorErrors() {
        let s = makeState([7])
        defer { XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK) }
        var p: [Float] = [1, 2, 3, 4, 5, 6, 7]
        var g: [Float] = [1, 1, 1, 1, -1, -1, -1]
        XCTAssertEqual(swiftadam_step_tensor(s, &p, &g, 7, 0), SWIFTADAM_OK)
        let before = p
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["param"], state: s) { swiftadam_step_tensor(s, nil, &g, 7, 0) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["grad"], state: s) { swiftadam_step_tensor(s, &p, nil, 7, 0) }
        for len in [0, 6, 8, sizeMax] {
            expectFailure(SWIFTADAM_ERR_SIZE_MISMATCH, mentions: ["length", "7", "got \(UInt(bitPattern: len))"], state: s) {
                swiftadam_step_tensor(s, &p, &g, len, 0)
            }
        }
        expectFailure(SWIFTADAM_ERR_UNSUPPORTED, mentions: ["step_flags"], state: s) { swiftadam_step_tensor(s, &p, &g, 7, 1 << 9) }
        XCTAssertEqual(p, before)
    }
}
