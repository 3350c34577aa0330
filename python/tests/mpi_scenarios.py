"""Programs that test_distributed.py runs under mpiexec: python mpi_scenarios.py NAME [ARGS].

Each rank prints lines ``RESULT <json>``; the pytest side reads and checks them. A scenario
also asserts what only it can see (every rank's params identical, bits equal to a replay).
"""
import json
import os
import signal
import sys
import time

import numpy as np
from mpi4py import MPI

import swiftadam
from swiftadam.distributed import CollectiveError, ZeroAdam, ZeroAdamW

COMM = MPI.COMM_WORLD
RANK, WORLD = COMM.Get_rank(), COMM.Get_size()
SHAPES = [(7,), (3, 5), (1,), (0,), (13, 11), (1001,), (2, 3, 5), ()]


def emit(**kw):
    """One result line, to $MPI_RESULTS/rank<r>.jsonl (mpiexec may interleave stdout lines)."""
    line = json.dumps(dict(kw, rank=RANK, world=WORLD))
    out = os.environ.get("MPI_RESULTS")
    if out:
        with open(os.path.join(out, f"rank{RANK}.jsonl"), "a") as fh:
            fh.write(line + "\n")
    else:
        print("RESULT " + line, flush=True)


def bits(arrays):
    return b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)


def same_on_every_rank(arrays):
    mine = bits(arrays)
    return all(x == mine for x in COMM.allgather(mine))


