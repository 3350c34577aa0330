import XCTest
import Dispatch
import CSwiftAdam
@testable import SwiftAdamCore

/// Several states from several threads; one state from two threads (BUSY, never
/// corruption); per-thread last error.
final class ConcurrencyTests: XCTestCase {
    /// Four independent states (two above the parallel threshold, sharing the process's
    /// worker pool: a step that finds it taken runs on its own thread) stepped at the same
    /// time from four threads: each ends exactly where it ends when stepped alone.
    func testIndependentStatesSteppingInParallelMatchSequentialRuns() throws {
        let previousLimit = WorkerPool.shared.setLimit(4)
        defer { WorkerPool.shared.setLimit(previousLimit) }
        let groups: [[Int]] = [[140_000], [3, 70_000, 70_001], [1001, 5], [64, 0, 17]]
        let steps = 4
        func run(_ k: Int) throws -> ([Float], [UInt8]) {
            var rng = TestRNG(seed: 70 + UInt64(k))
            let lens = groups[k]
            let opt = Options.all[(k * 5) % Options.all.count]
            let state = try AdamState(lengths: lens, hyper: opt.hyper(lr: 1e-2, weightDecay: 0.1))
            state.requestedThreads = 2
            let params = Buffers(lens.map { n in rng.floats(n) { Float($0.uniform(-1, 1)) } })
            for _ in 0..<steps {
                try state.stepGroup(params, Buffers(lens.map { n in rng.floats(n) { $0.gradient() } }))
            }
            return (params.flat, state.snapshot())
        }
        let sequential = try (0..<groups.count).map(run)
        let results = UnsafeMutablePointer<([Float], [UInt8])?>.allocate(capacity: groups.count)
        results.initialize(repeating: nil, count: groups.count)
        defer { results.deinitialize(count: groups.count); results.deallocate() }
        for round in 0..<2 {
            DispatchQueue.concurrentPerform(iterations: groups.count) { k in
                results[k] = try? run(k)
            }
            for k in 0..<groups.count {
                guard let r = results[k] else { XCTFail("round \(round) state \(k) threw"); continue }
                assertBitsEqual(r.0, sequential[k].0, "round \(round) state \(k): params")
                assertBytesEqual(r.1, sequential[k].1, "round \(round) state \(k): state")
            }
        }
    }

