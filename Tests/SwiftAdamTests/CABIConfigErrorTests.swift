import XCTest
import CSwiftAdam

/// Configuration errors through the C ABI: swiftadam_config_init, swiftadam_create,
/// swiftadam_set_config, swiftadam_set_lr, swiftadam_get_config. Each call: exact
/// status, a fresh last_error naming the argument, nothing changed.
final class CABIConfigErrorTests: XCTestCase {
    let badHyperparameters: [(String, (inout swiftadam_config) -> Void, [String])] = [
        ("lr < 0", { $0.lr = -1e-3 }, ["learning rate", "lr", "-0.001"]),
        ("lr NaN", { $0.lr = .nan }, ["lr", "nan"]),
        ("lr +Inf", { $0.lr = .infinity }, ["lr", "inf"]),
        ("lr -Inf", { $0.lr = -.infinity }, ["lr", "inf"]),
        ("beta1 = 1", { $0.beta1 = 1 }, ["beta1", "1.0"]),
        ("beta1 < 0", { $0.beta1 = -0.1 }, ["beta1", "-0.1"]),
        ("beta1 > 1", { $0.beta1 = 1.5 }, ["beta1", "1.5"]),
        ("beta1 NaN", { $0.beta1 = .nan }, ["beta1", "nan"]),
        ("beta2 = 1", { $0.beta2 = 1 }, ["beta2", "1.0"]),
        ("beta2 < 0", { $0.beta2 = -1e-9 }, ["beta2"]),
        ("beta2 Inf", { $0.beta2 = .infinity }, ["beta2", "inf"]),
        ("beta2 NaN", { $0.beta2 = .nan }, ["beta2", "nan"]),
        ("eps < 0", { $0.eps = -1e-8 }, ["eps", "-1e-08"]),
        ("eps NaN", { $0.eps = .nan }, ["eps", "nan"]),
        ("eps Inf", { $0.eps = .infinity }, ["eps", "inf"]),
        ("weight_decay < 0", { $0.weight_decay = -0.01 }, ["weight_decay", "-0.01"]),
        ("weight_decay NaN", { $0.weight_decay = .nan }, ["weight_decay", "nan"]),
        ("weight_decay Inf", { $0.weight_decay = .infinity }, ["weight_decay", "inf"]),
        ("reserved != 0", { $0.reserved = 7 }, ["reserved", "7"]),
    ]
    let unknownFlags: [UInt32] = [1 << 4, 1 << 31, 0xFFFF_FFF0]

