import XCTest
import CSwiftAdam
import SwiftAdamCore

/// Moment access and checkpoints: round trips are exact, continued trajectories are
/// bit-identical, and damaged bytes are always rejected.
final class CheckpointTests: XCTestCase {
    /// Any float bit pattern set through set_moment comes back unchanged (NaN payloads,
    /// -0, denormals, infinities): moments are data, not arithmetic.
    func testMomentSetGetRoundTripIsBitExact() {
        let lengths = [5, 0, 37]
        let s = makeState(lengths, defaultConfig(flags: cFlagAmsgrad))
        defer { XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK) }
        var rng = TestRNG(seed: 1)
        let specials: [Float] = [.nan, Float(bitPattern: 0x7FC1_2345), Float(bitPattern: 0xFFA0_0001), -0.0,
                                 .leastNonzeroMagnitude, -.infinity, .greatestFiniteMagnitude]
        for which in [SWIFTADAM_MOMENT_EXP_AVG, SWIFTADAM_MOMENT_EXP_AVG_SQ, SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ] {
            for (i, n) in lengths.enumerated() {
                var values = (0..<n).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
                for k in 0..<min(n, specials.count) { values[k] = specials[k] }
                var dummy: Float = 0
                let rc = values.isEmpty ? swiftadam_set_moment(s, i, which, &dummy, 0)
                                        : swiftadam_set_moment(s, i, which, values, n)
                XCTAssertEqual(rc, SWIFTADAM_OK, lastError())
                assertBitsEqual(cMoment(s, i, which, length: n), values, "moment \(which) tensor \(i)")
            }
        }
        // Different moments and tensors are different buffers.
        let m = cMoment(s, 2, SWIFTADAM_MOMENT_EXP_AVG, length: 37)
        var zeros = [Float](repeating: 0, count: 37)
        XCTAssertEqual(swiftadam_set_moment(s, 2, SWIFTADAM_MOMENT_EXP_AVG_SQ, &zeros, 37), SWIFTADAM_OK)
        assertBitsEqual(cMoment(s, 2, SWIFTADAM_MOMENT_EXP_AVG, length: 37), m, "exp_avg changed by setting exp_avg_sq")
        // A capacity larger than the tensor writes exactly `length` floats.
        var big = [Float](repeating: 42, count: 40)
        XCTAssertEqual(swiftadam_get_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG, &big, 40), SWIFTADAM_OK)
        XCTAssertEqual(Array(big[5...]), [Float](repeating: 42, count: 35), "wrote past the tensor's length")
    }

    func trainedState(amsgrad: Bool, seed: UInt64) throws -> (AdamState, Buffers, [[[Float]]]) {
        let lengths = [5, 0, 37, 129, 1]
        var rng = TestRNG(seed: seed)
        let h = Hyperparameters(lr: 3e-3, beta1: 0.85, beta2: 0.995, eps: 1e-7, weightDecay: 0.01,
                                flags: amsgrad ? [.amsgrad, .decoupledWeightDecay] : [.maximize])
        let state = try AdamState(lengths: lengths, hyper: h)
        let params = Buffers(lengths.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } })
        let grads = (0..<17).map { _ in lengths.map { n in rng.floats(n) { $0.gradient() } } }
        for s in 0..<7 { try state.stepGroup(params, Buffers(grads[s]), skip: s % 2 == 0 ? [3] : []) }
        return (state, params, grads)
    }

    /// serialize -> deserialize (and save -> load through a file), then both the original
    /// and the copies continue: params, moments, steps bit-identical to the uninterrupted run.
    func testCheckpointContinuesBitIdentically() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftadam-xctest-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for amsgrad in [false, true] {
            let (state, params, grads) = try trainedState(amsgrad: amsgrad, seed: amsgrad ? 2 : 3)
            let bytes = try state.serializedBytes()
            XCTAssertEqual(bytes.count, try state.serializedSize())
            XCTAssertEqual(try state.serializedBytes(), bytes, "serialize twice: different bytes")
            let copy = try bytes.withUnsafeBytes { b in
                try state.lengths.withUnsafeBufferPointer { try AdamState.deserialize(b, expected: $0) }
            }
            XCTAssertEqual(try copy.serializedBytes(), bytes, "bytes -> state -> bytes differs")
            XCTAssertEqual(copy.hyper, state.hyper)
            XCTAssertEqual(Array(copy.steps), Array(state.steps))
            let path = dir.appendingPathComponent("state-\(amsgrad).ckpt").path
            try state.save(to: path)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"), "temporary file left behind")
            XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), bytes, "file bytes != serialized bytes")
            let loaded = try AdamState.load(from: path, expected: nil)
            XCTAssertEqual(try loaded.serializedBytes(), bytes)

            let p2 = params.clone(), p3 = params.clone()
            for s in 7..<17 {
                let skip: Set<Int> = s % 3 == 0 ? [0] : []
                try state.stepGroup(params, Buffers(grads[s]), skip: skip)
                try copy.stepGroup(p2, Buffers(grads[s]), skip: skip)
                try loaded.stepGroup(p3, Buffers(grads[s]), skip: skip)
            }
            assertBitsEqual(p2.flat, params.flat, "amsgrad=\(amsgrad): deserialized trajectory")
            assertBitsEqual(p3.flat, params.flat, "amsgrad=\(amsgrad): loaded trajectory")
            assertBytesEqual(try copy.serializedBytes(), try state.serializedBytes(), "amsgrad=\(amsgrad): deserialized state")
            assertBytesEqual(try loaded.serializedBytes(), try state.serializedBytes(), "amsgrad=\(amsgrad): loaded state")
            // Saving again over an existing file replaces it.
            try state.save(to: path)
            XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), try state.serializedBytes())
        }
    }

    /// Swift callers pass paths as String: one with a NUL would name another file (the
    /// kernel stops at the NUL), "" names none. Both are refused before anything is written.
    func testPathsThatNameAnotherFileAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftadam-xctest-nul-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (state, _, _) = try trainedState(amsgrad: false, seed: 5)
        let cut = dir.appendingPathComponent("model.ckpt").path
        for bad in [cut + "\0.bak", ""] {
            XCTAssertThrowsError(try state.save(to: bad)) { e in
                XCTAssertEqual((e as? AdamError)?.kind, .invalidArgument, "save(to: \(bad.debugDescription)): \(e)")
            }
            XCTAssertThrowsError(try AdamState.load(from: bad, expected: nil)) { e in
                XCTAssertEqual((e as? AdamError)?.kind, .invalidArgument, "load(from: \(bad.debugDescription)): \(e)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: cut), "saved to the path cut at the NUL")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cut + ".tmp"), "temporary file of the cut path")
        // Messages show bytes that are not UTF-8 as \xNN, so two such paths never read alike.
        let raw: [CChar] = [0x61, -1, 0x2F, -2, 0]   // "a\xff/\xfe"
        XCTAssertEqual(try CheckpointPath(cString: raw).description, "a\\xff/\\xfe")
    }

    /// The same through the C ABI: serialize/deserialize/save/load and continued steps.
    func testCheckpointThroughTheCABI() throws {
        let lengths = [3, 0, 17]
        let s = makeState(lengths, defaultConfig(flags: cFlagAmsgrad | cFlagNoBiasCorrection))
        var rng = TestRNG(seed: 4)
        let params = Buffers(lengths.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } })
        let grads = (0..<8).map { _ in Buffers(lengths.map { n in rng.floats(n) { $0.gradient() } }) }
        for k in 0..<4 { XCTAssertEqual(cStep(s, params, grads[k]), SWIFTADAM_OK) }
        let bytes = cSnapshot(s)
        XCTAssertEqual(cSnapshot(s), bytes)
        var copy: OpaquePointer?
        XCTAssertEqual(swiftadam_deserialize(bytes, bytes.count, lengths, lengths.count, &copy), SWIFTADAM_OK, lastError())
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftadam-capi-\(getpid()).ckpt").path
        defer { unlink(path) }
        XCTAssertEqual(swiftadam_save(s, path), SWIFTADAM_OK, lastError())
        var loaded: OpaquePointer?
        XCTAssertEqual(swiftadam_load(path, nil, 0, &loaded), SWIFTADAM_OK, lastError())
        guard let copy, let loaded else { return XCTFail("no state") }
        XCTAssertEqual(cSnapshot(copy), bytes)
        XCTAssertEqual(cSnapshot(loaded), bytes)
        let p2 = params.clone(), p3 = params.clone()
        for k in 4..<8 {
            XCTAssertEqual(cStep(s, params, grads[k]), SWIFTADAM_OK)
            XCTAssertEqual(cStep(copy, p2, grads[k]), SWIFTADAM_OK)
            XCTAssertEqual(cStep(loaded, p3, grads[k]), SWIFTADAM_OK)
        }
        assertBitsEqual(p2.flat, params.flat, "deserialized")
        assertBitsEqual(p3.flat, params.flat, "loaded")
        XCTAssertEqual(cSnapshot(copy), cSnapshot(s))
        XCTAssertEqual(cSnapshot(loaded), cSnapshot(s))
        for h in [s, copy, loaded] { XCTAssertEqual(swiftadam_free(h), SWIFTADAM_OK) }
    }

    /// A small checkpoint (one tensor of 3, amsgrad: 328 bytes): flipping any one of its
    /// bits, truncating it anywhere, or appending a byte is rejected with an error code,
    /// never accepted and never a crash.
    func testEverySingleBitFlipIsRejected() throws {
        for flags in [cFlagAmsgrad, 0] {
            let s = makeState([3], defaultConfig(flags: flags))
            var p: [Float] = [0.5, -1, 2]
            var g: [Float] = [0.1, 0.2, -0.3]
            XCTAssertEqual(swiftadam_step_tensor(s, &p, &g, 3, 0), SWIFTADAM_OK)
            XCTAssertEqual(swiftadam_step_tensor(s, &p, &g, 3, 0), SWIFTADAM_OK)
            let good = cSnapshot(s)
            XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK)
            XCTAssertEqual(good.count, flags == cFlagAmsgrad ? 328 : 264)
            var codes: [Int32: Int] = [:]
            var bytes = good
            for bit in 0..<(good.count * 8) {
                bytes[bit / 8] ^= UInt8(1 << (bit % 8))
                var out: OpaquePointer? = nil
                let rc = swiftadam_deserialize(bytes, bytes.count, nil, 0, &out)
                codes[rc, default: 0] += 1
                if rc >= 0 {
                    XCTFail("bit \(bit) (byte \(bit / 8)) flipped: accepted with \(statusName(rc))")
                    if let out { _ = swiftadam_free(out) }
                } else {
                    XCTAssertNil(out, "bit \(bit): *out written on error")
                }
                bytes[bit / 8] ^= UInt8(1 << (bit % 8))
            }
            XCTAssertEqual(bytes, good)
            var out: OpaquePointer?
            XCTAssertEqual(swiftadam_deserialize(good, good.count, nil, 0, &out), SWIFTADAM_OK, "the unflipped bytes load")
            if let out { XCTAssertEqual(swiftadam_free(out), SWIFTADAM_OK) }
            for size in 0..<good.count {
                var o: OpaquePointer?
                let rc = good.withUnsafeBytes { swiftadam_deserialize($0.baseAddress, size, nil, 0, &o) }
                XCTAssertLessThan(rc, 0, "truncated to \(size) bytes: accepted")
                XCTAssertNil(o)
            }
            var longer = good + [0]
            var o: OpaquePointer?
            XCTAssertEqual(swiftadam_deserialize(&longer, longer.count, nil, 0, &o), SWIFTADAM_ERR_CORRUPT, "trailing byte")
            let summary = codes.sorted { $0.key > $1.key }.map { "\(statusName($0.key)): \($0.value)" }
            print("bit flips of a \(good.count)-byte checkpoint (flags \(flags)): \(summary.joined(separator: ", "))")
        }
    }
}
