import CSwiftAdam
import SwiftAdamCore

/// swiftadam_config <-> Hyperparameters, honouring struct_size in both directions.
enum ConfigBridge {
    /// Size of version 1 of swiftadam_config: the smallest struct_size accepted.
    static let v1Size = MemoryLayout<swiftadam_config>.size
    /// A bound on struct_size so a garbage value cannot make us read far past the struct.
    static let maxSize = 4096

    static func read(_ p: UnsafePointer<swiftadam_config>) throws(AdamError) -> Hyperparameters {
        let size = p.pointee.struct_size
        if size < v1Size || size > maxSize {
            throw AdamError(.invalidArgument, "cfg->struct_size must be in [\(v1Size), \(maxSize)] (set it to sizeof(swiftadam_config)), got \(UInt(bitPattern: size))")
        }
        if size > v1Size {
            // A caller built against a newer header: fields we don't know must be unset.
            let raw = UnsafeRawPointer(p)
            for off in v1Size..<size where raw.load(fromByteOffset: off, as: UInt8.self) != 0 {
                throw AdamError(.unsupported, "cfg has a non-zero byte at offset \(off), beyond the fields this library (ABI \(SWIFTADAM_ABI_VERSION)) knows")
            }
        }
        let c = p.pointee
        if c.reserved != 0 {
            throw AdamError(.invalidArgument, "cfg->reserved must be 0, got \(c.reserved)")
        }
        let h = Hyperparameters(lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps,
                                weightDecay: c.weight_decay, flags: .init(rawValue: c.flags))
        try h.validate()
        return h
    }

    /// Fill the caller's struct up to its struct_size (fields past it are not written).
    static func write(_ h: Hyperparameters, to p: UnsafeMutablePointer<swiftadam_config>) throws(AdamError) {
        let size = p.pointee.struct_size
        if size < v1Size {
            throw AdamError(.invalidArgument, "out->struct_size must be >= \(v1Size) (set it to sizeof(swiftadam_config)), got \(UInt(bitPattern: size))")
        }
        var c = swiftadam_config()
        c.struct_size = size
        c.lr = h.lr
        c.beta1 = h.beta1
        c.beta2 = h.beta2
        c.eps = h.eps
        c.weight_decay = h.weightDecay
        c.flags = h.flags.rawValue
        c.reserved = 0
        p.pointee = c
    }
}

/// Lengths from a C array, count checked. Not copied: a copy of up to 2^24 entries would
/// be an allocation that traps when memory is short; the core reads them once.
func readLengths(_ p: UnsafePointer<Int>?, _ n: Int, name: String) throws(AdamError) -> UnsafeBufferPointer<Int> {
    guard let p else { throw AdamError(.nullPointer, "\(name) is NULL") }
    if n == 0 { throw AdamError(.invalidArgument, "num_tensors must be >= 1, got 0") }
    if n < 0 || n > Int(SWIFTADAM_MAX_TENSORS) {
        throw AdamError(.invalidArgument, "num_tensors must be <= SWIFTADAM_MAX_TENSORS (\(SWIFTADAM_MAX_TENSORS)), got \(UInt(bitPattern: n))")
    }
    return UnsafeBufferPointer(start: p, count: n)
}
