#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Worker threads owned by ONE state (no process-wide pool: states stepping in parallel
/// from different threads never wait on each other). Threads start on first use, park
/// on a condition variable between steps, and are joined when the state is freed.
final class WorkerPool {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []
    // Guarded by mutex:
    private var generation: UInt64 = 0
    private var pending = 0
    private var parts = 0
    private var job: PartBody?
    private var context: UnsafeRawPointer?
    private var shuttingDown = false
    /// Threads do not survive fork(): a child that steps a state inherited from its
    /// parent must start its own workers instead of waiting for ones that do not exist.
    private var ownerPID = getpid()

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
    }

    deinit {
        pthread_mutex_lock(mutex)
        shuttingDown = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_cond_destroy(done)
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wake.deallocate()
        done.deallocate()
    }

    private final class WorkerContext {
        unowned let pool: WorkerPool
        let index: Int
        init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
    }

    /// Start workers until there are `want` (best effort: if the OS refuses a thread,
    /// the step simply runs on fewer). Returns how many workers exist.
    private func ensureWorkers(_ want: Int) -> Int {
        let pid = getpid()
        if pid != ownerPID {
            threads.removeAll()
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(wake, nil)
            pthread_cond_init(done, nil)
            generation = 0
            ownerPID = pid
        }
        while threads.count < want {
            let ctx = Unmanaged.passRetained(WorkerContext(pool: self, index: threads.count + 1)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                guard let raw else { return nil }
                let ctx = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                ctx.pool.workerLoop(index: ctx.index)
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

    private func workerLoop(index: Int) {
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
        pthread_mutex_lock(mutex)
        job = body
        context = ctx
        self.parts = parts
        pending = workers
        generation &+= 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        body(ctx, 0)
        pthread_mutex_lock(mutex)
        while pending > 0 { pthread_cond_wait(done, mutex) }
        job = nil
        context = nil
        pthread_mutex_unlock(mutex)
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
