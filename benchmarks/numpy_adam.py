"""Textbook Adam in numpy (the baseline a numpy user would write), one process per run.

usage: python numpy_adam.py WORKLOAD  ->  prints: numpy WORKLOAD 1 ns_per_param gb_s us_per_step rss_mb -
"""
import resource
import sys
import time

import numpy as np

WORKLOADS = {"large": (1, 16 << 20), "group": (40, 27000), "small": (1, 4096), "tiny": (1000, 100)}


def main() -> None:
    wl = sys.argv[1]
    ntens, n = WORKLOADS[wl]
    total = ntens * n
    reps = 10 if total >= (8 << 20) else 100 if total >= 100_000 else 2000
    rng = np.random.default_rng(0)
    ps = [np.ones(n, np.float32) for _ in range(ntens)]
    gs = [rng.standard_normal(n).astype(np.float32) * 1e-2 for _ in range(ntens)]
    ms = [np.zeros(n, np.float32) for _ in range(ntens)]
    vs = [np.zeros(n, np.float32) for _ in range(ntens)]
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    best = float("inf")
    for t in range(1, reps + 1):
        t0 = time.perf_counter()
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        for p, g, m, v in zip(ps, gs, ms, vs):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (lr / bc1) * m / (np.sqrt(v) / np.sqrt(bc2) + eps)
        best = min(best, time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"numpy {wl} 1 {best / total * 1e9:.4f} {28 * total / best / 1e9:.1f} {best * 1e6:.3f} {rss:.1f} -")


if __name__ == "__main__":
    main()
