"""The benchmark workloads (same as bench_adam.c), their arrays, and the one output line
every runner prints, shared by the Python runners."""
import resource
import time

import numpy as np

WORKLOADS = {"large": (1, 16 << 20), "group": (40, 27000), "small": (1, 4096), "tiny": (1000, 100)}


def make_arrays(wl):
    """Params (ones) and fixed grads for workload `wl`, allocated by numpy as a user's are
    (no alignment beyond malloc's): (params, grads, total elements)."""
    ntens, n = WORKLOADS[wl]
    rng = np.random.default_rng(0)
    ps = [np.ones(n, np.float32) for _ in range(ntens)]
    gs = [rng.standard_normal(n).astype(np.float32) * 1e-2 for _ in range(ntens)]
    return ps, gs, ntens * n


def stats(samples):
    """(best, median, p90) with nearest-rank percentiles, as benchmarks/stats.h."""
    s = sorted(samples)
    return s[0], s[(len(s) - 1) // 2], s[int(0.9 * (len(s) - 1) + 0.5)]


def time_steps(step, total, samples):
    """ns/param of `step()` over `samples` samples after a 10 % warm-up. A sample is one
    step for large workloads, the mean of a block of steps lasting ~50 us for small ones
    (so the clock's own cost stays out of the figure)."""
    per_block = 1 if total >= 100_000 else 200_000 // total
    out = []
    clock = time.perf_counter
    for r in range(-(samples // 10) - 1, samples):
        t0 = clock()
        for _ in range(per_block):
            step()
        t = clock() - t0
        if r >= 0:
            out.append(t / per_block / total * 1e9)
    return out


def report(impl, wl, threads, samples, total, backend="-"):
    """One line in bench_adam.c's column order."""
    best, median, p90 = stats(samples)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{impl} {wl} {threads} {best:.4f} {median:.4f} {p90:.4f} {median * total * 1e-3:.3f} "
          f"{rss:.1f} {backend}")
