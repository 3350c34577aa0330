// The C ABI: every swiftadam_* symbol, each a thin translation between C types and
// SwiftAdamCore. Logic lives in the core; here only pointers, codes and messages.
import AdamKernelBase
import CSwiftAdam
import SwiftAdamCore

let versionString = cString(SWIFTADAM_VERSION_STRING)
let backendNames: [Backend: UnsafePointer<CChar>] = {
    var t: [Backend: UnsafePointer<CChar>] = [:]
    for b in Backend.allCases { t[b] = cString(b.rawValue) }
    return t
}()

@_cdecl("swiftadam_version_string")
public func c_version_string() -> UnsafePointer<CChar> { versionString }

@_cdecl("swiftadam_version_number")
public func c_version_number() -> UInt32 {
    // The macro is an expression Swift does not import; same formula.
    UInt32(SWIFTADAM_VERSION_MAJOR * 10000 + SWIFTADAM_VERSION_MINOR * 100 + SWIFTADAM_VERSION_PATCH)
}

@_cdecl("swiftadam_abi_version")
public func c_abi_version() -> UInt32 { UInt32(SWIFTADAM_ABI_VERSION) }

@_cdecl("swiftadam_status_name")
public func c_status_name(_ status: Int32) -> UnsafePointer<CChar> {
    StatusText.table[status]?.name ?? StatusText.unknownName
}

@_cdecl("swiftadam_status_string")
public func c_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    StatusText.table[status]?.text ?? StatusText.unknownText
}

@_cdecl("swiftadam_last_error")
public func c_last_error() -> UnsafePointer<CChar> { LastError.get() }

@_cdecl("swiftadam_backend_name")
public func c_backend_name() -> UnsafePointer<CChar> {
    backendNames[Backend.active] ?? StatusText.unknownName
}

