import XCTest
import CSwiftAdam

/// Handle, query, thread-count and moment errors through the C ABI.
final class CABIStateErrorTests: XCTestCase {
    var state: OpaquePointer!
    let lengths = [5, 0, 37]

    override func setUp() {
        state = makeState(lengths, defaultConfig(flags: cFlagMaximize))
        let p = Buffers(lengths.map { n in (0..<n).map { Float($0) } })
        let g = Buffers(lengths.map { n in (0..<n).map { Float($0) * 0.25 - 1 } })
        XCTAssertEqual(cStep(state, p, g), SWIFTADAM_OK)
        XCTAssertEqual(cStep(state, p, g, skip: [2]), SWIFTADAM_OK)
    }

    override func tearDown() {
        XCTAssertEqual(swiftadam_free(state), SWIFTADAM_OK)
    }

    func testInvalidHandles() {
        var n = 0
        var u: UInt64 = 0
        let f = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        f.initialize(repeating: 0, count: 16)
        defer { f.deallocate() }
        var cfg = defaultConfig()
        // Never created, and a freed one (checked right after the free, before any other
        // create could reuse the address).
        var freed: OpaquePointer? = makeState([3])
        XCTAssertEqual(swiftadam_free(freed), SWIFTADAM_OK)
        for (name, h) in [("never created", neverCreatedHandle), ("freed", freed!)] {
            let calls: [(String, () -> Int32)] = [
                ("num_tensors", { swiftadam_num_tensors(h, &n) }),
                ("tensor_length", { swiftadam_tensor_length(h, 0, &n) }),
                ("tensor_step", { swiftadam_tensor_step(h, 0, &u) }),
                ("set_tensor_step", { swiftadam_set_tensor_step(h, 0, 1) }),
                ("get_num_threads", { swiftadam_get_num_threads(h, &n) }),
                ("set_num_threads", { swiftadam_set_num_threads(h, 1) }),
                ("get_config", { swiftadam_get_config(h, &cfg) }),
                ("set_config", { swiftadam_set_config(h, &cfg) }),
                ("set_lr", { swiftadam_set_lr(h, 0.1) }),
                ("step_tensor", { swiftadam_step_tensor(h, f, f, 1, 0) }),
                ("step", { cStep(h, [f], [UnsafePointer(f)]) }),
                ("get_moment", { swiftadam_get_moment(h, 0, 0, f, 1) }),
                ("set_moment", { swiftadam_set_moment(h, 0, 0, f, 1) }),
                ("serialized_size", { swiftadam_serialized_size(h, &n) }),
                ("serialize", { swiftadam_serialize(h, f, 64, &n) }),
                ("save", { swiftadam_save(h, "/tmp/swiftadam-never-written.ckpt") }),
                ("free", { swiftadam_free(h) }),
            ]
            for (fn, call) in calls {
                expectFailure(SWIFTADAM_ERR_INVALID_HANDLE, mentions: ["not a live"], "\(fn) on a \(name) handle", call)
            }
        }
        XCTAssertTrue((0..<16).allSatisfy { f[$0] == 0 }, "a failed call wrote into caller memory")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/swiftadam-never-written.ckpt"))
        freed = nil
        // NULL state: NULL_POINTER for every call except free (which accepts NULL).
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["state"]) { swiftadam_num_tensors(nil, &n) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["state"]) { swiftadam_tensor_step(nil, 0, &u) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["state"]) { swiftadam_step_tensor(nil, f, f, 1, 0) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["state"]) { swiftadam_serialized_size(nil, &n) }
        XCTAssertEqual(swiftadam_free(nil), SWIFTADAM_OK)
    }

    func testQueriesAndIndexErrors() {
        var n = 0
        XCTAssertEqual(swiftadam_num_tensors(state, &n), SWIFTADAM_OK)
        XCTAssertEqual(n, 3)
        for (i, len) in lengths.enumerated() {
            XCTAssertEqual(swiftadam_tensor_length(state, i, &n), SWIFTADAM_OK)
            XCTAssertEqual(n, len)
        }
        var u: UInt64 = 0
        XCTAssertEqual(swiftadam_tensor_step(state, 0, &u), SWIFTADAM_OK)
        XCTAssertEqual(u, 2)
        XCTAssertEqual(swiftadam_tensor_step(state, 2, &u), SWIFTADAM_OK)
        XCTAssertEqual(u, 1)
        for bad in [3, 4, sizeMax, sz(UInt.max / 2 + 1)] {
            let shown = "\(UInt(bitPattern: bad))"
            n = 77
            u = 77
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["index", "got " + shown], state: state) { swiftadam_tensor_length(state, bad, &n) }
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["index", "got " + shown], state: state) { swiftadam_tensor_step(state, bad, &u) }
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["index", "got " + shown], state: state) { swiftadam_set_tensor_step(state, bad, 1) }
            XCTAssertEqual(n, 77, "out written on error")
            XCTAssertEqual(u, 77, "out written on error")
        }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"], state: state) { swiftadam_num_tensors(state, nil) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"], state: state) { swiftadam_tensor_length(state, 0, nil) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"], state: state) { swiftadam_tensor_step(state, 0, nil) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"], state: state) { swiftadam_get_num_threads(state, nil) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"], state: state) { swiftadam_serialized_size(state, nil) }
        // Step counts: a float64 (torch's step tensor) holds integers exactly up to 2^53.
        for bad: UInt64 in [(1 << 53) + 1, 1 << 60, .max] {
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["step", "2^53", "\(bad)"], state: state) {
                swiftadam_set_tensor_step(state, 0, bad)
            }
        }
        XCTAssertEqual(swiftadam_set_tensor_step(state, 1, 12345), SWIFTADAM_OK)
        XCTAssertEqual(swiftadam_tensor_step(state, 1, &u), SWIFTADAM_OK)
        XCTAssertEqual(u, 12345)
    }

    /// A tensor one step short of 2^53 takes that step; the next is refused with a
    /// status (not a trap) and changes nothing.
    func testStepCountCeiling() {
        let s = makeState([4])
        defer { XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK) }
        var p: [Float] = [1, 2, 3, 4]
        var g: [Float] = [0.1, 0.2, 0.3, 0.4]
        XCTAssertEqual(swiftadam_set_tensor_step(s, 0, (1 << 53) - 1), SWIFTADAM_OK)
        XCTAssertEqual(swiftadam_step_tensor(s, &p, &g, 4, 0), SWIFTADAM_OK, lastError())
        var u: UInt64 = 0
        XCTAssertEqual(swiftadam_tensor_step(s, 0, &u), SWIFTADAM_OK)
        XCTAssertEqual(u, 1 << 53)
        let before = p
        expectFailure(SWIFTADAM_ERR_OVERFLOW, mentions: ["2^53"], state: s) { swiftadam_step_tensor(s, &p, &g, 4, 0) }
        XCTAssertEqual(p, before)
    }

    func testThreadCountErrors() {
        var n = 0
        XCTAssertEqual(swiftadam_get_num_threads(state, &n), SWIFTADAM_OK)
        XCTAssertGreaterThanOrEqual(n, 1)
        let original = n
        for bad in [257, 1000, sizeMax, sz(UInt.max / 2 + 1)] {
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["num_threads", "got \(UInt(bitPattern: bad))"], state: state) {
                swiftadam_set_num_threads(state, bad)
            }
            XCTAssertEqual(swiftadam_get_num_threads(state, &n), SWIFTADAM_OK)
            XCTAssertEqual(n, original, "thread count changed by a failed call")
        }
        XCTAssertEqual(swiftadam_set_num_threads(state, 256), SWIFTADAM_OK)
        XCTAssertEqual(swiftadam_get_num_threads(state, &n), SWIFTADAM_OK)
        XCTAssertEqual(n, 256)
        XCTAssertEqual(swiftadam_set_num_threads(state, 3), SWIFTADAM_OK)
        XCTAssertEqual(swiftadam_get_num_threads(state, &n), SWIFTADAM_OK)
        XCTAssertEqual(n, 3)
        XCTAssertEqual(swiftadam_set_num_threads(state, 0), SWIFTADAM_OK)
        XCTAssertEqual(swiftadam_get_num_threads(state, &n), SWIFTADAM_OK)
        XCTAssertEqual(n, original, "0 restores the default")
    }

    func testMomentErrors() {
        var out = [Float](repeating: 9, count: 64)
        let amsgradState = makeState([4], defaultConfig(flags: cFlagAmsgrad))
        defer { XCTAssertEqual(swiftadam_free(amsgradState), SWIFTADAM_OK) }
        XCTAssertEqual(swiftadam_get_moment(amsgradState, 0, SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ, &out, 4), SWIFTADAM_OK)
        out = [Float](repeating: 9, count: 64)
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"], state: state) {
            swiftadam_get_moment(state, 0, SWIFTADAM_MOMENT_EXP_AVG, nil, 5)
        }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["in"], state: state) {
            swiftadam_set_moment(state, 0, SWIFTADAM_MOMENT_EXP_AVG, nil, 5)
        }
        for which: Int32 in [3, -1, .max, .min] {
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["which", "\(which)"], state: state) {
                swiftadam_get_moment(state, 0, which, &out, 64)
            }
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["which", "\(which)"], state: state) {
                swiftadam_set_moment(state, 0, which, out, 5)
            }
        }
        expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["max_exp_avg_sq", "amsgrad"], state: state) {
            swiftadam_get_moment(state, 0, SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ, &out, 64)
        }
        expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["max_exp_avg_sq", "amsgrad"], state: state) {
            swiftadam_set_moment(state, 0, SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ, out, 5)
        }
        for bad in [3, sizeMax] {
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["index", "got \(UInt(bitPattern: bad))"], state: state) {
                swiftadam_get_moment(state, bad, 0, &out, 64)
            }
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["index", "got \(UInt(bitPattern: bad))"], state: state) {
                swiftadam_set_moment(state, bad, 0, out, 5)
            }
        }
        for cap in [0, 36] {
            expectFailure(SWIFTADAM_ERR_BUFFER_TOO_SMALL, mentions: ["capacity", "37", "got \(cap)"], state: state) {
                swiftadam_get_moment(state, 2, SWIFTADAM_MOMENT_EXP_AVG_SQ, &out, cap)
            }
        }
        XCTAssertEqual(out, [Float](repeating: 9, count: 64), "a failed get_moment wrote into out")
        for count in [0, 36, 38, sizeMax] {
            expectFailure(SWIFTADAM_ERR_SIZE_MISMATCH, mentions: ["count", "37", "got \(UInt(bitPattern: count))"], state: state) {
                swiftadam_set_moment(state, 2, SWIFTADAM_MOMENT_EXP_AVG, out, count)
            }
        }
        // A capacity of SIZE_MAX means "large enough".
        XCTAssertEqual(swiftadam_get_moment(state, 0, SWIFTADAM_MOMENT_EXP_AVG, &out, sizeMax), SWIFTADAM_OK, lastError())
        XCTAssertEqual(Array(out[5...]), [Float](repeating: 9, count: 59))
    }
}
