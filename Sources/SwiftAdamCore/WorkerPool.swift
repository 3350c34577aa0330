#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Worker threads owned by ONE state (no process-wide pool: states stepping in parallel
/// from different threads never wait on each other). Threads start on first use, park
/// on a condition variable between steps, and are joined when the state is freed.
final class WorkerPool {
    /// What the workers share with the pool. Workers hold THIS strongly, never the pool:
    /// a parked worker calling a method on the pool kept the pool alive forever, so its
    /// deinit (which joins the workers) never ran: every freed state leaked its threads.
    private final class Shared {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        // Guarded by mutex:
        var generation: UInt64 = 0
        var pending = 0
        var parts = 0
        var job: PartBody?
        var context: UnsafeRawPointer?
        var shuttingDown = false

        init() {
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(wake, nil)
            pthread_cond_init(done, nil)
        }

        deinit {
            pthread_cond_destroy(done)
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
            wake.deallocate()
            done.deallocate()
        }

        func workerLoop(index: Int) {
            var seen: UInt64 = 0
            pthread_mutex_lock(mutex)
            while true {
                while generation == seen && !shuttingDown { pthread_cond_wait(wake, mutex) }
                if shuttingDown { break }
                seen = generation
                let body = job
                let ctx = context
                let mine = index < parts
                pthread_mutex_unlock(mutex)
                if mine, let body, let ctx { body(ctx, index) }
                pthread_mutex_lock(mutex)
                pending -= 1
                if pending == 0 { pthread_cond_signal(done) }
            }
            pthread_mutex_unlock(mutex)
        }
    }

    private var shared = Shared()
    private var threads: [pthread_t] = []
    /// Threads do not survive fork(): a child that steps a state inherited from its
    /// parent must start its own workers instead of waiting for ones that do not exist.
    private var ownerPID = getpid()

    init() {}

    deinit {
        // In a forked child the inherited workers do not exist: joining them would block
        // forever. (Their Shared stays referenced by the parent's contexts: a small leak
        // in the child only.)
        if getpid() != ownerPID { return }
        let s = shared
        pthread_mutex_lock(s.mutex)
        s.shuttingDown = true
        pthread_cond_broadcast(s.wake)
        pthread_mutex_unlock(s.mutex)
        for t in threads { pthread_join(t, nil) }
    }

    private final class WorkerContext {
        let shared: Shared
        let index: Int
        init(shared: Shared, index: Int) { self.shared = shared; self.index = index }
    }

    /// Start workers until there are `want` (best effort: if the OS refuses a thread,
    /// the step simply runs on fewer). Returns how many workers exist.
    private func ensureWorkers(_ want: Int) -> Int {
        let pid = getpid()
        if pid != ownerPID {
            // Fresh synchronization state: the inherited one may be mid-use by threads
            // that no longer exist (and is still referenced by their contexts).
            threads.removeAll()
            shared = Shared()
            ownerPID = pid
        }
        while threads.count < want {
            let ctx = Unmanaged.passRetained(WorkerContext(shared: shared, index: threads.count + 1)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                guard let raw else { return nil }
                let ctx = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                ctx.shared.workerLoop(index: ctx.index)
                return nil
            }, ctx)
            if rc != 0 {
                Unmanaged<WorkerContext>.fromOpaque(ctx).release()
                break
            }
            threads.append(tid)
        }
        return threads.count
    }

    /// A part of a parallel job: a C function and a context pointer, so that handing work
    /// to the workers allocates nothing (a Swift closure context would be boxed).
    typealias PartBody = @convention(c) (UnsafeRawPointer, Int) -> Void

    /// Run body(context, 0..<parts) with part 0 on the calling thread; returns when all
    /// parts are done. `context` must stay valid until then (it does: we block).
    func run(parts wanted: Int, context ctx: UnsafeRawPointer, _ body: PartBody) {
        let workers = ensureWorkers(wanted - 1)
        let parts = min(wanted, workers + 1)
        if parts <= 1 {
            body(ctx, 0)
            return
        }
        let s = shared
        pthread_mutex_lock(s.mutex)
        s.job = body
        s.context = ctx
        s.parts = parts
        s.pending = workers
        s.generation &+= 1
        pthread_cond_broadcast(s.wake)
        pthread_mutex_unlock(s.mutex)
        body(ctx, 0)
        pthread_mutex_lock(s.mutex)
        while s.pending > 0 { pthread_cond_wait(s.done, s.mutex) }
        s.job = nil
        s.context = nil
        pthread_mutex_unlock(s.mutex)
    }

    /// How many parts `run(parts: wanted)` will really use (workers the OS gave us + 1).
    func partsAvailable(_ wanted: Int) -> Int { min(wanted, ensureWorkers(wanted - 1) + 1) }
}

extension AdamState {
    /// SWIFTADAM_NUM_THREADS if set to 1...256, else the online cores (at most 64).
    public static let defaultThreads: Int = {
        if let env = getenv("SWIFTADAM_NUM_THREADS"), let n = Int(String(cString: env)), n >= 1, n <= 256 {
            return n
        }
        return max(1, min(64, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }()

    public var effectiveThreads: Int { requestedThreads > 0 ? requestedThreads : AdamState.defaultThreads }
}
