import SwiftAdamCore
import CSwiftAdam

/// Live states, keyed by the opaque address handed to C. A handle is looked up here
/// before it is ever dereferenced, so a freed, foreign or garbage pointer is reported
/// as SWIFTADAM_ERR_INVALID_HANDLE instead of crashing. The table also marks a state
/// in use for the length of one call: a second concurrent call on it gets BUSY.
final class Entry {
    let state: AdamState
    var inUse = false
    /// In a forked child: a call on another thread of the parent held this state at the
    /// moment of fork(). That call never finishes here and the contents may be
    /// half-updated, so the state stays BUSY; only swiftadam_free is allowed.
    var heldAtFork = false
    init(_ s: AdamState) { state = s }
}

/// The table behind a pthread mutex (not Synchronization.Mutex, whose futex calls
/// ThreadSanitizer cannot see: a TSan run would report the lock's own accesses as races).
///
/// fork(): a child forked while another thread held the mutex would inherit it locked by
/// a thread that does not exist there, and its first call would wait forever. The fork
/// handlers take the mutex before fork() and release it in parent and child.
final class Registry: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var table: [UInt: Entry] = [:]

    init() { pthread_mutex_init(mutex, nil) }

    /// Installed after `registry` exists, in a separate once: a handler that touched a
    /// global still being initialised on another thread could wait forever on it.
    private static let forkHandlers: Void = {
        _ = registry
        pthread_atfork({ registry.forkPrepare() }, { registry.forkParent() }, { registry.forkChild() })
    }()

    func withLock<R>(_ body: (inout [UInt: Entry]) -> R) -> R {
        _ = Registry.forkHandlers
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&table)
    }

    private func forkPrepare() { pthread_mutex_lock(mutex) }

    private func forkParent() { pthread_mutex_unlock(mutex) }

    private func forkChild() {
        for (_, e) in table where e.inUse { e.heldAtFork = true }
        pthread_mutex_unlock(mutex)
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
            if e.heldAtFork {
                return .failure(AdamError(.busy, "state \(handle) was in use by another thread when this process forked: its contents may be half-updated (only swiftadam_free is allowed)"))
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
            if e.inUse && !e.heldAtFork { return .failure(AdamError(.busy, "state \(handle) is in use by another call; not freed")) }
            table[key] = nil
            return .success(e)
        }
        // The entry and its state are released here, outside the lock.
        _ = try result.get()
    }
}
