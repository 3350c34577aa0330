/// Where checkpoint bytes come from: memory or a file descriptor. `remaining` is known
/// up front (buffer size, fstat size) so every declared size can be checked against the
/// bytes that really exist before anything is allocated.
protocol ByteSource {
    var remaining: Int { get }
    /// Fill `into` completely or throw (.corrupt for a short read).
    mutating func read(into: UnsafeMutableRawBufferPointer) throws(AdamError)
}

struct MemorySource: ByteSource {
    let base: UnsafeRawPointer
    let size: Int
    var at = 0
    var remaining: Int { size - at }
    mutating func read(into dst: UnsafeMutableRawBufferPointer) throws(AdamError) {
        guard dst.count > 0, let d = dst.baseAddress else { return }
        if dst.count > remaining {
            throw AdamError(.corrupt, "truncated: needs \(dst.count) bytes at offset \(at), only \(remaining) left")
        }
        d.copyMemory(from: base + at, byteCount: dst.count)
        at += dst.count
    }
}

import AdamKernelBase

extension AdamState {
    /// Parse a checkpoint. Order of checks: magic, version (and for version 2 its dtype and
    /// flavour), declared size == actual size,
    /// header layout, every length against the bytes present (overflow-checked),
    /// hyperparameters, expected shapes; only then the state is allocated (its size is
    /// bounded by the input's), the data read, padding checked zero, and the CRC compared.
    static func decode<S: ByteSource>(from src: inout S, expected: UnsafeBufferPointer<Int>?) throws(AdamError) -> AdamState {
        let total = src.remaining
        var crc = CRC32C()
        func take(_ n: Int) throws(AdamError) -> [UInt8] {
            var b = [UInt8](repeating: 0, count: n)
            var failure: AdamError?
            b.withUnsafeMutableBytes { raw in
                do throws(AdamError) { try src.read(into: raw) } catch { failure = error }
                crc.update(UnsafeRawBufferPointer(raw))
            }
            if let failure { throw failure }
            return b
        }
        if total >= Format.magic.count {
            let head = try take(Format.magic.count)
            if head != Format.magic {
                throw AdamError(.badMagic, "not a SwiftAdam checkpoint: first bytes \(hex(head)), expected \(hex(Format.magic))")
            }
        }
        if total < Format.minimumFileBytes {
            throw AdamError(.corrupt, "truncated: \(total) bytes, a checkpoint has at least \(Format.minimumFileBytes)")
        }
        var r = HeaderReader(try take(Format.fixedHeaderBytes(version: 1) - Format.magic.count))
        let version = r.u32()
        if !Format.versions.contains(version) {
            throw AdamError(.unsupportedVersion, "format version \(version) is not supported (this library reads versions \(Format.versions.lowerBound)...\(Format.versions.upperBound))")
        }
        let fixedHeaderBytes = Format.fixedHeaderBytes(version: version)
        let headerBytes = UInt64(r.u32())
        let fileBytes = r.u64()
        if fileBytes != UInt64(total) {
            let what = fileBytes > UInt64(total) ? "truncated" : "trailing bytes"
            throw AdamError(.corrupt, "\(what): header declares \(fileBytes) bytes, input has \(total)")
        }
        let n64 = r.u64()
        let maxTensors = max(0, total - fixedHeaderBytes - Format.trailerBytes) / Format.tableEntryBytes
        if n64 == 0 || n64 > UInt64(maxTensors) {
            throw AdamError(.corrupt, "num_tensors \(n64) is impossible for a \(total)-byte checkpoint (1...\(maxTensors))")
        }
        let n = Int(n64)
        if headerBytes != UInt64(try Format.headerBytes(tensors: n, version: version)) {
            throw AdamError(.corrupt, "header size \(headerBytes) does not match \(n) tensors (expected \(try Format.headerBytes(tensors: n, version: version)))")
        }
        let flags = Hyperparameters.Flags(rawValue: r.u32())
        let reserved = r.u32()
        if reserved != 0 { throw AdamError(.corrupt, "reserved header field is \(reserved), expected 0") }
        var hyper = Hyperparameters(lr: r.f64(), beta1: r.f64(), beta2: r.f64(), eps: r.f64(), weightDecay: r.f64(), flags: flags)
        var dtype = DType.float32
        if version >= 2 {
            var x = HeaderReader(try take(fixedHeaderBytes - Format.fixedHeaderBytes(version: 1)))
            let dtypeCode = x.u32(), flavorCode = x.u32(), reserved2 = x.u64()
            guard let d = DType(rawValue: dtypeCode) else {
                throw AdamError(.unsupported, "dtype code \(dtypeCode) is not one this library knows (0 float32, 1 float64, 2 float16, 3 bfloat16)")
            }
            guard let f = AdamFlavor(rawValue: flavorCode) else {
                throw AdamError(.unsupported, "flavor code \(flavorCode) is not one this library knows (0 torch, 1 keras)")
            }
            if reserved2 != 0 { throw AdamError(.corrupt, "reserved version-2 header field is \(reserved2), expected 0") }
            if Format.version(dtype: d, flavor: f) != version {
                throw AdamError(.corrupt, "a \(d.name) \(f) state is written as version \(Format.version(dtype: d, flavor: f)), not \(version)")
            }
            dtype = d
            hyper.flavor = f
        }
        // Straight into the new state's own table, which is allocated fallibly.
        let table = try TensorTable(count: n)
        var i = 0
        while i < n {
            let m = min(Format.tableChunkEntries, n - i)
            var t = HeaderReader(try take(m * Format.tableEntryBytes))
            for k in i..<i + m {
                let len = t.u64()
                if len > UInt64(total) {   // a tensor cannot hold more floats than the file has bytes
                    throw AdamError(.corrupt, "tensor \(k) declares \(len) elements, more than a \(total)-byte checkpoint can hold")
                }
                table.lengths[k] = Int(len)
                table.steps[k] = t.u64()
                if table.steps[k] > AdamState.maxStep {
                    throw AdamError(.corrupt, "tensor \(k) step \(table.steps[k]) exceeds 2^53")
                }
            }
            i += m
        }
        let lengths = UnsafeBufferPointer(start: table.lengths, count: n)
        try hyper.validate()
        let regions = AdamState.regions(hyper, dtype)
        let expectedSize = try Format.fileBytes(lengths: lengths, regions: regions, dtype: dtype, version: version)
        if expectedSize != total {
            throw AdamError(.corrupt, "tensor lengths need \(expectedSize) bytes, checkpoint has \(total)")
        }
        if let expected {
            if expected.count != n {
                throw AdamError(.sizeMismatch, "checkpoint holds \(n) tensors, caller has \(expected.count)")
            }
            for i in 0..<n where expected[i] != lengths[i] {
                throw AdamError(.sizeMismatch, "tensor \(i): checkpoint has \(lengths[i]) elements, caller's tensor has \(expected[i])")
            }
        }
        let tablePad = try take(Int(headerBytes) - fixedHeaderBytes - n * Format.tableEntryBytes)
        if tablePad.contains(where: { $0 != 0 }) { throw AdamError(.corrupt, "non-zero padding after the tensor table") }

        let state = try AdamState(table: table, hyper: hyper, dtype: dtype)
        for i in 0..<n {
            let bytes = lengths[i] * dtype.elementBytes
            let pad = try paddedElements(lengths[i], dtype) * dtype.elementBytes - bytes
            for r in 0..<regions {
                let dst = UnsafeMutableRawBufferPointer(start: state.regionPointer(r, i), count: bytes)
                try src.read(into: dst)
                crc.update(UnsafeRawBufferPointer(dst))
                if try take(pad).contains(where: { $0 != 0 }) {
                    throw AdamError(.corrupt, "non-zero padding after tensor \(i) \(state.regionName(r))")
                }
            }
        }
        let computed = crc.value
        var tr = HeaderReader(try take(Format.trailerBytes))
        let stored = tr.u32()
        let trailerReserved = tr.u32()
        if stored != computed {
            throw AdamError(.checksum, "checksum mismatch: stored CRC-32C 0x\(hex32(stored)), computed 0x\(hex32(computed))")
        }
        if trailerReserved != 0 { throw AdamError(.corrupt, "reserved trailer field is \(trailerReserved), expected 0") }
        return state
    }

    /// A new state from checkpoint bytes in memory. `expected` (the caller's tensor lengths,
    /// or nil for any) is read, not kept.
    public static func deserialize(_ bytes: UnsafeRawBufferPointer, expected: UnsafeBufferPointer<Int>?) throws(AdamError) -> AdamState {
        guard let base = bytes.baseAddress else {
            throw AdamError(.corrupt, "truncated: 0 bytes, a checkpoint has at least \(Format.minimumFileBytes)")
        }
        var src = MemorySource(base: base, size: bytes.count)
        return try decode(from: &src, expected: expected)
    }
}

private func hex(_ b: [UInt8]) -> String {
    b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

private func hex32(_ x: UInt32) -> String {
    let s = String(x, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
