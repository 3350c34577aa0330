/// A checkpoint path as the caller's bytes. File names are bytes, not text: decoding them
/// would map every undecodable name to the same U+FFFD spelling (two files, one name), so
/// the bytes go to open, rename and lstat exactly as given.
public struct CheckpointPath: Sendable, CustomStringConvertible {
    /// The bytes with their terminating NUL, so that the array converts to a C string.
    let bytes: [CChar]

    /// The bytes of a C string, up to its NUL. An empty path is refused: it names nothing,
    /// and "<path>.tmp" would be ".tmp" in the working directory.
    public init(cString: UnsafePointer<CChar>) throws(AdamError) {
        try self.init(terminated: Array(UnsafeBufferPointer(start: cString, count: strlen(cString) + 1)))
    }

    /// The UTF-8 of a Swift string, which must not contain NUL: the name would end there and
    /// the file written would be another one.
    public init(_ string: String) throws(AdamError) {
        if string.utf8.contains(0) {
            throw AdamError(.invalidArgument, "path \"\(string.split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\0"))\" contains a NUL byte")
        }
        try self.init(terminated: Array(string.utf8CString))
    }

    private init(terminated: [CChar]) throws(AdamError) {
        if terminated.count == 1 { throw AdamError(.invalidArgument, "path is empty") }
        bytes = terminated
    }

    private init(unchecked: [CChar]) { bytes = unchecked }

    /// "<path><suffix>": same directory, same leading bytes.
    func appending(_ suffix: String) -> CheckpointPath {
        CheckpointPath(unchecked: bytes.dropLast() + suffix.utf8CString)
    }

    /// The directory holding the entry: the bytes before the last "/", "/" if that is the
    /// first byte, "." if there is none.
    var directory: CheckpointPath {
        guard let slash = bytes.lastIndex(of: 0x2F) else { return CheckpointPath(unchecked: Array(".".utf8CString)) }
        if slash == 0 { return CheckpointPath(unchecked: Array("/".utf8CString)) }
        return CheckpointPath(unchecked: Array(bytes[..<slash]) + [0])
    }

    /// For messages: the path as text when it is UTF-8; otherwise ASCII as is and every other
    /// byte as \xNN, so that two different paths never read the same.
    public var description: String {
        let raw = bytes.dropLast().map { UInt8(bitPattern: $0) }
        if let text = String(validating: raw, as: UTF8.self) { return text }
        return raw.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + hex($0) }.joined()
    }

    private func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}

/// nil for a regular file; else what the mode says it is, for a message.
func nonRegularKind(_ mode: mode_t) -> String? {
    switch mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "a directory"
    case S_IFLNK: return "a symbolic link"
    case S_IFIFO: return "a FIFO"
    case S_IFSOCK: return "a socket"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    default: return "of an unknown kind"
    }
}
