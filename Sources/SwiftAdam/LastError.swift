import SwiftAdamCore   // and, through it, the C library

/// The thread-local "what went wrong" text behind swiftadam_last_error(). Each thread
/// gets one malloc'd buffer on its first failure, freed by the key's destructor at
/// thread exit. That destructor is code in this library, which is why the library is
/// linked -z nodelete (Package.swift): a dlclose that unmapped it would leave threads
/// to call into nothing when they exit, and each reload would take another key.
enum LastError {
    static let capacity = 1024

    /// nil when the process has no key left (PTHREAD_KEYS_MAX): the text is then not kept,
    /// rather than stored under key 0, which belongs to someone else.
    static let key: pthread_key_t? = {
        var k = pthread_key_t()
        return pthread_key_create(&k) { free($0) } == 0 ? k : nil
    }()

    static let empty: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        p.pointee = 0
        return p
    }()

    static let noKey: UnsafeMutablePointer<CChar> = {
        let text = "swiftadam_last_error: no message kept, the process has no pthread key left"
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: text.utf8.count + 1)
        p.initialize(from: text.utf8CString.map { $0 }, count: text.utf8.count + 1)
        return p
    }()

    static func set(_ message: String) {
        guard let key else { return }
        var buf = pthread_getspecific(key)?.assumingMemoryBound(to: CChar.self)
        if buf == nil {
            guard let raw = malloc(capacity) else { return }   // out of memory: keep the old text
            buf = raw.assumingMemoryBound(to: CChar.self)
            pthread_setspecific(key, raw)
        }
        guard let buf else { return }
        var n = 0
        for byte in message.utf8 {
            if n == capacity - 1 { break }
            buf[n] = CChar(bitPattern: byte)
            n += 1
        }
        buf[n] = 0
    }

    static func get() -> UnsafePointer<CChar> {
        guard let key else { return UnsafePointer(noKey) }
        if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
        return UnsafePointer(empty)
    }
}
