"""Concurrency from Python threads (ctypes releases the GIL during native calls)."""
import threading

import numpy as np

import swiftadam

STEPS = 60


def _grads(seed, shapes):
    rng = np.random.default_rng(seed)
    return [[(rng.standard_normal(s) * 10.0 ** rng.uniform(-4, 1)).astype(np.float32) for s in shapes]
            for _ in range(STEPS)]


def _run(params, grads):
    with swiftadam.Adam(params, lr=1e-2, amsgrad=True) as opt:
        for g in grads:
            opt.step(g)


def test_states_stepping_in_parallel_match_sequential_runs():
    # Large enough that steps take a while (and run on the library's worker threads too).
    shapes = [(300_000,), (17,), (64, 33)]
    seeds = [11, 12, 13, 14]
    grads = [_grads(s, shapes) for s in seeds]
    init = [[np.full(s, 0.5, np.float32) for s in shapes] for _ in seeds]

    sequential = [[p.copy() for p in ps] for ps in init]
    for ps, gs in zip(sequential, grads):
        _run(ps, gs)

    parallel = [[p.copy() for p in ps] for ps in init]
    errors = []

    def worker(k):
        try:
            _run(parallel[k], grads[k])
        except BaseException as e:  # reported below; a thread's exception is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for a, b in zip(sequential, parallel):
        for pa, pb in zip(a, b):
            assert pa.tobytes() == pb.tobytes()


def test_one_state_from_two_threads_is_serialized_or_busy():
    n = 200_000
    p = np.zeros(n, np.float32)
    g = np.full(n, 0.25, np.float32)       # the same grad every step: order cannot matter
    opt = swiftadam.Adam([p], lr=1e-3)
    ok = []
    busy = []
    other = []

    def hammer():
        for _ in range(150):
            try:
                opt.step([g])
                ok.append(1)
            except swiftadam.SwiftAdamError as e:
                (busy if e.status == -8 else other).append(e)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == []
    assert all(e.name == "SWIFTADAM_ERR_BUSY" and "in use" in str(e) for e in busy)
    assert len(ok) + len(busy) == 300
    # The state is exactly what len(ok) sequential steps give.
    q = np.zeros(n, np.float32)
    with swiftadam.Adam([q], lr=1e-3) as ref:
        for _ in range(len(ok)):
            ref.step([g])
        assert ref.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"] == len(ok)
    assert p.tobytes() == q.tobytes()
    opt.close()
