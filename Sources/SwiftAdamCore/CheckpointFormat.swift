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

/// Little-endian field packing for the header.
struct HeaderBuilder {
    var bytes: [UInt8] = []
    mutating func u32(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ x: UInt64) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f64(_ x: Double) { u64(x.bitPattern) }
}

/// Little-endian field reading from a header buffer whose size was already checked.
struct HeaderReader {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    mutating func u32() -> UInt32 {
        var x: UInt32 = 0
        for k in 0..<4 { x |= UInt32(bytes[at + k]) << (8 * k) }
        at += 4
        return x
    }
    mutating func u64() -> UInt64 {
        var x: UInt64 = 0
        for k in 0..<8 { x |= UInt64(bytes[at + k]) << (8 * k) }
        at += 8
        return x
    }
    mutating func f64() -> Double { Double(bitPattern: u64()) }
}
