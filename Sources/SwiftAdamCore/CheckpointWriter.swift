/// Where checkpoint bytes go: a caller buffer or a file descriptor.
protocol ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(AdamError)
}

/// Writes into caller memory whose capacity was checked against the exact size first.
struct BufferSink: ByteSink {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    var used = 0
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(AdamError) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        if bytes.count > capacity - used {
            throw AdamError(.bufferTooSmall, "serialization buffer overflow at byte \(used)")  // unreachable: size checked
        }
        (base + used).copyMemory(from: src, byteCount: bytes.count)
        used += bytes.count
    }
}

/// Array.withUnsafeBytes is `rethrows`, which loses the error type; this keeps it.
func withBytes(_ a: [UInt8], _ body: (UnsafeRawBufferPointer) throws(AdamError) -> Void) throws(AdamError) {
    var failure: AdamError?
    a.withUnsafeBytes { b in
        do throws(AdamError) { try body(b) } catch { failure = error }
    }
    if let failure { throw failure }
}

private let zeroPad = [UInt8](repeating: 0, count: Format.alignment)

extension AdamState {
    /// Exact size of the checkpoint of this state.
    public func serializedSize() throws(AdamError) -> Int {
        try Format.fileBytes(lengths: lengths, regions: AdamState.regions(hyper, dtype), dtype: dtype, version: formatVersion)
    }

    /// The checkpoint version this state is written in (Format.version).
    var formatVersion: UInt32 { Format.version(dtype: dtype, flavor: hyper.flavor) }

    /// Stream the checkpoint (docs/FORMAT.md) into `sink`, CRC-32C accumulated as written.
    func encode<S: ByteSink>(into sink: inout S) throws(AdamError) {
        let fileBytes = try serializedSize()
        let version = formatVersion
        let headerBytes = try Format.headerBytes(tensors: count, version: version)
        var crc = CRC32C()
        func put(_ b: UnsafeRawBufferPointer) throws(AdamError) {
            crc.update(b)
            try sink.write(b)
        }
        var h = HeaderBuilder()
        h.bytes.append(contentsOf: Format.magic)
        h.u32(version)
        h.u32(UInt32(headerBytes))
        h.u64(UInt64(fileBytes))
        h.u64(UInt64(count))
        h.u32(hyper.flags.rawValue)
        h.u32(0)
        h.f64(hyper.lr)
        h.f64(hyper.beta1)
        h.f64(hyper.beta2)
        h.f64(hyper.eps)
        h.f64(hyper.weightDecay)
        if version >= 2 {
            h.u32(dtype.rawValue)
            h.u32(hyper.flavor.rawValue)
            h.u64(0)
        }
        try withBytes(h.bytes) { (b) throws(AdamError) in try put(b) }
        var i = 0
        while i < count {
            var t = HeaderBuilder()
            t.bytes.reserveCapacity(Format.tableChunkEntries * Format.tableEntryBytes)
            for k in i..<min(i + Format.tableChunkEntries, count) {
                t.u64(UInt64(table.lengths[k]))
                t.u64(table.steps[k])
            }
            try withBytes(t.bytes) { (b) throws(AdamError) in try put(b) }
            i += Format.tableChunkEntries
        }
        let tablePad = headerBytes - Format.fixedHeaderBytes(version: version) - count * Format.tableEntryBytes
        try withBytes(zeroPad) { (z) throws(AdamError) in try put(UnsafeRawBufferPointer(rebasing: z[0..<tablePad])) }
        let regions = AdamState.regions(hyper, dtype)
        for i in 0..<count {
            let n = table.lengths[i]
            let pad = (try paddedElements(n, dtype) - n) * dtype.elementBytes
            for r in 0..<regions {
                try put(UnsafeRawBufferPointer(start: regionPointer(r, i), count: n * dtype.elementBytes))
                try withBytes(zeroPad) { (z) throws(AdamError) in try put(UnsafeRawBufferPointer(rebasing: z[0..<pad])) }
            }
        }
        var trailer = HeaderBuilder()
        trailer.u32(crc.value)
        trailer.u32(0)
        try withBytes(trailer.bytes) { (b) throws(AdamError) in try sink.write(b) }
    }

    /// Serialize into caller memory. Returns bytes written.
    public func serialize(into buffer: UnsafeMutableRawPointer, capacity: Int) throws(AdamError) -> Int {
        let size = try serializedSize()
        if capacity < size {
            throw AdamError(.bufferTooSmall, "capacity must be >= serialized size \(size), got \(capacity)")
        }
        var sink = BufferSink(base: buffer, capacity: capacity)
        try encode(into: &sink)
        return sink.used
    }

    /// The checkpoint as a byte array (tests, fuzzing).
    public func serializedBytes() throws(AdamError) -> [UInt8] {
        let size = try serializedSize()
        var out = [UInt8](repeating: 0, count: size)
        var failure: AdamError?
        out.withUnsafeMutableBytes { b in
            guard let base = b.baseAddress else { return }
            do throws(AdamError) { _ = try serialize(into: base, capacity: b.count) } catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }
}