@_cdecl("swiftadam_config_init")
public func c_config_init(_ cfg: UnsafeMutablePointer<swiftadam_config>?, _ structSize: Int) -> Int32 {
    boundary { () throws(AdamError) in
        guard let cfg else { throw AdamError(.nullPointer, "cfg is NULL") }
        // The same bound ConfigBridge.read applies: a size create/set_config would reject is
        // rejected here, before writing (a garbage size must not zero 4 KB of caller memory).
        if structSize < ConfigBridge.v1Size || structSize > ConfigBridge.maxSize {
            throw AdamError(.invalidArgument, "struct_size must be in [\(ConfigBridge.v1Size), \(ConfigBridge.maxSize)] (sizeof(swiftadam_config)), got \(UInt(bitPattern: structSize))")
        }
        if structSize > ConfigBridge.v1Size {
            // Newer header: zero the fields we do not know so they read as "unset".
            UnsafeMutableRawPointer(cfg).advanced(by: ConfigBridge.v1Size)
                .initializeMemory(as: UInt8.self, repeating: 0, count: min(structSize, ConfigBridge.maxSize) - ConfigBridge.v1Size)
        }
        cfg.pointee.struct_size = structSize
        try ConfigBridge.write(Hyperparameters(), .float32, to: cfg)
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_create")
public func c_create(_ lengths: UnsafePointer<Int>?, _ n: Int, _ cfg: UnsafePointer<swiftadam_config>?,
                     _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        let lens = try readLengths(lengths, n, name: "lengths")
        let (hyper, dtype) = try cfg.map { (c) throws(AdamError) in try ConfigBridge.read(c) } ?? (Hyperparameters(), .float32)
        if dtype.half != nil {
            throw AdamError(.invalidArgument, "cfg->dtype \(dtype.name) keeps a float32 master copy of the params: create the state with swiftadam_create_half, which receives them")
        }
        let state = try AdamState(lengths: lens, hyper: hyper, dtype: dtype)
        out.pointee = Handles.register(state)
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_create_half")
public func c_create_half(_ lengths: UnsafePointer<Int>?, _ n: Int, _ cfg: UnsafePointer<swiftadam_config>?,
                          _ params: UnsafePointer<UnsafePointer<UInt16>?>?,
                          _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        guard let cfg else { throw AdamError(.nullPointer, "cfg is NULL (its dtype must say FLOAT16 or BFLOAT16)") }
        guard let params else { throw AdamError(.nullPointer, "params is NULL") }
        let lens = try readLengths(lengths, n, name: "lengths")
        let (hyper, dtype) = try ConfigBridge.read(cfg)
        let state = try AdamState(lengths: lens, hyper: hyper, dtype: dtype, halfParams: params)
        out.pointee = Handles.register(state)
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_free")
public func c_free(_ state: OpaquePointer?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let state else { return SWIFTADAM_OK }
        try Handles.free(state)
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_get_config")
public func c_get_config(_ state: OpaquePointer?, _ out: UnsafeMutablePointer<swiftadam_config>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        try Handles.with(state) { (s) throws(AdamError) in try ConfigBridge.write(s.hyper, s.dtype, to: out) }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_set_config")
public func c_set_config(_ state: OpaquePointer?, _ cfg: UnsafePointer<swiftadam_config>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let cfg else { throw AdamError(.nullPointer, "cfg is NULL") }
        try Handles.with(state) { (s) throws(AdamError) in
            let (hyper, dtype) = try ConfigBridge.read(cfg, defaults: (s.hyper, s.dtype))
            if dtype != s.dtype {
                throw AdamError(.invalidArgument, "dtype cannot change after creation (state is \(s.dtype.name), cfg->dtype asks \(dtype.name))")
            }
            try s.setHyperparameters(hyper)
        }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_set_lr")
public func c_set_lr(_ state: OpaquePointer?, _ lr: Double) -> Int32 {
    boundary { () throws(AdamError) in
        try Handles.with(state) { (s) throws(AdamError) in try s.setLR(lr) }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_num_tensors")
public func c_num_tensors(_ state: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        out.pointee = try Handles.with(state) { s in s.count }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_get_dtype")
public func c_get_dtype(_ state: OpaquePointer?, _ out: UnsafeMutablePointer<UInt32>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        out.pointee = try Handles.with(state) { s in s.dtype.rawValue }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_tensor_length")
public func c_tensor_length(_ state: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        out.pointee = try Handles.with(state) { (s) throws(AdamError) in
            try s.checkIndex(index)
            return s.lengths[index]
        }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_tensor_step")
public func c_tensor_step(_ state: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        out.pointee = try Handles.with(state) { (s) throws(AdamError) in
            try s.checkIndex(index)
            return s.steps[index]
        }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_set_tensor_step")
public func c_set_tensor_step(_ state: OpaquePointer?, _ index: Int, _ step: UInt64) -> Int32 {
    boundary { () throws(AdamError) in
        try Handles.with(state) { (s) throws(AdamError) in try s.setStep(index, step) }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_get_num_threads")
public func c_get_num_threads(_ state: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        out.pointee = try Handles.with(state) { s in s.effectiveThreads }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_set_num_threads")
public func c_set_num_threads(_ state: OpaquePointer?, _ n: Int) -> Int32 {
    boundary { () throws(AdamError) in
        if n < 0 || n > 256 {
            throw AdamError(.invalidArgument, "num_threads must be in [0, 256] (0 = default), got \(UInt(bitPattern: n))")
        }
        try Handles.with(state) { s in s.requestedThreads = n }
        return SWIFTADAM_OK
    }
}

func stepFlags(_ flags: UInt32) throws(AdamError) -> Bool {
    let known = UInt32(SWIFTADAM_STEP_SKIP_NONFINITE)
    if flags & ~known != 0 {
        throw AdamError(.unsupported, "unknown step_flags bits 0x\(String(flags & ~known, radix: 16))")
    }
    return flags & known != 0
}

func outcomeCode(_ o: StepOutcome) -> Int32 { o == .applied ? SWIFTADAM_OK : SWIFTADAM_STEP_SKIPPED }

/// swiftadam_step and swiftadam_step_f64; T is the entry point's element type.
func stepEntry<T: AdamElement>(_ state: OpaquePointer?, _ params: UnsafePointer<UnsafeMutablePointer<T>?>?,
                               _ grads: UnsafePointer<UnsafePointer<T>?>?, _ n: Int, _ flags: UInt32) -> Int32 {
    boundary { () throws(AdamError) in
        guard let params else { throw AdamError(.nullPointer, "params is NULL") }
        guard let grads else { throw AdamError(.nullPointer, "grads is NULL") }
        let skip = try stepFlags(flags)
        let o = try Handles.with(state) { (s) throws(AdamError) in
            try s.step(params: params, grads: grads, count: n, skipNonFinite: skip)
        }
        return outcomeCode(o)
    }
}

/// swiftadam_step_tensor and swiftadam_step_tensor_f64.
func stepTensorEntry<T: AdamElement>(_ state: OpaquePointer?, _ param: UnsafeMutablePointer<T>?,
                                     _ grad: UnsafePointer<T>?, _ length: Int, _ flags: UInt32) -> Int32 {
    boundary { () throws(AdamError) in
        guard param != nil else { throw AdamError(.nullPointer, "param is NULL") }
        guard grad != nil else { throw AdamError(.nullPointer, "grad is NULL") }
        let skip = try stepFlags(flags)
        var p = param
        var g = grad
        let o = try Handles.with(state) { (s) throws(AdamError) in
            let name = T.self == Double.self ? "swiftadam_step_tensor_f64" : "swiftadam_step_tensor"
            try s.checkDType(T.self, name)
            if s.count != 1 {
                throw AdamError(.sizeMismatch, "\(name) needs a state of 1 tensor, this one has \(s.count) (use swiftadam_step)")
            }
            if s.lengths[0] != length {
                throw AdamError(.sizeMismatch, "length must equal the tensor's \(s.lengths[0]), got \(UInt(bitPattern: length))")
            }
            return try s.step(params: &p, grads: &g, count: 1, skipNonFinite: skip)
        }
        return outcomeCode(o)
    }
}

@_cdecl("swiftadam_step")
public func c_step(_ state: OpaquePointer?, _ params: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                   _ grads: UnsafePointer<UnsafePointer<Float>?>?, _ n: Int, _ flags: UInt32) -> Int32 {
    stepEntry(state, params, grads, n, flags)
}

@_cdecl("swiftadam_step_f64")
public func c_step_f64(_ state: OpaquePointer?, _ params: UnsafePointer<UnsafeMutablePointer<Double>?>?,
                       _ grads: UnsafePointer<UnsafePointer<Double>?>?, _ n: Int, _ flags: UInt32) -> Int32 {
    stepEntry(state, params, grads, n, flags)
}

@_cdecl("swiftadam_step_tensor")
public func c_step_tensor(_ state: OpaquePointer?, _ param: UnsafeMutablePointer<Float>?,
                          _ grad: UnsafePointer<Float>?, _ length: Int, _ flags: UInt32) -> Int32 {
    stepTensorEntry(state, param, grad, length, flags)
}

@_cdecl("swiftadam_step_tensor_f64")
public func c_step_tensor_f64(_ state: OpaquePointer?, _ param: UnsafeMutablePointer<Double>?,
                              _ grad: UnsafePointer<Double>?, _ length: Int, _ flags: UInt32) -> Int32 {
    stepTensorEntry(state, param, grad, length, flags)
}

/// swiftadam_step_half and swiftadam_step_half_f32grad.
func stepHalfEntry(_ state: OpaquePointer?, _ params: UnsafePointer<UnsafeMutablePointer<UInt16>?>?,
                   _ grads: UnsafeRawPointer?, half: Bool, _ n: Int, _ scale: Double, _ flags: UInt32) -> Int32 {
    boundary { () throws(AdamError) in
        guard let params else { throw AdamError(.nullPointer, "params is NULL") }
        guard let grads else { throw AdamError(.nullPointer, "grads is NULL") }
        let skip = try stepFlags(flags)
        let o = try Handles.with(state) { (s) throws(AdamError) in
            try s.stepHalf(params: params, grads: grads, gradsAreHalf: half, count: n, gradScale: scale, skipNonFinite: skip)
        }
        return outcomeCode(o)
    }
}

@_cdecl("swiftadam_step_half")
public func c_step_half(_ state: OpaquePointer?, _ params: UnsafePointer<UnsafeMutablePointer<UInt16>?>?,
                        _ grads: UnsafePointer<UnsafePointer<UInt16>?>?, _ n: Int, _ scale: Double, _ flags: UInt32) -> Int32 {
    stepHalfEntry(state, params, grads.map { UnsafeRawPointer($0) }, half: true, n, scale, flags)
}

@_cdecl("swiftadam_step_half_f32grad")
public func c_step_half_f32grad(_ state: OpaquePointer?, _ params: UnsafePointer<UnsafeMutablePointer<UInt16>?>?,
                                _ grads: UnsafePointer<UnsafePointer<Float>?>?, _ n: Int, _ scale: Double, _ flags: UInt32) -> Int32 {
    stepHalfEntry(state, params, grads.map { UnsafeRawPointer($0) }, half: false, n, scale, flags)
}

/// swiftadam_get_master and swiftadam_get_params_half: `copy` writes tensor `index` into out.
func copyOutEntry<T>(_ state: OpaquePointer?, _ out: UnsafeMutablePointer<T>?, _ capacity: Int,
                     _ copy: (AdamState, UnsafeMutablePointer<T>, Int) throws(AdamError) -> Void) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        let cap = capacity < 0 ? Int.max : capacity   // size_t above Int.max holds any tensor
        try Handles.with(state) { (s) throws(AdamError) in try copy(s, out, cap) }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_get_master")
public func c_get_master(_ state: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    copyOutEntry(state, out, capacity) { (s, o, c) throws(AdamError) in try s.copyMaster(index, to: o, capacity: c) }
}

@_cdecl("swiftadam_get_params_half")
public func c_get_params_half(_ state: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<UInt16>?, _ capacity: Int) -> Int32 {
    copyOutEntry(state, out, capacity) { (s, o, c) throws(AdamError) in try s.copyHalfParams(index, to: o, capacity: c) }
}

@_cdecl("swiftadam_set_master")
public func c_set_master(_ state: OpaquePointer?, _ index: Int, _ input: UnsafePointer<Float>?, _ count: Int) -> Int32 {
    boundary { () throws(AdamError) in
        guard let input else { throw AdamError(.nullPointer, "in is NULL") }
        try Handles.with(state) { (s) throws(AdamError) in try s.setMaster(index, from: input, count: count) }
        return SWIFTADAM_OK
    }
}

func moment(_ which: Int32) throws(AdamError) -> Moment {
    guard let m = Moment(rawValue: Int(which)) else {
        throw AdamError(.invalidArgument, "which must be SWIFTADAM_MOMENT_EXP_AVG (0), _EXP_AVG_SQ (1) or _MAX_EXP_AVG_SQ (2), got \(which)")
    }
    return m
}

/// swiftadam_get_moment and swiftadam_get_moment_f64.
func getMomentEntry<T: AdamElement>(_ state: OpaquePointer?, _ index: Int, _ which: Int32,
                                    _ out: UnsafeMutablePointer<T>?, _ capacity: Int) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        let m = try moment(which)
        let cap = capacity < 0 ? Int.max : capacity   // size_t above Int.max holds any tensor
        try Handles.with(state) { (s) throws(AdamError) in try s.copyMoment(m, index, to: out, capacity: cap) }
        return SWIFTADAM_OK
    }
}

/// swiftadam_set_moment and swiftadam_set_moment_f64.
func setMomentEntry<T: AdamElement>(_ state: OpaquePointer?, _ index: Int, _ which: Int32,
                                    _ input: UnsafePointer<T>?, _ count: Int) -> Int32 {
    boundary { () throws(AdamError) in
        guard let input else { throw AdamError(.nullPointer, "in is NULL") }
        let m = try moment(which)
        try Handles.with(state) { (s) throws(AdamError) in try s.setMoment(m, index, from: input, count: count) }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_get_moment")
public func c_get_moment(_ state: OpaquePointer?, _ index: Int, _ which: Int32,
                         _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    getMomentEntry(state, index, which, out, capacity)
}

@_cdecl("swiftadam_get_moment_f64")
public func c_get_moment_f64(_ state: OpaquePointer?, _ index: Int, _ which: Int32,
                             _ out: UnsafeMutablePointer<Double>?, _ capacity: Int) -> Int32 {
    getMomentEntry(state, index, which, out, capacity)
}

@_cdecl("swiftadam_set_moment")
public func c_set_moment(_ state: OpaquePointer?, _ index: Int, _ which: Int32,
                         _ input: UnsafePointer<Float>?, _ count: Int) -> Int32 {
    setMomentEntry(state, index, which, input, count)
}

@_cdecl("swiftadam_set_moment_f64")
public func c_set_moment_f64(_ state: OpaquePointer?, _ index: Int, _ which: Int32,
                             _ input: UnsafePointer<Double>?, _ count: Int) -> Int32 {
    setMomentEntry(state, index, which, input, count)
}

@_cdecl("swiftadam_serialized_size")
public func c_serialized_size(_ state: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        out.pointee = try Handles.with(state) { (s) throws(AdamError) in try s.serializedSize() }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_serialize")
public func c_serialize(_ state: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ capacity: Int,
                        _ written: UnsafeMutablePointer<Int>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let buf else { throw AdamError(.nullPointer, "buf is NULL") }
        guard let written else { throw AdamError(.nullPointer, "written is NULL") }
        let cap = capacity < 0 ? Int.max : capacity   // size_t above Int.max holds any checkpoint
        written.pointee = try Handles.with(state) { (s) throws(AdamError) in try s.serialize(into: buf, capacity: cap) }
        return SWIFTADAM_OK
    }
}

func expectedLengths(_ p: UnsafePointer<Int>?, _ n: Int) throws(AdamError) -> UnsafeBufferPointer<Int>? {
    if p == nil && n == 0 { return nil }
    return try readLengths(p, n, name: "expected_lengths")
}

@_cdecl("swiftadam_deserialize")
public func c_deserialize(_ buf: UnsafeRawPointer?, _ size: Int, _ expected: UnsafePointer<Int>?, _ expectedCount: Int,
                          _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let buf else { throw AdamError(.nullPointer, "buf is NULL") }
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        if size < 0 { throw AdamError(.invalidArgument, "size \(UInt(bitPattern: size)) exceeds the address space") }
        let exp = try expectedLengths(expected, expectedCount)
        let state = try AdamState.deserialize(UnsafeRawBufferPointer(start: buf, count: size), expected: exp)
        out.pointee = Handles.register(state)
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_save")
public func c_save(_ state: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let path else { throw AdamError(.nullPointer, "path is NULL") }
        let p = try CheckpointPath(cString: path)
        try Handles.with(state) { (s) throws(AdamError) in try s.save(to: p) }
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_load")
public func c_load(_ path: UnsafePointer<CChar>?, _ expected: UnsafePointer<Int>?, _ expectedCount: Int,
                   _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    boundary { () throws(AdamError) in
        guard let path else { throw AdamError(.nullPointer, "path is NULL") }
        guard let out else { throw AdamError(.nullPointer, "out is NULL") }
        let exp = try expectedLengths(expected, expectedCount)
        let state = try AdamState.load(from: CheckpointPath(cString: path), expected: exp)
        out.pointee = Handles.register(state)
        return SWIFTADAM_OK
    }
}

@_cdecl("swiftadam_step_contiguous")
public func c_step_contiguous(_ state: OpaquePointer?, _ params: UnsafeMutablePointer<Float>?,
                              _ grads: UnsafePointer<Float>?, _ flags: UInt32) -> Int32 {
    boundary { () throws(AdamError) in
        guard let params else { throw AdamError(.nullPointer, "params is NULL") }
        guard let grads else { throw AdamError(.nullPointer, "grads is NULL") }
        let skip = try stepFlags(flags)
        let o = try Handles.with(state) { (s) throws(AdamError) in
            try s.stepContiguous(params: params, grads: grads, skipNonFinite: skip)
        }
        return outcomeCode(o)
    }
}