    func testConfigInit() {
        var c = swiftadam_config()
        XCTAssertEqual(swiftadam_config_init(&c, MemoryLayout<swiftadam_config>.size), SWIFTADAM_OK)
        XCTAssertEqual(c.struct_size, MemoryLayout<swiftadam_config>.size)
        XCTAssertEqual(c.lr, 1e-3)
        XCTAssertEqual(c.beta1, 0.9)
        XCTAssertEqual(c.beta2, 0.999)
        XCTAssertEqual(c.eps, 1e-8)
        XCTAssertEqual(c.weight_decay, 0)
        XCTAssertEqual(c.flags, 0)
        XCTAssertEqual(c.reserved, 0)
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["cfg"]) { swiftadam_config_init(nil, MemoryLayout<swiftadam_config>.size) }
        for size in [0, 8, v1ConfigSize - 1] {
            var untouched = swiftadam_config()
            untouched.lr = 42
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["struct_size", "\(size)"]) { swiftadam_config_init(&untouched, size) }
            XCTAssertEqual(untouched.lr, 42, "config written on error")
            XCTAssertEqual(untouched.struct_size, 0)
        }
        // A newer caller's larger struct: the unknown tail is zeroed, the defaults filled in.
        let big = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16)
        defer { big.deallocate() }
        big.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 256)
        let cfg = big.assumingMemoryBound(to: swiftadam_config.self)
        XCTAssertEqual(swiftadam_config_init(cfg, 200), SWIFTADAM_OK, lastError())
        XCTAssertEqual(cfg.pointee.struct_size, 200)
        XCTAssertEqual(cfg.pointee.lr, 1e-3)
        for off in MemoryLayout<swiftadam_config>.size..<200 {
            XCTAssertEqual(big.load(fromByteOffset: off, as: UInt8.self), 0, "byte \(off) of the caller's struct not zeroed")
        }
        for off in 200..<256 {
            XCTAssertEqual(big.load(fromByteOffset: off, as: UInt8.self), 0xAB, "byte \(off) past struct_size written")
        }
        var s: OpaquePointer?
        XCTAssertEqual(swiftadam_create([4], 1, cfg, &s), SWIFTADAM_OK, "a zero-extended larger struct is accepted")
        if let s { XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK) }
    }

    func testCreateRejectsBadArgumentsAndLeavesOutUntouched() {
        let sentinel = OpaquePointer(bitPattern: 0xDEAD_BEE0)!
        var out: OpaquePointer? = sentinel
        var cfg = defaultConfig()
        let one = [8]
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["lengths"]) { swiftadam_create(nil, 1, &cfg, &out) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"]) { swiftadam_create(one, 1, &cfg, nil) }
        expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["num_tensors", "0"]) { swiftadam_create(one, 0, &cfg, &out) }
        let maxT = Int(SWIFTADAM_MAX_TENSORS)
        for n in [maxT + 1, sizeMax, sz(UInt.max / 2 + 1), sz(UInt.max / 2)] {
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["num_tensors", "got \(UInt(bitPattern: n))"]) {
                swiftadam_create(one, n, &cfg, &out)
            }
        }
        // Lengths whose state size overflows size_t, and one that fits but cannot be had.
        let overflowing: [([Int], [String])] = [
            ([sizeMax], ["lengths[0] = 18446744073709551615"]),
            ([sz(UInt.max / 2 + 1)], ["lengths[0] = 9223372036854775808"]),
            ([sz(UInt.max / 2)], ["overflow"]),
            ([sz(UInt.max / 4)], ["overflow"]),
            ([sz(UInt.max / 8)], ["overflow"]),
            ([sz(UInt.max / 16)], ["overflow"]),
            ([3, sz(UInt.max / 4), sz(UInt.max / 4)], ["overflow"]),
            ([1, Int.max / 2, Int.max / 2, 1], ["overflow"]),
        ]
        for (lens, words) in overflowing {
            expectFailure(SWIFTADAM_ERR_OVERFLOW, mentions: words, "lengths \(lens.map { UInt(bitPattern: $0) })") {
                swiftadam_create(lens, lens.count, &cfg, &out)
            }
        }
        expectFailure(SWIFTADAM_ERR_OUT_OF_MEMORY, mentions: ["allocate"]) { swiftadam_create([1 << 50], 1, &cfg, &out) }
        for (what, mutate, words) in badHyperparameters {
            var c = defaultConfig()
            mutate(&c)
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: words, "create with \(what)") { swiftadam_create(one, 1, &c, &out) }
        }
        for flags in unknownFlags {
            var c = defaultConfig(flags: flags | cFlagAmsgrad)
            expectFailure(SWIFTADAM_ERR_UNSUPPORTED, mentions: ["flag", String(flags, radix: 16)]) { swiftadam_create(one, 1, &c, &out) }
        }
        for size in [0, 8, v1ConfigSize - 1, 4097, sizeMax] {
            var c = defaultConfig()
            c.struct_size = size
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["struct_size", "got \(UInt(bitPattern: size))"]) {
                swiftadam_create(one, 1, &c, &out)
            }
        }
        // A larger struct (newer header) with a non-zero byte the library does not know.
        let big = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 16)
        defer { big.deallocate() }
        big.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
        let c = big.assumingMemoryBound(to: swiftadam_config.self)
        XCTAssertEqual(swiftadam_config_init(c, 128), SWIFTADAM_OK)
        big.storeBytes(of: 1, toByteOffset: 100, as: UInt8.self)
        expectFailure(SWIFTADAM_ERR_UNSUPPORTED, mentions: ["offset 100"]) { swiftadam_create(one, 1, c, &out) }
        XCTAssertEqual(out, sentinel, "*out written by a failed create")
    }

    func testSetConfigSetLRAndGetConfigErrorsLeaveTheStateUnchanged() {
        for flags in [UInt32(0), cFlagAmsgrad] {
            let s = makeState([5, 3], defaultConfig(flags: flags))
            let p = Buffers([[1, 2, 3, 4, 5], [6, 7, 8]])
            XCTAssertEqual(cStep(s, p, Buffers([[0.1, 0.2, 0.3, 0.4, 0.5], [1, 2, 3]])), SWIFTADAM_OK)
            for (what, mutate, words) in badHyperparameters {
                var c = defaultConfig(flags: flags)
                mutate(&c)
                expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: words, state: s, "set_config with \(what)") {
                    swiftadam_set_config(s, &c)
                }
            }
            for bad in [-1.0, -.infinity, .infinity, .nan, -Double.leastNonzeroMagnitude] {
                expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["lr"], state: s, "set_lr(\(bad))") { swiftadam_set_lr(s, bad) }
            }
            for f in unknownFlags {
                var c = defaultConfig(flags: flags | f)
                expectFailure(SWIFTADAM_ERR_UNSUPPORTED, mentions: ["flag"], state: s) { swiftadam_set_config(s, &c) }
            }
            // amsgrad cannot be switched on or off: the vmax buffer exists or not.
            var toggled = defaultConfig(flags: flags ^ cFlagAmsgrad)
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["amsgrad"], state: s) { swiftadam_set_config(s, &toggled) }
            var small = defaultConfig(flags: flags)
            small.struct_size = 16
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["struct_size"], state: s) { swiftadam_set_config(s, &small) }
            expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["cfg"], state: s) { swiftadam_set_config(s, nil) }
            var good = defaultConfig(flags: flags)
            expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["state"]) { swiftadam_set_config(nil, &good) }
            expectFailure(SWIFTADAM_ERR_INVALID_HANDLE, mentions: ["not a live"]) { swiftadam_set_config(neverCreatedHandle, &good) }
            expectFailure(SWIFTADAM_ERR_INVALID_HANDLE, mentions: ["not a live"]) { swiftadam_set_lr(neverCreatedHandle, 0.1) }
            expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["state"]) { swiftadam_set_lr(nil, 0.1) }

            // get_config: NULL out, struct_size too small (out untouched), handle errors.
            var out = swiftadam_config()
            out.struct_size = 8
            out.lr = 42
            expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["struct_size"], state: s) { swiftadam_get_config(s, &out) }
            XCTAssertEqual(out.lr, 42)
            expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"], state: s) { swiftadam_get_config(s, nil) }
            var ok = defaultConfig()
            expectFailure(SWIFTADAM_ERR_INVALID_HANDLE, mentions: ["not a live"]) { swiftadam_get_config(neverCreatedHandle, &ok) }

            // The valid values still work afterwards and round-trip through get_config.
            var newer = defaultConfig(flags: flags | cFlagMaximize | cFlagDecoupled)
            newer.lr = 0.25
            newer.beta1 = 0
            newer.eps = 0
            newer.weight_decay = 3
            XCTAssertEqual(swiftadam_set_config(s, &newer), SWIFTADAM_OK, lastError())
            var back = defaultConfig()
            XCTAssertEqual(swiftadam_get_config(s, &back), SWIFTADAM_OK)
            XCTAssertEqual(back.lr, 0.25)
            XCTAssertEqual(back.beta1, 0)
            XCTAssertEqual(back.eps, 0)
            XCTAssertEqual(back.weight_decay, 3)
            XCTAssertEqual(back.flags, flags | cFlagMaximize | cFlagDecoupled)
            XCTAssertEqual(swiftadam_set_lr(s, 0), SWIFTADAM_OK)
            XCTAssertEqual(swiftadam_get_config(s, &back), SWIFTADAM_OK)
            XCTAssertEqual(back.lr, 0)
            XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK)
        }
    }
}