def initial_params(seed=123, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def as_views_of_one_buffer(arrays):
    """The same values as views of one flat buffer, end to end (ZeroAdam's in-place path)."""
    flat = np.concatenate([a.ravel() for a in arrays])
    out, pos = [], 0
    for a in arrays:
        out.append(flat[pos:pos + a.size].reshape(a.shape))
        pos += a.size
    return out


def groups_of(params, second):
    return [{"params": params[:4]}, dict(second, params=params[4:])]


# ---- exactness: replay the averaged grads every rank used in one process ---------------

CONFIGS = {
    "adam": (ZeroAdam, swiftadam.Adam, dict(lr=1e-2, weight_decay=1e-2), dict(lr=3e-3)),
    "adamw": (ZeroAdamW, swiftadam.AdamW, dict(lr=1e-2, weight_decay=5e-2), dict(lr=2e-2, weight_decay=0.0)),
    "amsgrad": (ZeroAdam, swiftadam.Adam, dict(lr=1e-2, amsgrad=True, maximize=True),
                dict(lr=4e-3, betas=(0.8, 0.99), eps=1e-6)),
}
NONE_AT = {3: 2, 7: 5}    # step -> tensor whose grad is None on every rank
FLAT_AT = (1, 6, 9)       # steps that use step_flat
SKIP_AT = 5               # step where the last rank's grad holds Inf, with skip_if_nonfinite


def expected_averages(raw, avg, mask_elems):
    """The documented formula: MPI's SUM in some order, then one division by the world size."""
    w = avg.dtype.type(WORLD)
    if WORLD == 1:
        cands = [raw[0]]
    elif WORLD == 2:
        cands = [(raw[0] + raw[1]) / w]
    else:
        a, b, c = raw
        cands = [((a + b) + c) / w, ((a + c) + b) / w, ((b + c) + a) / w]
    ok = np.zeros(avg.shape, bool)
    same_bits = np.dtype(f"u{avg.itemsize}")
    for cnd in cands:
        ok |= cnd.view(same_bits) == avg.view(same_bits)
    ok |= mask_elems
    return bool(ok.all())


def scenario_exact(dtype="float32"):
    dtype = np.dtype(dtype)
    total_compared = 0
    for name, (zcls, rcls, kw, second) in CONFIGS.items():
        init = initial_params(dtype=dtype)
        in_place = name == "adamw"  # params and grads as views of one buffer each
        params = as_views_of_one_buffer(init) if in_place else [a.copy() for a in init]
        opt = zcls(groups_of(params, second), **kw)
        assert opt.in_place == in_place
        ref_params = [a.copy() for a in init]
        ref = rcls(groups_of(ref_params, second), **kw)
        base_lr = [g["lr"] for g in opt.param_groups]
        sizes = [int(np.prod(s)) for s in SHAPES]
        offsets = np.concatenate([[0], np.cumsum(sizes)])[:-1]
        n = sum(sizes)
        expect_state = (3 if kw.get("amsgrad") else 2) * dtype.itemsize * (opt.shard[1] - opt.shard[0])
        assert opt.state_nbytes() == expect_state, (opt.state_nbytes(), expect_state)
        steps = np.zeros(len(SHAPES), int)
        for t in range(12):
            for g, rg, b in zip(opt.param_groups, ref.param_groups, base_lr):
                g["lr"] = rg["lr"] = b * 0.8 ** t  # an lr schedule, the same on every rank
            rng = np.random.default_rng((RANK, t, 7))
            grads = [(rng.standard_normal(s) * (1 + k)).astype(dtype) for k, s in enumerate(SHAPES)]
            if in_place:
                grads = as_views_of_one_buffer(grads)
            if t in NONE_AT:
                grads[NONE_AT[t]] = None
            skip = t == SKIP_AT
            if skip and RANK == WORLD - 1:
                grads[5][3] = np.inf
            before = bits(params)
            if t in FLAT_AT:
                ran = opt.step_flat(np.concatenate([g.ravel() for g in grads]))
            else:
                ran = opt.step(grads, skip_if_nonfinite=skip)
            assert ran == (not skip), (t, ran)
            if skip:
                assert bits(params) == before, "a skipped step changed the params"
                continue
            mask = np.array([g is None for g in grads])
            raw = COMM.allgather(np.concatenate([np.zeros(sz, dtype) if g is None else g.ravel()
                                                 for g, sz in zip(grads, sizes)]))
            full = np.empty(n, dtype)
            counts = [b - a for a, b in zip(opt.partition, opt.partition[1:])]
            COMM.Allgatherv(np.ascontiguousarray(opt.grad_shard),
                            [full, counts, opt.partition[:-1], MPI.Datatype.fromcode(dtype.char)])
            mask_elems = np.repeat(mask, sizes)
            assert expected_averages(raw, full, mask_elems), f"{name} step {t}: averaging formula"
            ref.step([None if m else full[o:o + sz].reshape(s)
                      for m, o, sz, s in zip(mask, offsets, sizes, SHAPES)])
            steps += ~mask
            assert same_on_every_rank(params), f"{name} step {t}: ranks differ"
            assert bits(params) == bits(ref_params), f"{name} step {t}: differs from the replay"
            total_compared += n
        assert opt.tensor_steps() == steps.tolist(), (opt.tensor_steps(), steps)
        assert bits(params) != bits(init)
        emit(config=name, dtype=str(dtype), numel=n, shard=list(opt.shard), state_bytes=opt.state_nbytes(),
             steps=opt.tensor_steps())
        opt.close()
        ref.close()
    emit(scenario="exact", compared_elements=total_compared)


# ---- no hangs: a bad call on one rank raises on every rank -----------------------------


def scenario_hang(directory):
    params = initial_params()
    opt = ZeroAdam(groups_of(params, {}), lr=1e-2)
    rng = np.random.default_rng(RANK)

    def grads():
        return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]

    last = WORLD - 1

    def wrong_shape():
        g = grads()
        if RANK == last:
            g[4] = np.zeros((11, 13), np.float32)
        opt.step(g)

    def none_on_one_rank():
        g = grads()
        if RANK == 0:
            g[1] = None
        opt.step(g)

    def lr_differs():
        opt.param_groups[1]["lr"] = 1e-2 if RANK == 0 else 2e-2
        try:
            opt.step(grads())
        finally:
            opt.param_groups[1]["lr"] = 1e-2

    def invalid_lr_on_one_rank():
        opt.param_groups[0]["lr"] = -1.0 if RANK == last else 1e-2
        try:
            opt.step(grads())
        finally:
            opt.param_groups[0]["lr"] = 1e-2

    def kind_differs():
        g = grads()
        if RANK == 0:
            opt.step_flat(np.concatenate([x.ravel() for x in g]))
        else:
            opt.step(g)

    def construct_mismatch():
        ps = initial_params()
        if RANK == last:
            ps[0] = np.zeros(8, np.float32)
        ZeroAdam(ps)

    def closed_on_one_rank():
        other = ZeroAdam(initial_params())
        if RANK == last:
            other.close()
        other.step(grads())

    def save_directory_differs():
        opt.save(os.path.join(directory, f"rank{RANK}"))

    cases = [wrong_shape, none_on_one_rank, lr_differs, invalid_lr_on_one_rank, kind_differs,
             construct_mismatch, closed_on_one_rank, save_directory_differs]
    opt.step(grads())
    for case in cases:
        before = bits(params)
        t0 = time.perf_counter()
        try:
            case()
            outcome, msg = "returned", ""
        except Exception as e:
            outcome, msg = type(e).__name__, str(e)
        emit(case=case.__name__, outcome=outcome, message=msg[:300],
             seconds=time.perf_counter() - t0, unchanged=bits(params) == before)
        # The collectives are still in step: a good step works and keeps every rank equal.
        assert opt.step(grads())
        assert same_on_every_rank(params)
    manifests = [name for name in os.listdir(directory) if os.path.exists(os.path.join(directory, name, "manifest.json"))]
    emit(scenario="hang", steps=opt.tensor_steps(), manifests=manifests)


