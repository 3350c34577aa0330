import XCTest
import CSwiftAdam

/// Serialization and file errors through the C ABI.
final class CABICheckpointErrorTests: XCTestCase {
    func testSerializeErrors() {
        let s = makeState([5, 3], defaultConfig(flags: cFlagAmsgrad))
        defer { XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK) }
        var p: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        var g: [Float] = [1, -1, 1, -1, 1, -1, 1, -1]
        p.withUnsafeMutableBufferPointer { pb in
            g.withUnsafeMutableBufferPointer { gb in
                XCTAssertEqual(cStep(s, [pb.baseAddress, pb.baseAddress! + 5], [UnsafePointer(gb.baseAddress), UnsafePointer(gb.baseAddress! + 5)]), SWIFTADAM_OK)
            }
        }
        var size = 0
        XCTAssertEqual(swiftadam_serialized_size(s, &size), SWIFTADAM_OK)
        var buf = [UInt8](repeating: 0xEE, count: size + 16)
        var written = 12345
        for cap in [0, 1, size - 1] {
            expectFailure(SWIFTADAM_ERR_BUFFER_TOO_SMALL, mentions: ["capacity", "\(size)", "got \(cap)"], state: s) {
                swiftadam_serialize(s, &buf, cap, &written)
            }
        }
        XCTAssertEqual(buf, [UInt8](repeating: 0xEE, count: size + 16), "a failed serialize wrote into the buffer")
        XCTAssertEqual(written, 12345, "written set by a failed serialize")
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["buf"], state: s) { swiftadam_serialize(s, nil, size, &written) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["written"], state: s) { swiftadam_serialize(s, &buf, size, nil) }
        // A larger capacity (up to SIZE_MAX, "plenty") writes exactly `size` bytes.
        for cap in [size, size + 16, sizeMax] {
            buf = [UInt8](repeating: 0xEE, count: size + 16)
            XCTAssertEqual(swiftadam_serialize(s, &buf, cap, &written), SWIFTADAM_OK, "capacity \(UInt(bitPattern: cap)): \(lastError())")
            XCTAssertEqual(written, size)
            XCTAssertEqual(Array(buf[size...]), [UInt8](repeating: 0xEE, count: 16), "wrote past the serialized size")
        }
    }

    func testDeserializeAndLoadErrors() throws {
        let lengths = [5, 0, 3]
        let s = makeState(lengths)
        let bytes = cSnapshot(s)
        XCTAssertEqual(swiftadam_free(s), SWIFTADAM_OK)
        let sentinel = OpaquePointer(bitPattern: 0xBAD0)!
        var out: OpaquePointer? = sentinel
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["buf"]) { swiftadam_deserialize(nil, bytes.count, nil, 0, &out) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"]) { swiftadam_deserialize(bytes, bytes.count, nil, 0, nil) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["expected_lengths"]) { swiftadam_deserialize(bytes, bytes.count, nil, 3, &out) }
        for (lens, count) in [([5, 0, 4], 3), ([5, 0], 2), ([5, 0, 3, 1], 4), ([3, 0, 5], 3)] {
            expectFailure(SWIFTADAM_ERR_SIZE_MISMATCH, mentions: ["tensor"], "expected \(lens)") {
                swiftadam_deserialize(bytes, bytes.count, lens, count, &out)
            }
        }
        expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["num_tensors"]) { swiftadam_deserialize(bytes, bytes.count, lengths, 0, &out) }
        expectFailure(SWIFTADAM_ERR_INVALID_ARGUMENT, mentions: ["num_tensors"]) { swiftadam_deserialize(bytes, bytes.count, lengths, sizeMax, &out) }
        // A size that cannot be a real buffer: rejected before anything is read past `bytes`.
        let huge = swiftadam_deserialize(bytes, sizeMax, nil, 0, &out)
        XCTAssertLessThan(huge, 0, "size SIZE_MAX accepted")
        XCTAssertNotEqual(huge, SWIFTADAM_ERR_CHECKSUM, "size SIZE_MAX: bytes past the buffer were read")
        var bad = bytes
        bad[0] ^= 0xFF
        expectFailure(SWIFTADAM_ERR_BAD_MAGIC, mentions: ["not a SwiftAdam checkpoint"]) { swiftadam_deserialize(bad, bad.count, nil, 0, &out) }
        bad = bytes
        bad[8] = 3
        expectFailure(SWIFTADAM_ERR_UNSUPPORTED_VERSION, mentions: ["version 3"]) { swiftadam_deserialize(bad, bad.count, nil, 0, &out) }
        bad = bytes
        bad[bytes.count - 9] ^= 1    // the last padding byte of the data
        expectFailure(SWIFTADAM_ERR_CORRUPT, mentions: ["padding"]) { swiftadam_deserialize(bad, bad.count, nil, 0, &out) }
        bad = bytes
        bad[bytes.count - 8] ^= 1    // the stored CRC itself
        expectFailure(SWIFTADAM_ERR_CHECKSUM, mentions: ["checksum"]) { swiftadam_deserialize(bad, bad.count, nil, 0, &out) }
        expectFailure(SWIFTADAM_ERR_CORRUPT, mentions: ["truncated"]) { swiftadam_deserialize(bytes, bytes.count - 1, nil, 0, &out) }
        XCTAssertEqual(out, sentinel, "*out written by a failed deserialize")

        // Files.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftadam-xctest-io-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("no/such/dir/state.ckpt").path
        expectFailure(SWIFTADAM_ERR_IO, mentions: [missing]) { swiftadam_load(missing, nil, 0, &out) }
        expectFailure(SWIFTADAM_ERR_IO, mentions: ["not a regular file"]) { swiftadam_load(dir.path, nil, 0, &out) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["path"]) { swiftadam_load(nil, nil, 0, &out) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["out"]) { swiftadam_load(missing, nil, 0, nil) }
        let path = dir.appendingPathComponent("state.ckpt").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes.prefix(100))))
        expectFailure(SWIFTADAM_ERR_CORRUPT, mentions: ["truncated"]) { swiftadam_load(path, nil, 0, &out) }
        XCTAssertEqual(out, sentinel, "*out written by a failed load")

        let live = makeState(lengths)
        defer { XCTAssertEqual(swiftadam_free(live), SWIFTADAM_OK) }
        expectFailure(SWIFTADAM_ERR_IO, mentions: [missing], state: live) { swiftadam_save(live, missing) }
        expectFailure(SWIFTADAM_ERR_NULL_POINTER, mentions: ["path"], state: live) { swiftadam_save(live, nil) }
        // A failed save leaves the previous file intact and no temporary file.
        XCTAssertEqual(swiftadam_save(live, path), SWIFTADAM_OK, lastError())
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))
        try FileManager.default.createDirectory(atPath: path + ".tmp", withIntermediateDirectories: false)
        expectFailure(SWIFTADAM_ERR_IO, mentions: [path + ".tmp"], state: live) { swiftadam_save(live, path) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), saved)
    }
}
