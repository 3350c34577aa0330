#!/usr/bin/env python3
"""Train the digits MLP of demo_digits.py data-parallel over MPI with ZeroAdam.

    mpiexec -n 2 python -m mpi4py examples/demo_ddp.py [--out out] [--epochs 30]
    (make demo-mpi)

Every rank holds the whole model and the same batch order; each rank computes the grads of
its part of every batch (half of it on 2 ranks), and ZeroAdam averages them with a
reduce-scatter, steps its shard of the Adam state and all-gathers the params. The global
batch is the single-process demo's, so the loss curve should follow the single-process
run; rank 0 runs that too (swiftadam.Adam, full batches) and prints how closely they
agree. At the end every rank writes its shard of a checkpoint to <out>/ddp_ckpt.
Exits non-zero if the test accuracy is below demo_digits' 95 % target.
"""
import argparse
import os
import sys
import time

import numpy as np
from mpi4py import MPI
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_digits as digits  # noqa: E402  (the model: init_params, gradients, evaluate)

import swiftadam  # noqa: E402
from swiftadam.distributed import ZeroAdam  # noqa: E402


def rank_grads(params, x, y, n_batch, world):
    """This rank's grads, scaled so that their average over the ranks is the grad of the
    mean loss over the whole batch (ranks' parts may differ by one sample); and the sum
    of the losses of its samples."""
    if len(y) == 0:
        return 0.0, [np.zeros_like(p) for p in params]
    loss, grads = digits.gradients(params, x, y)
    scale = np.float32(len(y) * world / n_batch)
    if scale != 1:
        grads = [g * scale for g in grads]
    return loss * len(y), grads


def train_ddp(comm, params, opt, data, epochs, batch_size, seed):
    rank, world = comm.Get_rank(), comm.Get_size()
    x_train, x_test, y_train, y_test = data
    history = []
    bar = tqdm(range(epochs), desc=f"ZeroAdam x{world}", unit="epoch", file=sys.stdout, ncols=100,
               disable=rank != 0)
    for epoch in bar:
        order = np.random.default_rng((seed, epoch)).permutation(len(x_train))  # demo_digits' order
        sums, sizes = [], []
        for i in range(0, len(order), batch_size):
            batch = order[i:i + batch_size]
            mine = np.array_split(batch, world)[rank]
            loss_sum, grads = rank_grads(params, x_train[mine], y_train[mine], len(batch), world)
            opt.step(grads)
            sums.append(loss_sum)
            sizes.append(len(batch))
        batch_losses = np.array(sums)
        comm.Allreduce(MPI.IN_PLACE, batch_losses)  # one collective per epoch for the log
        train_loss = float(np.mean(batch_losses / np.array(sizes)))
        test_loss, acc = digits.evaluate(params, x_test, y_test)  # params are equal on all ranks
        history.append((epoch + 1, train_loss, test_loss, acc))
        bar.set_postfix(loss=f"{train_loss:.4f}", test_acc=f"{acc:.2%}")
    bar.close()
    return history


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="out")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32, help="the GLOBAL batch (all ranks together)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-compare", action="store_true", help="skip the single-process reference run")
    args = ap.parse_args(argv)
    comm = MPI.COMM_WORLD
    rank, world = comm.Get_rank(), comm.Get_size()
    t0 = time.perf_counter()
    data = digits.load_data(args.seed)
    params = digits.init_params(args.seed)  # the same initial values on every rank
    opt = ZeroAdam(params, lr=args.lr)
    n = sum(p.size for p in params)
    if rank == 0:
        print(f"digits: {len(data[0])} train / {len(data[1])} test images, {world} ranks, global batch "
              f"{args.batch_size} ({args.batch_size // world} per rank); swiftadam {swiftadam.__version__} "
              f"({swiftadam.backend()}), {MPI.Get_library_version().splitlines()[0]}")
    shard = opt.shard[1] - opt.shard[0]
    states = comm.gather((shard, opt.state_nbytes()), root=0)
    if rank == 0:
        print(f"{n} params; Adam state per rank: " + ", ".join(
            f"rank {r}: {s} elements, {b} bytes" for r, (s, b) in enumerate(states))
              + f" (one process would hold {8 * n} bytes)")

    hist = train_ddp(comm, params, opt, data, args.epochs, args.batch_size, args.seed)

    ckpt = os.path.join(args.out, "ddp_ckpt")
    opt.save(ckpt)  # every rank its shard, then rank 0 the manifest
    same = comm.allgather(b"".join(p.tobytes() for p in params))
    failed = 0
    if rank == 0:
        np.savez(os.path.join(args.out, "ddp_model.npz"), *params)
        print(f"sharded checkpoint: {ckpt}: {sorted(os.listdir(ckpt))}")
        print(f"params identical on all {world} ranks: {all(s == same[0] for s in same)}")
        acc = hist[-1][3]
        if not args.no_compare:
            ref_params = digits.init_params(args.seed)
            ref_hist = []
            with swiftadam.Adam(ref_params, lr=args.lr) as ref_opt:
                digits.train("single process", ref_params, ref_opt.step, data, args.epochs,
                             args.batch_size, args.seed, ref_hist)
            rel = [abs(a[1] - b[1]) / b[1] for a, b in zip(hist, ref_hist)]
            worst = int(np.argmax(rel))
            print(f"train loss, ZeroAdam x{world} vs single process (same global batches): epoch 1 "
                  f"{hist[0][1]:.6f} vs {ref_hist[0][1]:.6f}, epoch {args.epochs} {hist[-1][1]:.6f} vs "
                  f"{ref_hist[-1][1]:.6f}; largest relative difference {rel[worst]:.2e} (epoch {worst + 1})")
            print(f"test accuracy: ZeroAdam x{world} {acc:.2%}, single process {ref_hist[-1][3]:.2%}")
        else:
            print(f"test accuracy: ZeroAdam x{world} {acc:.2%}")
        print(f"done in {time.perf_counter() - t0:.1f} s")
        if acc < digits.TARGET_ACCURACY:
            print(f"FAIL: test accuracy {acc:.2%} < {digits.TARGET_ACCURACY:.0%}", file=sys.stderr)
            failed = 1
    return comm.bcast(failed, root=0)


if __name__ == "__main__":
    sys.exit(main())
