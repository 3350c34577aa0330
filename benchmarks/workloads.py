"""The benchmark workloads (same as bench_adam.c) and their arrays, shared by the Python runners."""
import resource

import numpy as np

WORKLOADS = {"large": (1, 16 << 20), "group": (40, 27000), "small": (1, 4096), "tiny": (1000, 100)}


def make_arrays(wl):
    """Params (ones) and fixed grads for workload `wl`: (params, grads, total elements)."""
    ntens, n = WORKLOADS[wl]
    rng = np.random.default_rng(0)
    ps = [np.ones(n, np.float32) for _ in range(ntens)]
    gs = [rng.standard_normal(n).astype(np.float32) * 1e-2 for _ in range(ntens)]
    return ps, gs, ntens * n


def report(impl, wl, threads, best, total, backend="-"):
    """One line in bench_adam.c's column order."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{impl} {wl} {threads} {best / total * 1e9:.4f} {28 * total / best / 1e9:.1f} "
          f"{best * 1e6:.3f} {rss:.1f} {backend}")
