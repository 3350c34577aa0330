"""SwiftAdam stepped from Python through the `swiftadam` package, one process per run.

usage: python python_step.py WORKLOAD THREADS  ->  same columns as bench_adam.c
"""
import os
import sys
import time

from workloads import make_arrays, report


def main() -> None:
    wl, threads = sys.argv[1], int(sys.argv[2])
    os.environ["SWIFTADAM_NUM_THREADS"] = str(threads)   # read once, when the library loads
    import swiftadam

    ps, gs, total = make_arrays(wl)
    reps = 30 if total >= (8 << 20) else 300 if total >= 100_000 else 20000
    opt = swiftadam.Adam(ps, lr=1e-3)
    best = float("inf")
    step = opt.step
    for _ in range(reps):
        t0 = time.perf_counter()
        step(gs)
        best = min(best, time.perf_counter() - t0)
    report("python", wl, threads, best, total, swiftadam.backend())


if __name__ == "__main__":
    main()
