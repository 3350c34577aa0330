#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

private func errnoText() -> String { String(cString: strerror(errno)) }

/// Writes to a file descriptor, retrying short writes and EINTR.
struct FileSink: ByteSink {
    let fd: Int32
    let path: String
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(AdamError) {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, min(left, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw AdamError(.io, "write to \(path) failed: \(errnoText())")
            }
            p += n
            left -= n
        }
    }
}

/// Reads from a file descriptor whose size was taken with fstat.
struct FileSource: ByteSource {
    let fd: Int32
    let path: String
    var remaining: Int
    mutating func read(into dst: UnsafeMutableRawBufferPointer) throws(AdamError) {
        guard var p = dst.baseAddress else { return }
        if dst.count > remaining {
            throw AdamError(.corrupt, "truncated: needs \(dst.count) more bytes, \(path) has \(remaining) left")
        }
        var left = dst.count
        while left > 0 {
            let n = Glibc.read(fd, p, min(left, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw AdamError(.io, "read from \(path) failed: \(errnoText())")
            }
            if n == 0 { throw AdamError(.corrupt, "truncated: \(path) ended early (changed while loading?)") }
            p += n
            left -= n
        }
        remaining -= dst.count
    }
}

extension AdamState {
    /// Atomic save: "<path>.tmp" in the same directory, fsync, rename, fsync directory.
    /// One fixed temporary name means a crashed save leaves at most one stray file, which
    /// the next save reuses. An exclusive flock on it keeps two concurrent saves to the
    /// same path from writing into each other.
    public func save(to path: String) throws(AdamError) {
        let tmp = path + ".tmp"
        var fd: Int32 = -1
        for _ in 0..<8 {
            fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 { throw AdamError(.io, "open \(tmp) failed: \(errnoText())") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let text = errnoText()
                close(fd)
                throw AdamError(.io, "another save to \(path) is in progress (flock \(tmp): \(text))")
            }
            // If another saver renamed this inode to `path` between our open and our lock,
            // we hold the lock on the live checkpoint: start over with a fresh temp file.
            var a = stat(), b = stat()
            if fstat(fd, &a) == 0, stat(tmp, &b) == 0, a.st_ino == b.st_ino, a.st_dev == b.st_dev { break }
            close(fd)
            fd = -1
        }
        if fd < 0 { throw AdamError(.io, "could not acquire \(tmp): it keeps being replaced") }
        var renamed = false
        defer {
            if !renamed { unlink(tmp) }
            close(fd)
        }
        if ftruncate(fd, 0) != 0 { throw AdamError(.io, "ftruncate \(tmp) failed: \(errnoText())") }
        var sink = FileSink(fd: fd, path: tmp)
        try encode(into: &sink)
        if fsync(fd) != 0 { throw AdamError(.io, "fsync \(tmp) failed: \(errnoText())") }
        if rename(tmp, path) != 0 { throw AdamError(.io, "rename \(tmp) -> \(path) failed: \(errnoText())") }
        renamed = true
        let dir = AdamState.directory(of: path)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd < 0 { throw AdamError(.io, "open directory \(dir) failed: \(errnoText())") }
        defer { close(dfd) }
        if fsync(dfd) != 0 { throw AdamError(.io, "fsync directory \(dir) failed: \(errnoText())") }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    /// Load a checkpoint file, reading the moments straight into the new state.
    public static func load(from path: String, expected: UnsafeBufferPointer<Int>?) throws(AdamError) -> AdamState {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw AdamError(.io, "open \(path) failed: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw AdamError(.io, "fstat \(path) failed: \(errnoText())") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw AdamError(.io, "\(path) is not a regular file") }
        var src = FileSource(fd: fd, path: path, remaining: Int(st.st_size))
        return try decode(from: &src, expected: expected)
    }
}
