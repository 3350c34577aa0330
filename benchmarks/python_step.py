"""SwiftAdam stepped from Python through the `swiftadam` package, one process per run.

usage: python python_step.py WORKLOAD THREADS  ->  same columns as bench_adam.c
"""
import os
import resource
import sys
import time

import numpy as np

WORKLOADS = {"large": (1, 16 << 20), "group": (40, 27000), "small": (1, 4096), "tiny": (1000, 100)}


def main() -> None:
    wl, threads = sys.argv[1], int(sys.argv[2])
    os.environ["SWIFTADAM_NUM_THREADS"] = str(threads)   # read once, when the library loads
    import swiftadam

    ntens, n = WORKLOADS[wl]
    total = ntens * n
    reps = 30 if total >= (8 << 20) else 300 if total >= 100_000 else 20000
    rng = np.random.default_rng(0)
    ps = [np.ones(n, np.float32) for _ in range(ntens)]
    gs = [rng.standard_normal(n).astype(np.float32) * 1e-2 for _ in range(ntens)]
    opt = swiftadam.Adam(ps, lr=1e-3)
    best = float("inf")
    step = opt.step
    for _ in range(reps):
        t0 = time.perf_counter()
        step(gs)
        best = min(best, time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"python {wl} {threads} {best / total * 1e9:.4f} {28 * total / best / 1e9:.1f} {best * 1e6:.3f} {rss:.1f} {swiftadam.backend()}")


if __name__ == "__main__":
    main()
