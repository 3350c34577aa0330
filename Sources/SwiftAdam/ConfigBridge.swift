import AdamKernelBase
import CSwiftAdam
import SwiftAdamCore

/// swiftadam_config <-> Hyperparameters and dtype, honouring struct_size in both directions.
enum ConfigBridge {
    /// Size of version 1 of swiftadam_config (up to `reserved`): the smallest struct_size accepted.
    static let v1Size = MemoryLayout<swiftadam_config>.offset(of: \.flavor)!
    /// Size of the struct this library knows (version 2).
    static let knownSize = MemoryLayout<swiftadam_config>.size
    /// A bound on struct_size so a garbage value cannot make us read far past the struct.
    static let maxSize = 4096

    /// The caller's config. A version-2 field beyond the caller's struct_size is not
    /// given and reads as in `defaults` (create: the library defaults; set_config: the
    /// state's current values).
    static func read(_ p: UnsafePointer<swiftadam_config>,
                     defaults: (Hyperparameters, DType) = (Hyperparameters(), .float32)) throws(AdamError) -> (Hyperparameters, DType) {
        let size = p.pointee.struct_size
        if size < v1Size || size > maxSize {
            throw AdamError(.invalidArgument, "cfg->struct_size must be in [\(v1Size), \(maxSize)] (set it to sizeof(swiftadam_config)), got \(UInt(bitPattern: size))")
        }
        let raw = UnsafeRawPointer(p)
        func given(_ field: PartialKeyPath<swiftadam_config>) -> Bool {
            MemoryLayout<swiftadam_config>.offset(of: field)! + 4 <= size
        }
        // Bytes of the caller's struct that are no whole field we know (a newer header's
        // fields, or a field cut by an odd struct_size) must be unset.
        let known = given(\swiftadam_config.dtype) ? knownSize : given(\swiftadam_config.flavor) ? v1Size + 4 : v1Size
        for off in known..<max(known, size) where raw.load(fromByteOffset: off, as: UInt8.self) != 0 {
            throw AdamError(.unsupported, "cfg has a non-zero byte at offset \(off), beyond the fields this library (ABI \(SWIFTADAM_ABI_VERSION)) knows")
        }
        let c = p.pointee
        if c.reserved != 0 {
            throw AdamError(.invalidArgument, "cfg->reserved must be 0, got \(c.reserved)")
        }
        var flavor = defaults.0.flavor, dtype = defaults.1
        if given(\swiftadam_config.flavor) {
            let code = raw.load(fromByteOffset: v1Size, as: UInt32.self)
            guard let f = AdamFlavor(rawValue: code) else {
                throw AdamError(.invalidArgument, "cfg->flavor must be SWIFTADAM_FLAVOR_TORCH (0) or SWIFTADAM_FLAVOR_KERAS (1), got \(code)")
            }
            flavor = f
        }
        if given(\swiftadam_config.dtype) {
            let code = raw.load(fromByteOffset: v1Size + 4, as: UInt32.self)
            guard let d = DType(rawValue: code) else {
                throw AdamError(.invalidArgument, "cfg->dtype must be SWIFTADAM_DTYPE_FLOAT32 (0), _FLOAT64 (1), _FLOAT16 (2) or _BFLOAT16 (3), got \(code)")
            }
            dtype = d
        }
        let h = Hyperparameters(lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps,
                                weightDecay: c.weight_decay, flags: .init(rawValue: c.flags), flavor: flavor)
        try h.validate()
        return (h, dtype)
    }

    /// Fill the caller's struct up to its struct_size (fields past it are not written).
    static func write(_ h: Hyperparameters, _ dtype: DType, to p: UnsafeMutablePointer<swiftadam_config>) throws(AdamError) {
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
        c.flavor = h.flavor.rawValue
        c.dtype = dtype.rawValue
        withUnsafeBytes(of: &c) { src in
            UnsafeMutableRawPointer(p).copyMemory(from: src.baseAddress!, byteCount: min(size, knownSize))
        }
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
