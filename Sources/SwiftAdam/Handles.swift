#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SwiftAdamCore
import CSwiftAdam

/// Live states, keyed by the opaque address handed to C. A handle is looked up here
/// before it is ever dereferenced, so a freed, foreign or garbage pointer is reported
/// as SWIFTADAM_ERR_INVALID_HANDLE instead of crashing. The table also marks a state
/// in use for the length of one call: a second concurrent call on it gets BUSY.
final class Entry {
    let state: AdamState
    var inUse = false
    init(_ s: AdamState) { state = s }
}

/// The table behind a pthread mutex (not Synchronization.Mutex, whose futex calls
/// ThreadSanitizer cannot see: a TSan run would report the lock's own accesses as races).
final class Registry: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var table: [UInt: Entry] = [:]

    init() { pthread_mutex_init(mutex, nil) }

    func withLock<R>(_ body: (inout [UInt: Entry]) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&table)
    }
}

let registry = Registry()

enum Handles {
    static func register(_ state: AdamState) -> OpaquePointer {
        let entry = Entry(state)
        let handle = OpaquePointer(Unmanaged.passUnretained(entry).toOpaque())
        registry.withLock { $0[UInt(bitPattern: handle)] = entry }
        return handle
    }

    /// Run `body` with exclusive use of the state behind `handle`.
    static func with<R>(_ handle: OpaquePointer?, _ body: (AdamState) throws(AdamError) -> R) throws(AdamError) -> R {
        guard let handle else { throw AdamError(.nullPointer, "state is NULL") }
        let key = UInt(bitPattern: handle)
        // One lock decides: live and free -> ours; live and in use -> BUSY; absent -> invalid.
        let claimed: Result<Entry, AdamError> = registry.withLock { table in
            guard let e = table[key] else {
                return .failure(AdamError(.invalidHandle, "state \(handle) is not a live SwiftAdam state (freed, or never created)"))
            }
            if e.inUse {
                return .failure(AdamError(.busy, "state \(handle) is in use by another call (calls on one state are not queued)"))
            }
            e.inUse = true
            return .success(e)
        }
        let entry = try claimed.get()
        defer { registry.withLock { _ in entry.inUse = false } }
        return try body(entry.state)
    }

    /// Remove a handle; the state is deallocated when the last reference goes.
    static func free(_ handle: OpaquePointer) throws(AdamError) {
        let key = UInt(bitPattern: handle)
        let result: Result<Entry, AdamError> = registry.withLock { table in
            guard let e = table[key] else {
                return .failure(AdamError(.invalidHandle, "state \(handle) is not a live SwiftAdam state (double free?)"))
            }
            if e.inUse { return .failure(AdamError(.busy, "state \(handle) is in use by another call; not freed")) }
            table[key] = nil
            return .success(e)
        }
        // The entry (and its worker threads) are released here, outside the lock.
        _ = try result.get()
    }
}
