import XCTest
import CSwiftAdam

/// Version, status and backend queries, and a full life cycle through the C ABI only.
final class CABIBasicsTests: XCTestCase {
    func testVersionAndStatusStrings() {
        XCTAssertEqual(swiftadam_abi_version(), UInt32(SWIFTADAM_ABI_VERSION))
        XCTAssertEqual(swiftadam_version_number(),
                       UInt32(SWIFTADAM_VERSION_MAJOR * 10000 + SWIFTADAM_VERSION_MINOR * 100 + SWIFTADAM_VERSION_PATCH))
        XCTAssertEqual(String(cString: swiftadam_version_string()), SWIFTADAM_VERSION_STRING)
        let codes: [(Int32, String)] = [
            (SWIFTADAM_OK, "SWIFTADAM_OK"), (SWIFTADAM_STEP_SKIPPED, "SWIFTADAM_STEP_SKIPPED"),
            (SWIFTADAM_ERR_NULL_POINTER, "SWIFTADAM_ERR_NULL_POINTER"), (SWIFTADAM_ERR_INVALID_HANDLE, "SWIFTADAM_ERR_INVALID_HANDLE"),
            (SWIFTADAM_ERR_INVALID_ARGUMENT, "SWIFTADAM_ERR_INVALID_ARGUMENT"), (SWIFTADAM_ERR_SIZE_MISMATCH, "SWIFTADAM_ERR_SIZE_MISMATCH"),
            (SWIFTADAM_ERR_OVERFLOW, "SWIFTADAM_ERR_OVERFLOW"), (SWIFTADAM_ERR_OUT_OF_MEMORY, "SWIFTADAM_ERR_OUT_OF_MEMORY"),
            (SWIFTADAM_ERR_BUFFER_TOO_SMALL, "SWIFTADAM_ERR_BUFFER_TOO_SMALL"), (SWIFTADAM_ERR_BUSY, "SWIFTADAM_ERR_BUSY"),
            (SWIFTADAM_ERR_IO, "SWIFTADAM_ERR_IO"), (SWIFTADAM_ERR_BAD_MAGIC, "SWIFTADAM_ERR_BAD_MAGIC"),
            (SWIFTADAM_ERR_UNSUPPORTED_VERSION, "SWIFTADAM_ERR_UNSUPPORTED_VERSION"), (SWIFTADAM_ERR_CHECKSUM, "SWIFTADAM_ERR_CHECKSUM"),
            (SWIFTADAM_ERR_CORRUPT, "SWIFTADAM_ERR_CORRUPT"), (SWIFTADAM_ERR_UNSUPPORTED, "SWIFTADAM_ERR_UNSUPPORTED"),
            (SWIFTADAM_ERR_DTYPE_MISMATCH, "SWIFTADAM_ERR_DTYPE_MISMATCH"),
        ]
        XCTAssertEqual(Set(codes.map(\.0)).count, codes.count, "status codes must be distinct")
        XCTAssertEqual(codes.map(\.0), [0, 1, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15], "codes are stable")
        var texts = Set<String>()
        for (code, name) in codes {
            XCTAssertEqual(statusName(code), name)
            let text = String(cString: swiftadam_status_string(code))
            XCTAssertFalse(text.isEmpty)
            texts.insert(text)
        }
        XCTAssertEqual(texts.count, codes.count, "status descriptions must be distinct")
        for unknown: Int32 in [2, -16, 12345, .min, .max] {
            XCTAssertEqual(statusName(unknown), "SWIFTADAM_UNKNOWN_STATUS")
            XCTAssertFalse(String(cString: swiftadam_status_string(unknown)).isEmpty)
        }
        let backend = String(cString: swiftadam_backend_name())
        XCTAssertTrue(["avx512", "avx2", "sse2", "simd", "scalar"].contains(backend), backend)
    }

    /// create, configure, step with a schedule, read everything back, free.
    func testLifeCycleMatchesTheFormula() {
        let lengths = [3, 0, 19]
        var cfg = defaultConfig(flags: cFlagDecoupled)
        cfg.weight_decay = 0.01
        let s = makeState(lengths, cfg)
        var rng = TestRNG(seed: 21)
        let p0 = lengths.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } }
        let params = Buffers(p0)
        var emu = p0.map { Float32Torch(params: $0) }
        var h = SwiftAdamCoreHyper(cfg)
        for k in 0..<12 {
            let lr = 1e-2 / Double(k + 1)
            XCTAssertEqual(swiftadam_set_lr(s, lr), SWIFTADAM_OK)
            h.lr = lr
            let g = Buffers(lengths.map { n in rng.floats(n) { $0.gradient() } })
            XCTAssertEqual(cStep(s, params, g), SWIFTADAM_OK)
            for i in 0..<lengths.count { emu[i].step(grad: g.array(i), h) }
        }
        for i in 0..<lengths.count {
            assertBitsEqual(params.array(i), emu[i].p, "tensor \(i): params")
            assertBitsEqual(cMoment(s, i, SWIFTADAM_MOMENT_EXP_AVG, length: lengths[i]), emu[i].m, "tensor \(i): exp_avg")
            assertBitsEqual(cMoment(s, i, SWIFTADAM_MOMENT_EXP_AVG_SQ, length: lengths[i]), emu[i].v, "tensor \(i): exp_avg_sq")
            var u: UInt64 = 0
            XCTAssertEqual(swiftadam_tensor_step(s, i, &u), SWIFTADAM_OK)
            XCTAssertEqual(u, 12)
        }
        // A one-tensor state through swiftadam_step_tensor equals the same via swiftadam_step.
        let a = makeState([19], cfg), b = makeState([19], cfg)
        var pa = p0[2], pb = p0[2]
        for _ in 0..<3 {
            var g = rng.floats(19) { $0.gradient() }
            XCTAssertEqual(swiftadam_step_tensor(a, &pa, &g, 19, 0), SWIFTADAM_OK)
            pb.withUnsafeMutableBufferPointer { pp in
                g.withUnsafeBufferPointer { gp in XCTAssertEqual(cStep(b, [pp.baseAddress], [gp.baseAddress]), SWIFTADAM_OK) }
            }
        }
        assertBitsEqual(pa, pb, "step_tensor vs step")
        XCTAssertEqual(cSnapshot(a), cSnapshot(b))
        for x in [s, a, b] { XCTAssertEqual(swiftadam_free(x), SWIFTADAM_OK) }
    }
}
