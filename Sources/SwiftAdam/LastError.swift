#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The thread-local "what went wrong" text behind swiftadam_last_error(). Each thread
/// gets one malloc'd buffer on its first failure, freed by the key's destructor at
/// thread exit.
enum LastError {
    static let capacity = 1024

    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { free($0) }
        return k
    }()

    static let empty: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        p.pointee = 0
        return p
    }()

    static func set(_ message: String) {
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
        if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
        return UnsafePointer(empty)
    }
}
