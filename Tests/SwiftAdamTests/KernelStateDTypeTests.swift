import XCTest
import AdamKernelBase
import SwiftAdamCore

/// float64 and keras-flavour states through AdamState (group, skipped tensors, scalars per
/// tensor, skip-on-nonfinite) on every kernel path, and their checkpoints.
final class KernelStateDTypeTests: XCTestCase {
    /// One step of `state` on caller arrays; tensors in `skip` get a NULL grad.
    func step<T: AdamElement>(_ state: AdamState, _ params: inout [[T]], _ grads: [[T]], skip: Set<Int> = [],
                              skipNonFinite: Bool = false, backend: Backend) throws -> StepOutcome {
        var pp: [UnsafeMutablePointer<T>?] = []
        var gp: [UnsafePointer<T>?] = []
        for i in params.indices {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(params[i].count, 1))
            p.initialize(from: params[i], count: params[i].count)
            pp.append(p)
            if skip.contains(i) {
                gp.append(nil)
            } else {
                let g = UnsafeMutablePointer<T>.allocate(capacity: max(grads[i].count, 1))
                g.initialize(from: grads[i], count: grads[i].count)
                gp.append(UnsafePointer(g))
            }
        }
        defer {
            pp.forEach { $0?.deallocate() }
            gp.forEach { $0.map { UnsafeMutablePointer(mutating: $0).deallocate() } }
        }
        let outcome = try state.step(params: pp, grads: gp, count: pp.count, skipNonFinite: skipNonFinite, backend: backend)
        for i in params.indices { params[i] = Array(UnsafeBufferPointer(start: pp[i], count: params[i].count)) }
        return outcome
    }

    func moments<T: AdamElement>(_ state: AdamState, _: T.Type) -> [T] {
        var out: [T] = []
        for i in 0..<state.count {
            for which in Moment.allCases where which != .maxExpAvgSq || state.amsgrad {
                var buf = [T](repeating: 0, count: max(state.lengths[i], 1))
                try! state.copyMoment(which, i, to: &buf, capacity: buf.count)
                out += buf.prefix(state.lengths[i])
            }
        }
        return out
    }

    func assertStatesAgreeOnEveryBackend<T: AdamElement>(_: T.Type, _ flavor: AdamFlavor) throws {
        let lengths = [0, 1, 7, 33, 100, 5, 1001]
        for (k, opt) in Options.all.enumerated() where k % 3 == 0 || opt.amsgrad {
            var results: [(Backend, [T], [T], [UInt64])] = []
            for b in Backend.supported {
                var rng = TestRNG(seed: 900 + UInt64(k))
                var h = opt.hyper(lr: 1e-2, beta1: k % 4 == 0 ? 0.3 : 0.9, weightDecay: 0.1)
                h.flavor = flavor
                let state = try AdamState(lengths: lengths, hyper: h, dtype: DType(T.self))
                var params: [[T]] = lengths.map { n in (0..<n).map { _ in T(rng.uniform(-1, 1)) } }
                for s in 0..<6 {
                    let special: [[T]] = lengths.map { n in (0..<n).map { _ in KernelDTypeIdentityTests.value(&rng, nonNegative: false) } }
                    _ = try step(state, &params, special, skip: s % 2 == 0 ? [3] : [], skipNonFinite: s == 5, backend: b)
                    let ordinary: [[T]] = lengths.map { n in (0..<n).map { _ in T(rng.logUniform(-4, 1)) } }
                    XCTAssertEqual(try step(state, &params, ordinary, skip: s % 2 == 0 ? [3] : [], backend: b), .applied)
                }
                results.append((b, params.flatMap { $0 }, moments(state, T.self), Array(state.steps)))
            }
            for (b, p, m, steps) in results.dropFirst() {
                XCTAssertTrue(differingIndices(p, results[0].1).isEmpty, "\(T.self) \(flavor) \(opt): \(b) params differ")
                XCTAssertTrue(differingIndices(m, results[0].2).isEmpty, "\(T.self) \(flavor) \(opt): \(b) moments differ")
                XCTAssertEqual(steps, results[0].3)
            }
        }
    }

    func testFloat64TorchStateIsBitIdenticalOnEveryBackend() throws { try assertStatesAgreeOnEveryBackend(Double.self, .torch) }
    func testFloat64KerasStateIsBitIdenticalOnEveryBackend() throws { try assertStatesAgreeOnEveryBackend(Double.self, .keras) }
    func testFloat32KerasStateIsBitIdenticalOnEveryBackend() throws { try assertStatesAgreeOnEveryBackend(Float.self, .keras) }

    func testDTypeMismatchThrowsAndChangesNothing() throws {
        let state = try AdamState(lengths: [4], hyper: Hyperparameters(), dtype: .float64)
        let before = try state.serializedBytes()
        var p: [[Float]] = [[1, 2, 3, 4]]
        XCTAssertThrowsError(try step(state, &p, [[1, 1, 1, 1]], backend: .active)) { e in
            XCTAssertEqual((e as? AdamError)?.kind, .dtypeMismatch)
        }
        var out = [Float](repeating: 0, count: 4)
        XCTAssertThrowsError(try state.copyMoment(.expAvg, 0, to: &out, capacity: 4))
        XCTAssertEqual(p, [[1, 2, 3, 4]])
        XCTAssertEqual(try state.serializedBytes(), before)
    }

    /// Version 2 is written exactly when version 1 cannot describe the state, and a version-2
    /// header describing a float32 torch state (which must be version 1) is rejected, so
    /// every accepted checkpoint re-serializes to its own bytes.
    func testCheckpointVersionIsCanonical() throws {
        for dtype in DType.allCases {
            for flavor in AdamFlavor.allCases {
                var h = Hyperparameters()
                h.flavor = flavor
                let state = try AdamState(lengths: [3, 9], hyper: h, dtype: dtype)
                let bytes = try state.serializedBytes()
                let v1 = dtype == .float32 && flavor == .torch
                XCTAssertEqual(bytes[8], v1 ? 1 : 2, "\(dtype) \(flavor)")
                let back = try bytes.withUnsafeBytes { try AdamState.deserialize($0, expected: nil) }
                XCTAssertEqual(back.dtype, dtype)
                XCTAssertEqual(back.hyper.flavor, flavor)
                XCTAssertEqual(try back.serializedBytes(), bytes)
            }
        }
        // float32 keras -> flip the flavour to torch and fix the CRC: a well-formed but
        // non-canonical version-2 file.
        var h = Hyperparameters()
        h.flavor = .keras
        var bytes = try AdamState(lengths: [3], hyper: h, dtype: .float32).serializedBytes()
        bytes[84] = 0
        var crc = CRC32C()
        bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)])) }
        withUnsafeBytes(of: crc.value.littleEndian) { for k in 0..<4 { bytes[bytes.count - 8 + k] = $0[k] } }
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try AdamState.deserialize($0, expected: nil) }) { e in
            XCTAssertEqual((e as? AdamError)?.kind, .corrupt, "\(e)")
            XCTAssertTrue("\(e)".contains("version 1"), "\(e)")
        }
        bytes[84] = 1   // the original flavour, CRC now wrong
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try AdamState.deserialize($0, expected: nil) }) { e in
            XCTAssertEqual((e as? AdamError)?.kind, .checksum, "\(e)")
        }
    }
}
