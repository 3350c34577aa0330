import CPUFeatures

/// The worker threads of the process, shared by every state. A step uses at most as many
/// threads as the process has CPUs (its affinity mask; at most 64), whatever it asks for:
/// more threads than CPUs only take turns. Workers start when a parallel step first needs
/// them. Between parts a worker first spins for `spinWindowNs` on the job counter, then
/// parks on its own condition variable, so a step wakes exactly the parked workers it uses;
/// the caller waits for the parts the same way. Waking a parked thread costs ~40–50 µs on a
/// VM, as much as half a 1M-param step: back-to-back steps find the worker still spinning.
/// One parallel step owns the pool at a time;
/// a step that finds it taken runs on its calling thread alone instead of waiting: two
/// states stepped from two threads never wait on each other, and any thread count gives
/// the same bits, so the fallback changes nothing but speed.
///
/// fork(): the handlers hold the pool's mutex across the fork, so the child gets it in a
/// consistent state, and give the child an empty pool (the parent's workers do not exist
/// there); the child starts its own workers on its first parallel step.
final class WorkerPool: @unchecked Sendable {
    /// The most threads one step can use on any machine: the caller plus 63 workers.
    static let maxThreads = 64
    /// CPUs this process may run on, at most maxThreads.
    static let cpuThreads = max(1, min(maxThreads, Int(swiftadam_internal_cpu_count())))

    static let shared = WorkerPool()

    /// How long a worker polls for the next job, and the caller for the last part, before
    /// parking: twice the ~50 µs a wake-up from a condition variable costs on this project's
    /// VM (so spinning costs at most about what it saves), and long enough to cover the
    /// interpreter's time between two steps issued from Python. A process that stops
    /// stepping burns at most this much CPU per worker, then every worker sleeps.
    static let spinWindowNs: UInt64 = 100_000

    /// Installed after `shared` exists, in a separate once: a handler that touched a
    /// global still being initialised on another thread could wait forever on it.
    private static let forkHandlers: Void = {
        _ = shared
        pthread_atfork({ WorkerPool.shared.forkPrepare() },
                       { WorkerPool.shared.forkParent() },
                       { WorkerPool.shared.forkChild() })
    }()

    /// The pool, with its fork handlers installed.
    static var ready: WorkerPool {
        _ = forkHandlers
        return shared
    }

