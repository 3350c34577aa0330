import XCTest
@testable import SwiftAdamCore

/// AdamState.partition: the parallel split covers [0, total) exactly, in order, with
/// interior boundaries on 16-element (64-byte) multiples and parts balanced to one block.
final class PartitionTests: XCTestCase {
    func check(_ total: Int, _ parts: Int, file: StaticString = #filePath, line: UInt = #line) {
        var expectedLo = 0
        var sizes: [Int] = []
        for k in 0..<parts {
            let (lo, hi) = AdamState.partition(total, parts: parts, k)
            if lo != expectedLo || hi < lo || hi > total {
                XCTFail("total \(total) parts \(parts): part \(k) = [\(lo), \(hi)) after \(expectedLo)", file: file, line: line)
                return
            }
            if hi != total && hi % 16 != 0 {
                XCTFail("total \(total) parts \(parts): boundary \(hi) not a multiple of 16", file: file, line: line)
            }
            sizes.append(hi - lo)
            expectedLo = hi
        }
        if expectedLo != total { XCTFail("total \(total) parts \(parts): covers [0, \(expectedLo))", file: file, line: line) }
        // Balanced: part sizes in 16-element blocks differ by at most one block (the last
        // part may be short by the partial final block).
        let blocks = sizes.map { ($0 + 15) / 16 }
        if let mx = blocks.max(), let mn = blocks.dropLast().min(), mx - mn > 1 {
            XCTFail("total \(total) parts \(parts): unbalanced blocks \(blocks)", file: file, line: line)
        }
    }

    func testPartitionCoversEverythingOnAlignedBoundaries() {
        var rng = TestRNG(seed: 16)
        let totals = [0, 1, 15, 16, 17, 31, 32, 33, 100, 255, 256, 257, 1000, 131_072, 131_073, 136_557, 1 << 24, (1 << 24) + 5]
            + (0..<200).map { _ in rng.int(5_000_000) }
        let partCounts = [1, 2, 3, 4, 5, 7, 8, 13, 16, 64, 256]
        for total in totals {
            for parts in partCounts { check(total, parts) }
        }
        // More parts than blocks: the extra parts are empty, nothing is lost.
        check(20, 7)
        XCTAssertEqual(AdamState.partition(20, parts: 7, 6).0, 20)
        XCTAssertEqual(AdamState.partition(100, parts: 1, 0).0, 0)
        XCTAssertEqual(AdamState.partition(100, parts: 1, 0).1, 100)
    }
}