# ---- sharded checkpoints ---------------------------------------------------------------


def replicated_grads(t):
    """The same grads on every rank, with few significant bits: their average over any
    world size (sum of equal terms, then division) is exactly the grad, so runs of
    different world sizes see the same averaged grads."""
    rng = np.random.default_rng((t, 99))
    out = []
    for s in SHAPES:
        q = rng.integers(1, 2048, size=s) * rng.choice([-1, 1], size=s)
        out.append((q * 2.0 ** -11).astype(np.float32))
    return out


def trajectory(params, opt, steps, start):
    """Step t = start .. start+steps-1 with replicated grads and an lr schedule."""
    for t in range(start, start + steps):
        for g in opt.param_groups:
            g["lr"] = 1e-2 * 0.9 ** t
        grads = replicated_grads(t)
        if t % 5 == 3:
            grads[1] = None
        opt.step(grads)


def ckpt_config():
    return dict(lr=1e-2, amsgrad=True, weight_decay=1e-3)


def scenario_ckpt_save(directory, out, k, m):
    """World A: k steps, save, m more steps; also reload in this world and replay the m
    steps; rank 0 also runs plain swiftadam.Adam over all k+m steps."""
    k, m = int(k), int(m)
    params = initial_params()
    opt = ZeroAdam(groups_of(params, {"lr": 5e-3}), **ckpt_config())
    trajectory(params, opt, k, 0)
    opt.save(directory)
    steps_at_save = opt.tensor_steps()
    at_save = [p.copy() for p in params]
    if RANK == 0:
        np.savez(os.path.join(out, "params_at_save.npz"), *at_save)
    trajectory(params, opt, m, k)
    final = [p.copy() for p in params]
    if RANK == 0:
        np.savez(os.path.join(out, "params_final.npz"), *final)
        ref_params = initial_params()
        ref = swiftadam.Adam(groups_of(ref_params, {"lr": 5e-3}), **ckpt_config())
        trajectory(ref_params, ref, k + m, 0)
        assert bits(ref_params) == bits(final), "ZeroAdam differs from swiftadam.Adam"
    resumed = [p.copy() for p in at_save]
    opt2 = ZeroAdam.load(directory, resumed)
    assert opt2.tensor_steps() == steps_at_save, (opt2.tensor_steps(), steps_at_save)
    trajectory(resumed, opt2, m, k)
    assert bits(resumed) == bits(final), "same-world reload differs"
    with open(os.path.join(directory, "manifest.json")) as fh:
        man = json.load(fh)
    emit(scenario="ckpt_save", manifest_world=man["world_size"], shards=len(man["shards"]),
         files=sorted(os.listdir(directory)), same_world_identical=True)


