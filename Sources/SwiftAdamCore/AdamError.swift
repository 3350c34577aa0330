/// Every failure inside the library. The C shims turn `kind` into a SWIFTADAM_ERR_*
/// code and `message` into the thread's last-error text; nothing else sees codes.
public struct AdamError: Error, CustomStringConvertible {
    public enum Kind: Sendable {
        case nullPointer, invalidHandle, invalidArgument, sizeMismatch, overflow
        case outOfMemory, bufferTooSmall, busy, io, badMagic, unsupportedVersion
        case checksum, corrupt, unsupported, dtypeMismatch
    }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { "\(kind): \(message)" }
}

/// Checked arithmetic for sizes that come from callers or from checkpoint bytes.
@inline(__always)
func checkedAdd(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws(AdamError) -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw AdamError(.overflow, "\(what()) overflows") }
    return r
}

@inline(__always)
func checkedMul(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws(AdamError) -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw AdamError(.overflow, "\(what()) overflows") }
    return r
}
