"""Textbook Adam in numpy (the baseline a numpy user would write), one process per run.

usage: python numpy_adam.py WORKLOAD  ->  same columns as bench_adam.c
"""
import sys

import numpy as np

from workloads import make_arrays, report, time_steps


def main() -> None:
    wl = sys.argv[1]
    ps, gs, total = make_arrays(wl)
    samples = 10 if total >= (8 << 20) else 100 if total >= 100_000 else 200
    ms = [np.zeros_like(p) for p in ps]
    vs = [np.zeros_like(p) for p in ps]
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    t = 0

    def step():
        nonlocal t
        t += 1
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        for p, g, m, v in zip(ps, gs, ms, vs):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (lr / bc1) * m / (np.sqrt(v) / np.sqrt(bc2) + eps)

    report("numpy", wl, 1, time_steps(step, total, samples), total)


if __name__ == "__main__":
    main()