    /// A part of a parallel job: a C function, a context pointer, the part index and the
    /// number of parts; handing work to the workers allocates nothing (a Swift closure
    /// context would be boxed).
    typealias PartBody = @convention(c) (UnsafeRawPointer, Int, Int) -> Void

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// wake[i] parks worker i (1...maxThreads-1); slot 0 is unused (part 0 is the caller's).
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: WorkerPool.maxThreads)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Copies of `generation` and `pending` that spinning threads read without the mutex;
    /// written only with the mutex held, right after the guarded value. The job itself is
    /// still read under the mutex: the counters only say when to take it.
    private let publishedGeneration = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private let publishedPending = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    /// parked[i]: worker i waits on wake[i] (guarded by mutex); only those are signalled.
    private let parked = UnsafeMutablePointer<Bool>.allocate(capacity: WorkerPool.maxThreads)
    // Guarded by mutex:
    /// Threads one step may use: cpuThreads, or what a test set.
    private var limit = WorkerPool.cpuThreads
    private var workers = 0
    private var busy = false
    private var generation: UInt64 = 0
    private var parts = 0
    private var pending = 0
    private var job: PartBody?
    private var context: UnsafeRawPointer?
    private var callerParked = false

    private init() { initSynchronization() }

    private func initSynchronization() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(done, nil)
        for i in 0..<WorkerPool.maxThreads { pthread_cond_init(wake + i, nil) }
        parked.initialize(repeating: false, count: WorkerPool.maxThreads)
        callerParked = false
        swiftadam_internal_atomic_store_u64(publishedGeneration, generation)
        swiftadam_internal_atomic_store_u64(publishedPending, 0)
    }

    /// Spins until `value` satisfies `isDone` or the spin window ends. The caller then
    /// checks the guarded value under the mutex either way: this only saves the parking.
    private static func spin(on value: UnsafePointer<UInt64>, until isDone: (UInt64) -> Bool) {
        let deadline = swiftadam_internal_monotonic_ns() &+ spinWindowNs
        while true {
            for _ in 0..<16 {
                if isDone(swiftadam_internal_atomic_load_u64(value)) { return }
                swiftadam_internal_cpu_relax()
            }
            if swiftadam_internal_monotonic_ns() >= deadline { return }
            // On a busy machine the thread we wait for may need this CPU.
            sched_yield()
        }
    }

    /// Run body(context, k, parts) for k in 0..<parts, part 0 on the calling thread, with
    /// parts = min(wanted, limit, workers the OS gave us + 1), or 1 if another step owns
    /// the pool. Returns when every part is done; `context` must stay valid until then.
    func run(parts wanted: Int, context ctx: UnsafeRawPointer, _ body: PartBody) {
        if wanted <= 1 {
            body(ctx, 0, 1)
            return
        }
        pthread_mutex_lock(mutex)
        let want = min(wanted, limit)
        if busy || want <= 1 {
            pthread_mutex_unlock(mutex)
            body(ctx, 0, 1)
            return
        }
        let n = min(want, startWorkers(want - 1) + 1)
        if n <= 1 {
            pthread_mutex_unlock(mutex)
            body(ctx, 0, 1)
            return
        }
        busy = true
        job = body
        context = ctx
        parts = n
        pending = n - 1
        swiftadam_internal_atomic_store_u64(publishedPending, UInt64(pending))
        generation &+= 1
        swiftadam_internal_atomic_store_u64(publishedGeneration, generation)
        for i in 1..<n where parked[i] { pthread_cond_signal(wake + i) }
        pthread_mutex_unlock(mutex)
        body(ctx, 0, n)
        WorkerPool.spin(on: publishedPending) { $0 == 0 }
        pthread_mutex_lock(mutex)
        while pending > 0 {
            callerParked = true
            pthread_cond_wait(done, mutex)
        }
        callerParked = false
        job = nil
        context = nil
        busy = false
        pthread_mutex_unlock(mutex)
    }

    /// Threads one step may use. Tests raise it above the CPU count so that thread counts
    /// the machine lacks are really run; returns the previous value.
    @discardableResult
    func setLimit(_ n: Int) -> Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let old = limit
        limit = max(1, min(n, WorkerPool.maxThreads))
        return old
    }

    private final class WorkerStart {
        let index: Int
        let generation: UInt64
        init(index: Int, generation: UInt64) { self.index = index; self.generation = generation }
    }

    /// Start workers until there are `want` (best effort: if the OS refuses a thread, steps
    /// use fewer). Called with the mutex held; returns how many workers exist.
    private func startWorkers(_ want: Int) -> Int {
        while workers < want {
            // The worker must not mistake the job about to be posted for one it has seen.
            let start = Unmanaged.passRetained(WorkerStart(index: workers + 1, generation: generation)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                guard let raw else { return nil }
                let start = Unmanaged<WorkerStart>.fromOpaque(raw).takeRetainedValue()
                WorkerPool.shared.workerLoop(index: start.index, seen: start.generation)
                return nil
            }, start)
            if rc != 0 {
                Unmanaged<WorkerStart>.fromOpaque(start).release()
                break
            }
            pthread_detach(tid)
            workers += 1
        }
        return workers
    }

    private func workerLoop(index: Int, seen start: UInt64) {
        var seen = start
        while true {
            WorkerPool.spin(on: publishedGeneration) { $0 != seen }
            pthread_mutex_lock(mutex)
            while generation == seen {
                parked[index] = true
                pthread_cond_wait(wake + index, mutex)
            }
            parked[index] = false
            seen = generation
            guard index < parts, let body = job, let ctx = context else {
                pthread_mutex_unlock(mutex)
                continue
            }
            let n = parts
            pthread_mutex_unlock(mutex)
            // Every part in the same mode as the caller's part (see fp_mode.h).
            swiftadam_internal_fp_set(UInt64(SWIFTADAM_INTERNAL_FP_DEFAULT))
            body(ctx, index, n)
            pthread_mutex_lock(mutex)
            pending -= 1
            swiftadam_internal_atomic_store_u64(publishedPending, UInt64(pending))
            if pending == 0 && callerParked { pthread_cond_signal(done) }
            pthread_mutex_unlock(mutex)
        }
    }

    private func forkPrepare() { pthread_mutex_lock(mutex) }

    private func forkParent() { pthread_mutex_unlock(mutex) }

    /// Only the forking thread exists in the child: no workers, no step in flight. The
    /// condition variables may count waiters that are gone; they are made afresh.
    private func forkChild() {
        workers = 0
        busy = false
        pending = 0
        parts = 0
        job = nil
        context = nil
        initSynchronization()
    }
}

extension AdamState {
    /// SWIFTADAM_NUM_THREADS if set to 1...256, else the CPUs this process may run on
    /// (at most 64).
    public static let defaultThreads: Int = {
        if let env = getenv("SWIFTADAM_NUM_THREADS"), let n = Int(String(cString: env)), n >= 1, n <= 256 {
            return n
        }
        return WorkerPool.cpuThreads
    }()

    public var effectiveThreads: Int { requestedThreads > 0 ? requestedThreads : AdamState.defaultThreads }
}
