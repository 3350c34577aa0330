import CSwiftAdam
import SwiftAdam
import XCTest

/// Helpers for calling the library exactly as a C caller does (the swiftadam_* symbols,
/// declared by include/swiftadam.h through the CSwiftAdam module).

let cFlagAmsgrad = UInt32(SWIFTADAM_FLAG_AMSGRAD)
let cFlagDecoupled = UInt32(SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY)
let cFlagMaximize = UInt32(SWIFTADAM_FLAG_MAXIMIZE)
let cFlagNoBiasCorrection = UInt32(SWIFTADAM_FLAG_NO_BIAS_CORRECTION)
let cSkipNonFinite = UInt32(SWIFTADAM_STEP_SKIP_NONFINITE)
/// A size_t value as Swift passes it (size_t imports as Int): sz(UInt.max) is SIZE_MAX.
func sz(_ u: UInt) -> Int { Int(bitPattern: u) }
let sizeMax = sz(UInt.max)
/// struct_size of version 1 of swiftadam_config (before flavor and dtype were appended):
/// the smallest a library accepts.
let v1ConfigSize = MemoryLayout<swiftadam_config>.offset(of: \.flavor)!

func statusName(_ code: Int32) -> String { String(cString: swiftadam_status_name(code)) }
func lastError() -> String { String(cString: swiftadam_last_error()) }

func defaultConfig(flags: UInt32 = 0) -> swiftadam_config {
    var c = swiftadam_config()
    let rc = swiftadam_config_init(&c, MemoryLayout<swiftadam_config>.size)
    precondition(rc == SWIFTADAM_OK)
    c.flags = flags
    return c
}

func makeState(_ lengths: [Int], _ cfg: swiftadam_config? = nil,
               file: StaticString = #filePath, line: UInt = #line) -> OpaquePointer {
    var out: OpaquePointer?
    var c = cfg ?? defaultConfig()
    let rc = swiftadam_create(lengths, lengths.count, &c, &out)
    XCTAssertEqual(rc, SWIFTADAM_OK, "swiftadam_create: \(statusName(rc)) \(lastError())", file: file, line: line)
    return out!
}

/// The serialized bytes of a state: its hyperparameters, steps and moments.
func cSnapshot(_ s: OpaquePointer, file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
    var size = 0
    XCTAssertEqual(swiftadam_serialized_size(s, &size), SWIFTADAM_OK, file: file, line: line)
    var buf = [UInt8](repeating: 0, count: size)
    var written = 0
    let rc = buf.withUnsafeMutableBytes { swiftadam_serialize(s, $0.baseAddress, size, &written) }
    XCTAssertEqual(rc, SWIFTADAM_OK, "serialize: \(lastError())", file: file, line: line)
    XCTAssertEqual(written, size, file: file, line: line)
    return buf
}

func cMoment(_ s: OpaquePointer, _ i: Int, _ which: Int32, length: Int) -> [Float] {
    var out = [Float](repeating: 0, count: max(length, 1))
    let rc = swiftadam_get_moment(s, i, which, &out, out.count)
    precondition(rc == SWIFTADAM_OK, lastError())
    return Array(out.prefix(length))
}

/// swiftadam_step with Swift arrays of (possibly nil) pointers.
func cStep(_ s: OpaquePointer?, _ params: [UnsafeMutablePointer<Float>?], _ grads: [UnsafePointer<Float>?],
           count: Int? = nil, flags: UInt32 = 0) -> Int32 {
    params.withUnsafeBufferPointer { pp in
        grads.withUnsafeBufferPointer { gp in
            swiftadam_step(s, pp.baseAddress, gp.baseAddress, count ?? params.count, flags)
        }
    }
}

func cStep(_ s: OpaquePointer?, _ params: Buffers, _ grads: Buffers, skip: Set<Int> = [], flags: UInt32 = 0) -> Int32 {
    cStep(s, params.ptrs.map { $0 },
          (0..<grads.count).map { skip.contains($0) ? nil : UnsafePointer(grads.ptrs[$0]) }, flags: flags)
}

/// Sets this thread's last error to a text no test expects, so a check after a failing
/// call proves the message came from that call.
let lastErrorSentinel = "num_threads must be in [0, 256] (0 = default), got 999"
func primeLastError() {
    let rc = swiftadam_set_num_threads(nil, 999)
    precondition(rc == SWIFTADAM_ERR_INVALID_ARGUMENT && lastError() == lastErrorSentinel, lastError())
}

/// Runs a call that must fail: checks the exact status, that the thread's last error is
/// new, non-empty and names every string in `mentions` (case-insensitive), and that the
/// state's serialized bytes did not change.
func expectFailure(_ want: Int32, mentions: [String], state: OpaquePointer? = nil,
                   _ context: @autoclosure () -> String = "",
                   file: StaticString = #filePath, line: UInt = #line, _ call: () -> Int32) {
    let before = state.map { cSnapshot($0, file: file, line: line) }
    primeLastError()
    let got = call()
    let msg = lastError()
    let ctx = context().isEmpty ? "" : context() + ": "
    XCTAssertEqual(got, want, "\(ctx)status \(got) \(statusName(got)), want \(want) \(statusName(want)); last_error: \(msg)",
                   file: file, line: line)
    XCTAssertFalse(msg.isEmpty, "\(ctx)last_error is empty", file: file, line: line)
    XCTAssertNotEqual(msg, lastErrorSentinel, "\(ctx)last_error was not set by the failing call", file: file, line: line)
    for word in mentions where !msg.lowercased().contains(word.lowercased()) {
        XCTFail("\(ctx)last_error does not mention \"\(word)\": \(msg)", file: file, line: line)
    }
    if let state, let before {
        assertBytesEqual(cSnapshot(state, file: file, line: line), before, "\(ctx)state changed by a failed call",
                         file: file, line: line)
    }
}

/// An address that was never returned by swiftadam_create.
let neverCreatedHandle = OpaquePointer(bitPattern: 0x5151_0000)!

import SwiftAdamCore

/// The Hyperparameters a swiftadam_config describes (for the reference implementations).
func SwiftAdamCoreHyper(_ c: swiftadam_config) -> Hyperparameters {
    Hyperparameters(lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weight_decay,
                    flags: Hyperparameters.Flags(rawValue: c.flags))
}