def scenario_ckpt_load(directory, out, k, m, save_to="", m_save="0"):
    """Another world size: load the checkpoint saved after k steps, run the m steps, compare
    with the saving world's final params; optionally save again after m_save steps."""
    k, m, m_save = int(k), int(m), int(m_save)
    with np.load(os.path.join(out, "params_at_save.npz")) as z:
        params = [z[f"arr_{i}"].copy() for i in range(len(SHAPES))]
    with np.load(os.path.join(out, "params_final.npz")) as z:
        final = [z[f"arr_{i}"] for i in range(len(SHAPES))]
    opt = ZeroAdam.load(directory, params)
    assert opt.param_groups[1]["lr"] == 1e-2 * 0.9 ** (k - 1)  # the lr in force at the save
    if save_to:
        trajectory(params, opt, m_save, k)
        opt.save(save_to)
        if RANK == 0:
            np.savez(os.path.join(out, "params_at_save2.npz"), *params)
        trajectory(params, opt, m - m_save, k + m_save)
    else:
        trajectory(params, opt, m, k)
    identical = bits(params) == bits(final)
    assert identical, "resumed run differs from the uninterrupted one"
    assert same_on_every_rank(params)
    emit(scenario="ckpt_load", identical=identical, steps=opt.tensor_steps())


def scenario_ckpt_resume2(directory, out, k, m):
    """World 1 from the checkpoint that world 3 wrote: continue to the end."""
    k, m = int(k), int(m)
    with np.load(os.path.join(out, "params_at_save2.npz")) as z:
        params = [z[f"arr_{i}"].copy() for i in range(len(SHAPES))]
    with np.load(os.path.join(out, "params_final.npz")) as z:
        final = [z[f"arr_{i}"] for i in range(len(SHAPES))]
    opt = ZeroAdam.load(directory, params)
    trajectory(params, opt, m, k)
    identical = bits(params) == bits(final)
    assert identical, "3 -> 1 resumed run differs"
    emit(scenario="ckpt_resume2", identical=identical)


def scenario_ckpt_bad(directory, good):
    """Loads that must fail on every rank: a flipped byte in a shard, wrong params, no
    manifest."""
    outcomes = {}
    params = initial_params()
    for case in ("corrupt", "shape", "missing"):
        try:
            if case == "corrupt":
                ZeroAdam.load(directory, params)
            elif case == "shape":
                ps = [p.copy() for p in params]
                ps[5] = np.zeros(1000, np.float32)
                ZeroAdam.load(good, ps)
            else:
                ZeroAdam.load(os.path.join(directory, "nowhere"), params)
            outcomes[case] = "loaded"
        except Exception as e:
            outcomes[case] = f"{type(e).__name__}: {e}"[:200]
    emit(scenario="ckpt_bad", outcomes=outcomes)


# ---- kill during saves: the directory always holds a loadable, correct checkpoint ------


def scenario_kill_saver(directory):
    params = initial_params()
    opt = ZeroAdam(groups_of(params, {"lr": 5e-3}), **ckpt_config())
    t = 0
    while True:
        trajectory(params, opt, 1, t)
        t += 1
        opt.save(directory)  # the manifest after save number t holds the state after t steps
        if t == 1:
            emit(scenario="kill_saver", ready=True)


def scenario_kill_check(directory):
    with open(os.path.join(directory, "manifest.json")) as fh:
        steps = max(json.load(fh)["tensors"][0]["step"], 0)
    # The state after `steps` steps, computed from scratch in this process.
    ref_params = initial_params()
    ref = swiftadam.Adam(groups_of(ref_params, {"lr": 5e-3}), **ckpt_config())
    trajectory(ref_params, ref, steps, 0)
    params = [p.copy() for p in ref_params]
    opt = ZeroAdam.load(directory, params)
    trajectory(params, opt, 2, steps)
    trajectory(ref_params, ref, 2, steps)
    identical = bits(params) == bits(ref_params)
    emit(scenario="kill_check", steps=steps, identical=identical, files=sorted(os.listdir(directory)))


# ---- state memory ----------------------------------------------------------------------


def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def scenario_memory(n):
    n = int(n)
    p = np.zeros(n, np.float32)
    ZeroAdam([np.zeros(16, np.float32)]).close()  # one-time costs (MPI buffers, code paths) first
    COMM.Barrier()
    before = rss_bytes()
    opt = ZeroAdam([p])
    after = rss_bytes()
    emit(scenario="memory", numel=n, shard=opt.shard[1] - opt.shard[0], rss_delta=after - before,
         state_bytes=opt.state_nbytes())


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    globals()["scenario_" + sys.argv[1]](*sys.argv[2:])
