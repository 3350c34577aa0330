import XCTest

/// |got - want| in units of the float32 spacing at `scale` (default: at `want`).
func ulpError(_ got: Float, _ want: Double, scale: Double? = nil) -> Double {
    let s = Float(abs(scale ?? want))
    let unit = s == 0 ? Float.leastNonzeroMagnitude : s.ulp
    return abs(Double(got) - want) / Double(unit)
}

/// Fails (printing got, want and the error) unless `got` is within `maxULP` float32 ulps
/// of `want`, ulps taken at `scale` (default: at `want`).
func assertULP(_ got: Float, _ want: Double, maxULP: Double, scale: Double? = nil, _ context: @autoclosure () -> String,
               file: StaticString = #filePath, line: UInt = #line) {
    let e = ulpError(got, want, scale: scale)
    if !(e <= maxULP) {
        XCTFail("\(context()): got \(got) want \(want): \(e) ulps > \(maxULP)", file: file, line: line)
    }
}

func hexBits(_ x: Float) -> String { "0x" + String(x.bitPattern, radix: 16) + " (\(x))" }

/// Element-wise comparison with `same`; on failure reports how many elements differ and
/// the first few with both bit patterns.
private func assertElements(_ got: [Float], _ want: [Float], _ context: () -> String,
                            same: (Float, Float) -> Bool, file: StaticString, line: UInt) -> Bool {
    if got.count != want.count {
        XCTFail("\(context()): length \(got.count) != \(want.count)", file: file, line: line)
        return false
    }
    var bad: [Int] = []
    for i in 0..<got.count where !same(got[i], want[i]) { bad.append(i) }
    if bad.isEmpty { return true }
    let shown = bad.prefix(4).map { "[\($0)] got \(hexBits(got[$0])) want \(hexBits(want[$0]))" }
    XCTFail("\(context()): \(bad.count) of \(got.count) elements differ: \(shown.joined(separator: ", "))",
            file: file, line: line)
    return false
}

/// Bit-for-bit equality of two float arrays.
@discardableResult
func assertBitsEqual(_ got: [Float], _ want: [Float], _ context: @autoclosure () -> String,
                     file: StaticString = #filePath, line: UInt = #line) -> Bool {
    assertElements(got, want, context, same: { $0.bitPattern == $1.bitPattern }, file: file, line: line)
}

/// Bit-for-bit equality except that any NaN matches any NaN. This is what "bit-identical
/// kernel paths" can promise: when two NaN operands meet, IEEE 754 leaves open which
/// payload (and sign) the result carries, x86 returns the first operand's, and LLVM
/// reorders the operands of commutative operations in optimized builds, so NaN payloads
/// differ between paths in release builds (measured: only NaN-vs-NaN differences).
/// Every non-NaN result, signed zeros included, must match exactly.
@discardableResult
func assertBitsEqualExceptNaNPayload(_ got: [Float], _ want: [Float], _ context: @autoclosure () -> String,
                                     file: StaticString = #filePath, line: UInt = #line) -> Bool {
    assertElements(got, want, context, same: sameValue, file: file, line: line)
}

/// Same value or both NaN (for comparisons with an independent emulation, where the NaN
/// payload is not part of the documented formula).
func sameValue(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

func assertSameValues(_ got: [Float], _ want: [Float], _ context: @autoclosure () -> String,
                      file: StaticString = #filePath, line: UInt = #line) {
    assertElements(got, want, context, same: sameValue, file: file, line: line)
}

func assertBytesEqual(_ got: [UInt8], _ want: [UInt8], _ context: @autoclosure () -> String,
                      file: StaticString = #filePath, line: UInt = #line) {
    if got == want { return }
    let first = (0..<min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
    XCTFail("\(context()): \(got.count) vs \(want.count) bytes, first difference at byte \(first)", file: file, line: line)
}

/// Norm-wise relative error ||got - want|| / ||want||.
func relativeError(_ got: [Float], _ want: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<got.count {
        let d = Double(got[i]) - want[i]
        num += d * d
        den += want[i] * want[i]
    }
    return (num / den).squareRoot()
}
