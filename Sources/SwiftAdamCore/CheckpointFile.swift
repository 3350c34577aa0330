private func errnoText() -> String { String(cString: strerror(errno)) }

/// Writes to a file descriptor, retrying short writes and EINTR.
struct FileSink: ByteSink {
    let fd: Int32
    let path: String
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(AdamError) {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = systemWrite(fd, p, min(left, 1 << 30))
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
            let n = systemRead(fd, p, min(left, 1 << 30))
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
    public func save(to path: CheckpointPath) throws(AdamError) {
        try AdamState.refuseToReplace(path)
        let tmp = path.appending(".tmp")
        let fd = try AdamState.acquireTemporary(tmp, for: path)
        var renamed = false
        defer {
            if !renamed { unlink(tmp.bytes) }
            close(fd)
        }
        if ftruncate(fd, 0) != 0 { throw AdamError(.io, "ftruncate \(tmp) failed: \(errnoText())") }
        var sink = FileSink(fd: fd, path: tmp.description)
        try encode(into: &sink)
        if fsync(fd) != 0 { throw AdamError(.io, "fsync \(tmp) failed: \(errnoText())") }
        // Again just before the rename: writing a large state takes time, and a target that
        // became a FIFO or a link meanwhile must not be replaced either.
        try AdamState.refuseToReplace(path)
        if rename(tmp.bytes, path.bytes) != 0 { throw AdamError(.io, "rename \(tmp) -> \(path) failed: \(errnoText())") }
        renamed = true
        let dir = path.directory
        let dfd = open(dir.bytes, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd < 0 { throw AdamError(.io, "open directory \(dir) failed: \(errnoText())") }
        defer { close(dfd) }
        if fsync(dfd) != 0 { throw AdamError(.io, "fsync directory \(dir) failed: \(errnoText())") }
    }

    public func save(to path: String) throws(AdamError) { try save(to: CheckpointPath(path)) }

    /// The rename replaces whatever is at `path`: allowed for a regular file or nothing.
    /// A symbolic link is refused rather than replaced (the caller meant the file behind
    /// it, which this protocol cannot update atomically) and so are a directory, a FIFO,
    /// a socket and a device.
    static func refuseToReplace(_ path: CheckpointPath) throws(AdamError) {
        var st = stat()
        if lstat(path.bytes, &st) != 0 {
            if errno == ENOENT { return }
            throw AdamError(.io, "lstat \(path) failed: \(errnoText())")
        }
        if let kind = nonRegularKind(st.st_mode) {
            throw AdamError(.io, "\(path) is \(kind), not a regular file: not replaced by a checkpoint")
        }
    }

    /// Opens and locks "<path>.tmp" so that nothing else is written: a symlink is not
    /// followed (O_NOFOLLOW), a FIFO does not block (checked before opening, and
    /// O_NONBLOCK for one swapped in after the check), and a file with other names (a hard
    /// link) is refused, since truncating it would change every name. None of these is
    /// removed: a save deletes only a temporary file it holds the lock on.
    static func acquireTemporary(_ tmp: CheckpointPath, for path: CheckpointPath) throws(AdamError) -> Int32 {
        for _ in 0..<8 {
            var before = stat()
            if lstat(tmp.bytes, &before) == 0, let kind = nonRegularKind(before.st_mode) {
                throw notTemporary(tmp, kind)
            }
            let fd = open(tmp.bytes, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
            if fd < 0 { throw AdamError(.io, "open \(tmp) failed: \(errnoText())") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let text = errnoText()
                close(fd)
                throw AdamError(.io, "another save to \(path) is in progress (flock \(tmp): \(text))")
            }
            // If another saver renamed this inode to `path` between our open and our lock,
            // we hold the lock on the live checkpoint: start over with a fresh temp file.
            var a = stat(), b = stat()
            if fstat(fd, &a) == 0, lstat(tmp.bytes, &b) == 0, a.st_ino == b.st_ino, a.st_dev == b.st_dev {
                if let kind = nonRegularKind(a.st_mode) {
                    close(fd)
                    throw notTemporary(tmp, kind)
                }
                if a.st_nlink > 1 {
                    close(fd)
                    throw AdamError(.io, "\(tmp) has \(a.st_nlink) names (a hard link): writing it would change the others (remove it)")
                }
                return fd
            }
            close(fd)
        }
        throw AdamError(.io, "could not acquire \(tmp): it keeps being replaced")
    }

    private static func notTemporary(_ tmp: CheckpointPath, _ kind: String) -> AdamError {
        AdamError(.io, "\(tmp) is \(kind), not a temporary file of a save: not written through (remove it)")
    }

    /// Load a checkpoint file, reading the moments straight into the new state. A symbolic
    /// link is followed; anything but a regular file is refused before it is opened (a FIFO
    /// would block, a device may act on open), and O_NONBLOCK covers one swapped in since.
    public static func load(from path: CheckpointPath, expected: UnsafeBufferPointer<Int>?) throws(AdamError) -> AdamState {
        var st = stat()
        if stat(path.bytes, &st) == 0, let kind = nonRegularKind(st.st_mode) { throw notRegular(path, kind) }
        let fd = open(path.bytes, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw AdamError(.io, "open \(path) failed: \(errnoText())") }
        defer { close(fd) }
        if fstat(fd, &st) != 0 { throw AdamError(.io, "fstat \(path) failed: \(errnoText())") }
        if let kind = nonRegularKind(st.st_mode) { throw notRegular(path, kind) }
        var src = FileSource(fd: fd, path: path.description, remaining: Int(st.st_size))
        return try decode(from: &src, expected: expected)
    }

    public static func load(from path: String, expected: [Int]?) throws(AdamError) -> AdamState {
        let p = try CheckpointPath(path)
        guard let expected else { return try load(from: p, expected: nil) }
        return try expected.withUnsafeBufferPointer { (b) throws(AdamError) in try load(from: p, expected: b) }
    }

    private static func notRegular(_ path: CheckpointPath, _ kind: String) -> AdamError {
        AdamError(.io, "\(path) is not a regular file (\(kind))")
    }
}
