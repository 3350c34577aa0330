// The checkpoint byte layout, versions 1 and 2. docs/FORMAT.md is the specification;
// the constants here are its tables.
#if _endian(big)
#error("SwiftAdam checkpoints are little-endian and the state is copied as raw floats")
#endif
import AdamKernelBase

enum Format {
    /// "\x89SWADAM\n": the high byte catches 7-bit transfers, the newline text-mode ones.
    static let magic: [UInt8] = [0x89, 0x53, 0x57, 0x41, 0x44, 0x41, 0x4D, 0x0A]
    /// Version 1: float32 moments, torch's formula. Version 2 adds the dtype and the
    /// flavour after the hyperparameters.
    static let versions: ClosedRange<UInt32> = 1...2
    static let tableEntryBytes = 16
    static let trailerBytes = 8
    static let alignment = 64
    /// The smallest checkpoint of any version (a version-1 file of one tensor).
    static let minimumFileBytes = fixedHeaderBytes(version: 1) + tableEntryBytes + trailerBytes

    static func fixedHeaderBytes(version: UInt32) -> Int { version == 1 ? 80 : 96 }

    /// The version a state is written in: 1 whenever version 1 can describe it, so that a
    /// float32 torch-flavour checkpoint stays byte-identical and readable by library 0.1.
    static func version(dtype: DType, flavor: AdamFlavor) -> UInt32 {
        dtype == .float32 && flavor == .torch ? 1 : 2
    }
    /// The tensor table is read and written this many entries at a time: it has one entry
    /// per tensor (up to 2^24), too many for one buffer that must never fail to allocate.
    static let tableChunkEntries = 256

    static func align(_ n: Int) throws(AdamError) -> Int {
        try checkedAdd(n, alignment - 1, "checkpoint offset \(n)") & ~(alignment - 1)
    }

    /// Offset of the first data byte for n tensors.
    static func headerBytes(tensors n: Int, version: UInt32) throws(AdamError) -> Int {
        try align(try checkedAdd(fixedHeaderBytes(version: version), try checkedMul(n, tableEntryBytes, "tensor table of \(n) entries"), "header"))
    }

    /// Bytes of all data sections for these lengths: every moment of every tensor padded
    /// to 64 bytes.
    static func dataBytes<C: Collection>(lengths: C, regions: Int, dtype: DType) throws(AdamError) -> Int where C.Element == Int {
        var total = 0
        for (i, n) in lengths.enumerated() {
            let section = try checkedMul(try paddedElements(n, dtype), dtype.elementBytes, "tensor \(i) section of \(n) \(dtype.name)")
            total = try checkedAdd(total, try checkedMul(section, regions, "tensor \(i) sections"), "data size")
        }
        return total
    }

    static func fileBytes<C: Collection>(lengths: C, regions: Int, dtype: DType, version: UInt32) throws(AdamError) -> Int where C.Element == Int {
        let h = try headerBytes(tensors: lengths.count, version: version)
        let d = try dataBytes(lengths: lengths, regions: regions, dtype: dtype)
        return try checkedAdd(try checkedAdd(h, d, "checkpoint size"), trailerBytes, "checkpoint size")
    }
}

/// The fixed header after the magic (docs/FORMAT.md, "Header"), described ONCE: `fields`
/// and `version2Fields` list the fields in file order, and the writer and the reader both
/// go through them (a HeaderCoder either packs or unpacks), so the two cannot disagree
/// on the order or the width of a field. The reader validates after unpacking.
struct CheckpointHeader {
    var version: UInt32 = 0
    var headerBytes: UInt32 = 0
    var fileBytes: UInt64 = 0
    var tensorCount: UInt64 = 0
    var flags: UInt32 = 0
    var reserved: UInt32 = 0
    var lr = 0.0, beta1 = 0.0, beta2 = 0.0, eps = 0.0, weightDecay = 0.0
    // Version 2 only:
    var dtype: UInt32 = 0
    var flavor: UInt32 = 0
    var reserved2: UInt64 = 0

    /// The fields of every version, from `version` to `weight_decay` (72 bytes).
    mutating func fields<C: HeaderCoder>(_ c: inout C) {
        c.u32(&version); c.u32(&headerBytes); c.u64(&fileBytes); c.u64(&tensorCount)
        c.u32(&flags); c.u32(&reserved)
        c.f64(&lr); c.f64(&beta1); c.f64(&beta2); c.f64(&eps); c.f64(&weightDecay)
    }

    /// The fields version 2 adds after them (16 bytes).
    mutating func version2Fields<C: HeaderCoder>(_ c: inout C) {
        c.u32(&dtype); c.u32(&flavor); c.u64(&reserved2)
    }
}

/// Packs (HeaderBuilder) or unpacks (HeaderReader) one little-endian field at a time.
protocol HeaderCoder {
    mutating func u32(_ x: inout UInt32)
    mutating func u64(_ x: inout UInt64)
}

extension HeaderCoder {
    mutating func f64(_ x: inout Double) {
        var bits = x.bitPattern
        u64(&bits)
        x = Double(bitPattern: bits)
    }
}

/// Little-endian field packing.
struct HeaderBuilder: HeaderCoder {
    var bytes: [UInt8] = []
    mutating func u32(_ x: inout UInt32) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ x: inout UInt64) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ x: UInt32) { var v = x; u32(&v) }
    mutating func u64(_ x: UInt64) { var v = x; u64(&v) }
}

/// Little-endian field reading from a buffer whose size was already checked.
struct HeaderReader: HeaderCoder {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    mutating func u32(_ x: inout UInt32) {
        x = 0
        for k in 0..<4 { x |= UInt32(bytes[at + k]) << (8 * k) }
        at += 4
    }
    mutating func u64(_ x: inout UInt64) {
        x = 0
        for k in 0..<8 { x |= UInt64(bytes[at + k]) << (8 * k) }
        at += 8
    }
    mutating func u32() -> UInt32 { var x: UInt32 = 0; u32(&x); return x }
    mutating func u64() -> UInt64 { var x: UInt64 = 0; u64(&x); return x }
}
