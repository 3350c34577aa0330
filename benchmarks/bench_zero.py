#!/usr/bin/env python3
"""`make bench`, distributed part: ZeroAdam on 2 ranks vs one process stepping everything.

    python benchmarks/bench_zero.py --mpiexec .venv/bin/mpiexec [--numel 16777216] [--steps 20]

Prints, for 16M float32 params: time per step split into its phases (packing the grads
into one buffer, agreement, reduce-scatter incl. the division, kernel on the shard,
all-gather incl. copies back into separate arrays), the
bytes each rank sends per step, the Adam state resident per rank (RSS growth around the
optimizer's construction), and the same for swiftadam.Adam stepping all params in one
process with 1 and 2 kernel threads. Figures only: nothing here passes or fails.

Two layouts: the params as ONE array (gathered in place) and as 4 separate arrays (the
all-gather goes through a scratch buffer and is copied back). Each rank runs the kernel
on one thread (SWIFTADAM_NUM_THREADS=1): 2 ranks x 1 thread use the machine's 2 cores.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

PHASES = ("pack", "agree", "reduce_scatter", "kernel", "all_gather")


def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make_params(n, pieces):
    sizes = [n // pieces] * pieces
    sizes[-1] += n - sum(sizes)
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s, dtype=np.float32) for s in sizes]


def worker(n, steps):
    from mpi4py import MPI
    from swiftadam.distributed import ZeroAdam
    comm = MPI.COMM_WORLD
    out = []
    for pieces in (1, 4):
        params = make_params(n, pieces)
        grads = [np.random.default_rng((comm.rank, i)).standard_normal(p.size, dtype=np.float32)
                 for i, p in enumerate(params)]
        ZeroAdam([np.zeros(16, np.float32)]).close()  # one-time MPI/code-path costs first
        comm.Barrier()
        before = rss()
        opt = ZeroAdam(params, lr=1e-3)
        state_rss = rss() - before
        times = {k: [] for k in PHASES + ("total",)}
        for i in range(steps + 3):
            comm.Barrier()
            t0 = time.perf_counter()
            opt.step(grads)
            total = time.perf_counter() - t0
            if i >= 3:
                for k in PHASES:
                    times[k].append(opt.last_step_seconds[k])
                times["total"].append(total)
        row = {k: statistics.median(v) for k, v in times.items()}
        world = comm.Get_size()
        shard = opt.shard[1] - opt.shard[0]
        # Reduce-scatter: every element of this rank's grads owned by another rank leaves it
        # once (N - N_r); all-gather: this rank's shard reaches the world-1 others (ring and
        # pairwise algorithms forward as much as they receive: N - N_r again).
        row.update(rank=comm.rank, world=world, pieces=pieces, shard=shard, in_place=opt.in_place,
                   state_rss=state_rss, state_bytes=opt.state_nbytes(),
                   sent=2 * (n - shard) * 4)
        out.append(row)
        opt.close()
        del opt, params, grads  # before the next layout's RSS measurement
    rows = comm.gather(out, root=0)
    if comm.rank == 0:
        print("JSON " + json.dumps(rows))


def single(n, steps):
    import swiftadam
    p = make_params(n, 1)[0]
    g = np.random.default_rng(1).standard_normal(n, dtype=np.float32)
    swiftadam.Adam([np.zeros(16, np.float32)]).close()
    before = rss()
    opt = swiftadam.Adam([p], lr=1e-3)
    state_rss = rss() - before
    ts = []
    for i in range(steps + 3):
        t0 = time.perf_counter()
        opt.step([g])
        if i >= 3:
            ts.append(time.perf_counter() - t0)
    print("JSON " + json.dumps({"total": statistics.median(ts), "state_rss": state_rss}))


def run_json(cmd, env):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
    return json.loads(next(line[5:] for line in r.stdout.splitlines() if line.startswith("JSON ")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mpiexec", default=os.path.join(os.path.dirname(sys.executable), "mpiexec"))
    ap.add_argument("--numel", type=int, default=1 << 24)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--role", choices=("worker", "single"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role == "worker":
        return worker(args.numel, args.steps)
    if args.role == "single":
        return single(args.numel, args.steps)

    n, me = args.numel, os.path.abspath(__file__)
    env = dict(os.environ, SWIFTADAM_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    ranks = run_json([args.mpiexec, "-n", str(args.ranks), sys.executable, me, "--role", "worker",
                      "--numel", str(n), "--steps", str(args.steps)], env)
    base = {t: run_json([sys.executable, me, "--role", "single", "--numel", str(n), "--steps",
                         str(args.steps)], dict(env, SWIFTADAM_NUM_THREADS=str(t))) for t in (1, 2)}
    ms = 1e3
    print(f"\nZeroAdam (swiftadam.distributed) vs one process: {n / 2**20:.0f}M float32 params, "
          f"{args.ranks} ranks on {os.cpu_count()} cores, median of {args.steps} steps")
    print("| run | rank | pack ms | agree ms | reduce-scatter ms | kernel ms | all-gather ms | step ms | "
          "MB sent/step | state MiB (RSS) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k in range(len(ranks[0])):
        for rank_rows in ranks:
            r = rank_rows[k]
            label = f"ZeroAdam x{r['world']}, " + ("1 array (in place)" if r["pieces"] == 1
                                                   else f"{r['pieces']} arrays (copied)")
            print(f"| {label} | {r['rank']} | {r['pack'] * ms:.2f} | {r['agree'] * ms:.2f} | {r['reduce_scatter'] * ms:.2f} | "
                  f"{r['kernel'] * ms:.2f} | {r['all_gather'] * ms:.2f} | {r['total'] * ms:.2f} | "
                  f"{r['sent'] / 1e6:.1f} | {r['state_rss'] / 2**20:.1f} |")
    for t, b in base.items():
        print(f"| swiftadam.Adam, one process, {t} thread{'s' if t > 1 else ''} | - | - | - | - | "
              f"{b['total'] * ms:.2f} | - | {b['total'] * ms:.2f} | 0 | {b['state_rss'] / 2**20:.1f} |")
    w = args.ranks
    print(f"\nexpected bytes sent per rank per step: 2 * 4N * (world-1)/world = "
          f"{2 * 4 * n * (w - 1) / w / 1e6:.1f} MB (counted from the collectives' buffers, "
          f"not by MPI counters); expected state per rank 8N/world = {8 * n / w / 2**20:.1f} MiB")
    r0 = ranks[0][0]
    comm_s = r0["reduce_scatter"] + r0["all_gather"]
    print(f"rank 0, 1 array: communication {comm_s * ms:.1f} ms per step = "
          f"{r0['sent'] / comm_s / 1e9:.2f} GB/s sent; kernel on the shard {r0['kernel'] * ms:.1f} ms "
          f"vs {base[1]['total'] * ms:.1f} ms for all params on one thread")


if __name__ == "__main__":
    main()