    /// Two threads hammer ONE state, through swiftadam_step and swiftadam_step_contiguous
    /// (a third reads it): every call
    /// returns OK or BUSY, never anything else; afterwards the state equals a sequential
    /// replay of exactly as many steps as returned OK.
    func testSameStateFromTwoThreadsIsOkOrBusyNeverCorrupt() {
        let n = 4099
        let state = makeState([n], defaultConfig(flags: cFlagAmsgrad))
        var rng = TestRNG(seed: 2024)
        let p0 = rng.floats(n) { Float($0.uniform(-1, 1)) }
        let g = rng.floats(n) { $0.gradient() }
        let params = Buffers([p0])
        let grads = Buffers([g])
        let iterations = 400
        // counts[thread][0] = OK, [1] = BUSY, [2] = anything else
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 9)
        counts.initialize(repeating: 0, count: 9)
        defer { counts.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 3) { t in
            var out = [Float](repeating: 0, count: n)
            var size = 0
            for i in 0..<iterations {
                let rc: Int32
                if t == 0 {
                    rc = cStep(state, params, grads)
                } else if t == 1 {
                    rc = swiftadam_step_contiguous(state, params.ptrs[0], grads.ptrs[0], 0)
                } else if i % 2 == 0 {
                    rc = swiftadam_get_moment(state, 0, SWIFTADAM_MOMENT_EXP_AVG, &out, n)
                } else {
                    rc = swiftadam_serialized_size(state, &size)
                }
                let slot = rc == SWIFTADAM_OK ? 0 : rc == SWIFTADAM_ERR_BUSY ? 1 : 2
                counts[t * 3 + slot] += 1
                if slot == 1 && !lastError().contains("in use") { counts[t * 3 + 2] += 1 }
            }
        }
        let ok = counts[0] + counts[3], busy = counts[1] + counts[4]
        print("two threads x \(iterations) steps (swiftadam_step, swiftadam_step_contiguous) on one state: \(ok) OK, \(busy) BUSY; reader: \(counts[6]) OK, \(counts[7]) BUSY")
        XCTAssertEqual(counts[2] + counts[5] + counts[8], 0, "a call returned something other than OK or BUSY")
        XCTAssertEqual(ok + busy, 2 * iterations)
        XCTAssertGreaterThan(ok, 0)
        var u: UInt64 = 0
        XCTAssertEqual(swiftadam_tensor_step(state, 0, &u), SWIFTADAM_OK)
        XCTAssertEqual(u, UInt64(ok), "step count != number of OK calls")
        // Sequential replay of `ok` steps.
        let replay = makeState([n], defaultConfig(flags: cFlagAmsgrad))
        let rp = Buffers([p0])
        for _ in 0..<ok { XCTAssertEqual(cStep(replay, rp, grads), SWIFTADAM_OK) }
        assertBitsEqual(params.array(0), rp.array(0), "params after the stress loop vs replay of \(ok) steps")
        XCTAssertEqual(cSnapshot(state), cSnapshot(replay), "state after the stress loop vs replay")
        XCTAssertEqual(swiftadam_free(replay), SWIFTADAM_OK)
        XCTAssertEqual(swiftadam_free(state), SWIFTADAM_OK)
    }

    /// free racing with steps on the same state: free returns OK once (or BUSY while a step
    /// runs); steps return OK, BUSY, or INVALID_HANDLE once it is gone. No crash.
    func testFreeRacingWithSteps() {
        for _ in 0..<20 {
            let state = makeState([2048])
            let params = Buffers(lengths: [2048])
            let grads = Buffers([[Float](repeating: 0.5, count: 2048)])
            let bad = UnsafeMutablePointer<Int>.allocate(capacity: 2)
            bad.initialize(repeating: 0, count: 2)
            defer { bad.deallocate() }
            DispatchQueue.concurrentPerform(iterations: 2) { t in
                if t == 0 {
                    while true {
                        let rc = cStep(state, params, grads)
                        if rc == SWIFTADAM_ERR_INVALID_HANDLE { break }
                        if rc != SWIFTADAM_OK && rc != SWIFTADAM_ERR_BUSY { bad[0] += 1; break }
                        sched_yield()   // let free() find the state idle now and then
                    }
                } else {
                    while true {
                        let rc = swiftadam_free(state)
                        if rc == SWIFTADAM_OK { break }
                        if rc != SWIFTADAM_ERR_BUSY { bad[1] += 1; break }
                    }
                }
            }
            XCTAssertEqual(bad[0], 0, "step returned an unexpected status")
            XCTAssertEqual(bad[1], 0, "free returned an unexpected status")
            XCTAssertEqual(swiftadam_free(state), SWIFTADAM_ERR_INVALID_HANDLE)
        }
    }

    /// swiftadam_last_error is per thread: each thread reads its own failure's message,
    /// after all threads have failed.
    func testLastErrorIsPerThread() {
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var initial = [String](repeating: "?", count: 4)
            var after = [String](repeating: "?", count: 4)
        }
        let box = Box()
        let failed = DispatchGroup(), finished = DispatchGroup()
        let gate = DispatchSemaphore(value: 0)
        for t in 0..<4 {
            failed.enter()
            finished.enter()
            Thread {
                let fresh = lastError()
                _ = swiftadam_set_num_threads(nil, 300 + t)
                failed.leave()
                gate.wait()   // every thread has failed before any reads
                let mine = lastError()
                box.lock.lock()
                box.initial[t] = fresh
                box.after[t] = mine
                box.lock.unlock()
                finished.leave()
            }.start()
        }
        failed.wait()
        for _ in 0..<4 { gate.signal() }
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success)
        for t in 0..<4 {
            XCTAssertEqual(box.initial[t], "", "thread \(t): a new thread's last_error must be empty")
            XCTAssertTrue(box.after[t].hasSuffix("got \(300 + t)"), "thread \(t) read \(box.after[t])")
        }
    }
}
