"""SwiftAdam stepped from Python through the `swiftadam` package, one process per run.

usage: python python_step.py WORKLOAD THREADS [list|flat]  ->  same columns as bench_adam.c
`list` steps with opt.step(list of grads); `flat` with opt.step_flat(one packed buffer).
Params and grads are ordinary numpy arrays (workloads.make_arrays).
"""
import os
import sys

import numpy as np

from workloads import make_arrays, report, time_steps


def main() -> None:
    wl, threads = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "list"
    os.environ["SWIFTADAM_NUM_THREADS"] = str(threads)   # read once, when the library loads
    import swiftadam

    ps, gs, total = make_arrays(wl)
    samples = 60 if total >= (8 << 20) else 600 if total >= 100_000 else 2000
    opt = swiftadam.Adam(ps, lr=1e-3)
    if mode == "flat":
        flat = np.concatenate(gs)
        step, arg = opt.step_flat, flat
    else:
        step, arg = opt.step, gs
    times = time_steps(lambda: step(arg), total, samples)
    report("python" if mode == "list" else "python-flat", wl, threads, times, total, swiftadam.backend())


if __name__ == "__main__":
    main()
