import CSwiftAdam
import SwiftAdamCore

/// The only place AdamError kinds become C status codes.
extension AdamError.Kind {
    var code: Int32 {
        switch self {
        case .nullPointer: return SWIFTADAM_ERR_NULL_POINTER
        case .invalidHandle: return SWIFTADAM_ERR_INVALID_HANDLE
        case .invalidArgument: return SWIFTADAM_ERR_INVALID_ARGUMENT
        case .sizeMismatch: return SWIFTADAM_ERR_SIZE_MISMATCH
        case .overflow: return SWIFTADAM_ERR_OVERFLOW
        case .outOfMemory: return SWIFTADAM_ERR_OUT_OF_MEMORY
        case .bufferTooSmall: return SWIFTADAM_ERR_BUFFER_TOO_SMALL
        case .busy: return SWIFTADAM_ERR_BUSY
        case .io: return SWIFTADAM_ERR_IO
        case .badMagic: return SWIFTADAM_ERR_BAD_MAGIC
        case .unsupportedVersion: return SWIFTADAM_ERR_UNSUPPORTED_VERSION
        case .checksum: return SWIFTADAM_ERR_CHECKSUM
        case .corrupt: return SWIFTADAM_ERR_CORRUPT
        case .unsupported: return SWIFTADAM_ERR_UNSUPPORTED
        case .dtypeMismatch: return SWIFTADAM_ERR_DTYPE_MISMATCH
        }
    }
}

/// Name and description of every status code, as static C strings made once.
enum StatusText {
    static let table: [Int32: (name: UnsafePointer<CChar>, text: UnsafePointer<CChar>)] = {
        let rows: [(Int32, String, String)] = [
            (SWIFTADAM_OK, "SWIFTADAM_OK", "success"),
            (SWIFTADAM_STEP_SKIPPED, "SWIFTADAM_STEP_SKIPPED", "step skipped: a gradient was NaN or infinite"),
            (SWIFTADAM_ERR_NULL_POINTER, "SWIFTADAM_ERR_NULL_POINTER", "a required pointer argument was NULL"),
            (SWIFTADAM_ERR_INVALID_HANDLE, "SWIFTADAM_ERR_INVALID_HANDLE", "not a live SwiftAdam state"),
            (SWIFTADAM_ERR_INVALID_ARGUMENT, "SWIFTADAM_ERR_INVALID_ARGUMENT", "invalid argument"),
            (SWIFTADAM_ERR_SIZE_MISMATCH, "SWIFTADAM_ERR_SIZE_MISMATCH", "tensor count or length mismatch"),
            (SWIFTADAM_ERR_OVERFLOW, "SWIFTADAM_ERR_OVERFLOW", "size computation overflows"),
            (SWIFTADAM_ERR_OUT_OF_MEMORY, "SWIFTADAM_ERR_OUT_OF_MEMORY", "out of memory"),
            (SWIFTADAM_ERR_BUFFER_TOO_SMALL, "SWIFTADAM_ERR_BUFFER_TOO_SMALL", "buffer too small"),
            (SWIFTADAM_ERR_BUSY, "SWIFTADAM_ERR_BUSY", "state is in use by another call"),
            (SWIFTADAM_ERR_IO, "SWIFTADAM_ERR_IO", "I/O error"),
            (SWIFTADAM_ERR_BAD_MAGIC, "SWIFTADAM_ERR_BAD_MAGIC", "not a SwiftAdam checkpoint"),
            (SWIFTADAM_ERR_UNSUPPORTED_VERSION, "SWIFTADAM_ERR_UNSUPPORTED_VERSION", "unsupported checkpoint format version"),
            (SWIFTADAM_ERR_CHECKSUM, "SWIFTADAM_ERR_CHECKSUM", "checkpoint checksum mismatch"),
            (SWIFTADAM_ERR_CORRUPT, "SWIFTADAM_ERR_CORRUPT", "checkpoint truncated or inconsistent"),
            (SWIFTADAM_ERR_UNSUPPORTED, "SWIFTADAM_ERR_UNSUPPORTED", "unsupported flag or config field"),
            (SWIFTADAM_ERR_DTYPE_MISMATCH, "SWIFTADAM_ERR_DTYPE_MISMATCH", "entry point dtype differs from the state's"),
        ]
        var t: [Int32: (name: UnsafePointer<CChar>, text: UnsafePointer<CChar>)] = [:]
        for (code, name, text) in rows { t[code] = (cString(name), cString(text)) }
        return t
    }()

    static let unknownName = cString("SWIFTADAM_UNKNOWN_STATUS")
    static let unknownText = cString("unknown status code")
}

/// A NUL-terminated copy that lives for the whole process (static strings for C).
func cString(_ s: String) -> UnsafePointer<CChar> {
    let utf8 = Array(s.utf8)
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
    for (i, b) in utf8.enumerated() { p[i] = CChar(bitPattern: b) }
    p[utf8.count] = 0
    return UnsafePointer(p)
}

/// Run a C entry point's body: errors become (code, thread-local message).
@inline(__always)
func boundary(_ body: () throws(AdamError) -> Int32) -> Int32 {
    do {
        return try body()
    } catch {
        LastError.set(error.message)
        return error.kind.code
    }
}
