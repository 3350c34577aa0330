"""Data-parallel Adam over MPI with the optimizer state sharded across ranks (ZeRO stage 1).

    from mpi4py import MPI
    from swiftadam.distributed import ZeroAdam
    opt = ZeroAdam(params, lr=1e-3)          # same arguments as swiftadam.Adam, plus comm=
    ...
    opt.step(grads)                          # every rank: its own grads of its part of the batch

Launch with ``mpiexec -n 4 python -m mpi4py train.py`` (``-m mpi4py`` makes an uncaught
exception abort the whole job instead of leaving the other ranks waiting).

One step on every rank:

1. the ranks agree on a small signature (tensor count, None pattern, step kind, flags,
   hyperparameters) with one ``allgather`` of a digest; a mismatch or an exception on any
   rank raises on every rank before any data moves;
2. ``Reduce_scatter`` (SUM) of the flat gradient: rank r receives only elements
   ``[start_r, stop_r)`` of the sum, then divides them once by the world size;
3. the native kernel steps only that shard: a local :class:`swiftadam.Adam` per param group
   whose params are 1-D views of the fragments of the user's arrays in the shard (updated
   in place, each fragment a tensor with its tensor's step count);
4. ``Allgatherv`` of the updated shards, so every rank's arrays hold identical bits.

Partition: the params are laid end to end in one flat range of N elements, split as evenly
as possible (the first ``N % world`` ranks get one element more), DeepSpeed's way. Memory
and kernel time are balanced to the element whatever the tensor sizes; a tensor may span
ranks. Whole-tensor partitions (torch's ZeroRedundancyOptimizer) cannot balance a model
whose largest tensor holds most of the params, and the flat range is exactly what
``Reduce_scatter``/``Allgatherv`` move. Adam is elementwise and its scalars depend only on
the tensor's step count, so stepping a fragment gives the bits of stepping the whole tensor.

Averaging: ``grad = fl(sum) / world`` -- MPI's SUM in MPI's order, then ONE correctly rounded
IEEE division by the world size (not a multiplication by ``1/world``, which rounds twice when
``1/world`` is not a power of two, nor a division of every rank's grad before the sum, which
rounds ``world`` times and can underflow). With one rank the grads are used as given.
MPI does not promise the order of a floating-point SUM; each element is reduced on one rank
only, so every rank still ends with identical params, and :attr:`ZeroAdam.grad_shard` shows
the averaged gradient this rank used.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time

import numpy as np

try:
    from mpi4py import MPI
except ImportError as _e:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "swiftadam.distributed needs mpi4py and an MPI library: pip install swiftadam[mpi] "
        "(or: pip install mpi4py mpich)"
    ) from _e

from .optim import Adam

__all__ = ["ZeroAdam", "ZeroAdamW", "CollectiveError", "MANIFEST"]

_HYPER = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")
MANIFEST = "manifest.json"
_FORMAT = "swiftadam-zero-checkpoint"
_SHARD_RE = re.compile(r"^shard-.*\.ckpt(\.tmp)?$")


class CollectiveError(RuntimeError):
    """Raised on every rank whose peers failed or disagreed before a collective step, save
    or load (the rank that failed raises its own exception)."""


# ---- agreement: one small allgather before any data moves -----------------------------


def _digest(sig):
    return hashlib.blake2b(repr(sig).encode(), digest_size=16).digest()


def _agree(comm, what, error=None, sig=None):
    """Every rank calls this with its own local error (or None) and signature (a dict of
    named fields). Returns normally on every rank, or raises on every rank: the failing
    rank its own exception, the others CollectiveError naming the failure."""
    if comm.Get_size() == 1:  # no peer to wait for
        if error is not None:
            raise error
        return
    mine = None if error is None else f"{type(error).__name__}: {error}"
    replies = comm.allgather((mine, None if error is not None else _digest(sig)))
    failed = [(r, msg) for r, (msg, _) in enumerate(replies) if msg is not None]
    if failed:
        if error is not None:
            raise error
        r, msg = failed[0]
        raise CollectiveError(f"{what} failed on rank {r} ({msg}); raised on every rank")
    if len({d for _, d in replies}) == 1:
        return
    sigs = comm.allgather(sig)  # every rank saw the mismatch, so every rank is here
    diffs = []
    for field in sigs[0]:
        values = [s.get(field) for s in sigs]
        if any(v != values[0] for v in values):
            shown = ", ".join(f"rank {r}: {_short(v)}" for r, v in enumerate(values))
            diffs.append(f"{field} ({shown})")
    raise CollectiveError(f"{what}: the ranks disagree on " + "; ".join(diffs))


def _short(v, limit=120):
    s = repr(v)
    return s if len(s) <= limit else s[:limit] + "..."


def _none_pattern(mask):
    return tuple(int(i) for i in np.flatnonzero(mask)) if mask is not None else None


# ---- params: validation and layout ----------------------------------------------------


def _split_params(params):
    """torch's param-group rules: a list of arrays (one group) or of dicts."""
    if isinstance(params, np.ndarray):
        raise TypeError("params must be a list of numpy arrays or of param-group dicts, got a "
                        "single numpy.ndarray: wrap it, [p]")
    if isinstance(params, (set, frozenset)):
        raise TypeError("params must be an ordered collection (a list), not a set")
    items = list(params)
    if not items:
        raise ValueError("optimizer got an empty parameter list")
    if all(isinstance(x, dict) for x in items):
        groups = []
        for i, g in enumerate(items):
            if "params" not in g:
                raise ValueError(f"param group {i} has no 'params' key")
            ps = g["params"]
            ps = [ps] if isinstance(ps, np.ndarray) else list(ps)
            if not ps:
                raise ValueError(f"param group {i} has no params")
            unknown = set(g) - set(_HYPER) - {"params"}
            if unknown:
                raise ValueError(f"param group {i} has unknown keys {sorted(map(str, unknown))}")
            groups.append(dict(g, params=ps))
        return groups
    if any(isinstance(x, dict) for x in items):
        raise TypeError("params must be all arrays or all param-group dicts, not a mix")
    return [{"params": items}]


def _probe(dtype, hyper, ctx):
    """Validate hyperparameters (and that swiftadam.Adam accepts this dtype) exactly as
    swiftadam.Adam does, by building one with an empty param: every rank can check every
    group, whether or not its shard holds a part of it."""
    try:
        Adam([np.empty(0, dtype)], **hyper).close()
    except (TypeError, ValueError) as e:
        raise type(e)(f"{e}{ctx}") from None


def _normalize(hyper):
    """Plain floats and bools: what the ranks compare and the manifest records."""
    return {"lr": float(hyper["lr"]), "betas": tuple(float(b) for b in hyper["betas"]),
            "eps": float(hyper["eps"]), "weight_decay": float(hyper["weight_decay"]),
            "amsgrad": bool(hyper["amsgrad"]), "maximize": bool(hyper["maximize"]),
            "decoupled_weight_decay": bool(hyper["decoupled_weight_decay"])}


def _hyper_fields(hyper):
    """Signature fields, one per group and key, so a mismatch names the very value."""
    return {f"param_groups[{i}][{k!r}]": v for i, h in enumerate(hyper) for k, v in sorted(h.items())}


def _address(a):
    return a.__array_interface__["data"][0]


def _check_arrays(arrays):
    """Every param a C-contiguous, aligned, writeable ndarray of one dtype, none sharing
    memory with another. Returns the dtype."""
    dtype = None
    spans = []
    for k, p in enumerate(arrays):
        where = f"params[{k}]"
        if not isinstance(p, np.ndarray):
            raise TypeError(f"{where} is a {type(p).__qualname__}, not a numpy.ndarray "
                            "(params are updated in place, never copied)")
        if dtype is None:
            dtype = p.dtype
        elif p.dtype != dtype:
            raise TypeError(f"{where} is {p.dtype} but params[0] is {dtype}: all params must "
                            "have one dtype (they travel as one flat MPI buffer)")
        if not (p.flags.c_contiguous and p.flags.aligned and p.flags.writeable):
            raise ValueError(f"{where} must be C-contiguous, aligned and writeable (shape "
                             f"{p.shape}, strides {p.strides}); it is updated in place")
        if p.size:
            spans.append((_address(p), _address(p) + p.nbytes, k))
    spans.sort()
    for (_, end, i), (start, _, j) in zip(spans, spans[1:]):
        if start < end:
            raise ValueError(f"params[{min(i, j)}] and params[{max(i, j)}] share memory; every "
                             "param must have its own")
    return dtype


def _flat_view(arrays, dtype, n):
    """One writeable 1-D view of all the arrays if they lie end to end, in order, in one
    ndarray's memory (e.g. views of one flat buffer); else None."""
    live = [a for a in arrays if a.size]
    if not live:
        return None
    roots = set()
    for a in live:
        r = a
        while isinstance(r.base, np.ndarray):
            r = r.base
        roots.add(id(r))
    if len(roots) != 1 or not r.flags.c_contiguous:
        return None
    pos = _address(live[0])
    for a in live:
        if _address(a) != pos:
            return None
        pos += a.nbytes
    off = _address(live[0]) - _address(r)
    raw = r.reshape(-1).view(np.uint8)
    return raw[off:off + n * dtype.itemsize].view(dtype)


def _partition(n, world):
    """Boundaries b[0..world]: rank r owns flat elements [b[r], b[r+1])."""
    base, extra = divmod(n, world)
    return [r * base + min(r, extra) for r in range(world + 1)]


def _fragments(offsets, sizes, start, stop):
    """(tensor, first, last) element ranges of the tensors that overlap [start, stop)."""
    out = []
    for k, (o, n) in enumerate(zip(offsets, sizes)):
        a, b = max(start, o), min(stop, o + n)
        if a < b:
            out.append((k, a - o, b - o))
    return out


class _Local:
    """The part of one param group that this rank steps: a swiftadam.Adam over 1-D views of
    the fragments, and where their grads lie in the rank's shard."""

    __slots__ = ("group", "opt", "frags", "lo", "hi")

    def __init__(self, group, opt, frags, lo, hi):
        self.group, self.opt, self.frags, self.lo, self.hi = group, opt, frags, lo, hi


class ZeroAdam:
    r"""Adam over MPI with its state sharded across the ranks of ``comm`` (ZeRO stage 1).

    ``ZeroAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
    amsgrad=False, *, maximize=False, decoupled_weight_decay=False, comm=None)``

    Every rank constructs it with the same params (arrays of identical shapes and dtype,
    usually the same initial values) and the same hyperparameters; ``comm`` defaults to
    ``MPI.COMM_WORLD``. Params follow :class:`swiftadam.Adam`'s rules (C-contiguous,
    aligned, writeable, updated in place, any dtype ``swiftadam.Adam`` accepts) plus one
    dtype for all. Each rank holds the Adam state of ``N / world`` elements only: 8 bytes
    per element for float32 (12 with amsgrad), so ``8 N / world`` bytes per rank.

    ``param_groups`` (torch's list of dicts) carries the hyperparameters; a change (an lr
    schedule) applies at the next step and must be made on every rank alike.

    Params laid end to end in one array's memory (views of one flat buffer) are gathered in
    place; otherwise the gather goes through one N-element scratch buffer and is copied
    into the arrays. The same holds for grads passed to :meth:`step` (or use
    :meth:`step_flat`).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False, comm=None):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        self._setup(params, defaults, comm)

    # ---- construction (collective) ----

    def _setup(self, params, defaults, comm):
        self._locals = None  # closed until built
        if comm is not None and not isinstance(comm, MPI.Intracomm):
            raise TypeError(f"comm must be an mpi4py MPI.Intracomm (e.g. MPI.COMM_WORLD), got "
                            f"{type(comm).__qualname__}")
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self._lock = threading.Lock()
        err = sig = None
        try:
            groups = _split_params(params)
            arrays = [p for g in groups for p in g["params"]]
            dtype = _check_arrays(arrays)
            _probe(dtype, {}, f" (params: dtype {dtype})")
            for i, g in enumerate(groups):
                for k, v in defaults.items():
                    g.setdefault(k, v)
                _probe(dtype, {k: g[k] for k in _HYPER}, f" (param_groups[{i}])")
            self._build(groups, arrays, dtype)
            self.defaults = dict(defaults) if defaults else dict(self._pushed[0])
            sig = {"dtype": str(dtype), "shapes": tuple(p.shape for p in arrays),
                   "params per group": tuple(len(g["params"]) for g in groups),
                   **_hyper_fields(self._pushed)}
        except Exception as e:
            err = e
            self._free_locals()
        try:
            _agree(self.comm, f"{type(self).__name__}()", err, sig)
        except BaseException:
            self._free_locals()
            raise

    def _build(self, groups, arrays, dtype):
        self.param_groups = groups
        self.dtype = dtype
        self._mpi = MPI.Datatype.fromcode(dtype.char)  # predefined (MPI.FLOAT...): SUM works on it
        self._arrays = arrays
        self._flat_arrays = [p.reshape(-1) for p in arrays]
        self._sizes = [int(p.size) for p in arrays]
        self._offsets = np.concatenate([[0], np.cumsum(self._sizes, dtype=np.int64)])[:-1].tolist()
        self._group_of = [gi for gi, g in enumerate(groups) for _ in g["params"]]
        self.numel = sum(self._sizes)
        self.world, self.rank = self.comm.Get_size(), self.comm.Get_rank()
        self.partition = _partition(self.numel, self.world)
        self.shard = (self.partition[self.rank], self.partition[self.rank + 1])
        self._counts = [b - a for a, b in zip(self.partition, self.partition[1:])]
        self._steps = np.zeros(len(arrays), dtype=np.int64)
        self._pushed = [_normalize(g) for g in groups]
        self._amsgrad = [h["amsgrad"] for h in self._pushed]
        self._in_place = _flat_view(arrays, dtype, self.numel)
        self._scratch = None
        self._grad = np.zeros(self._counts[self.rank], dtype)
        self.grad_shard = self._grad
        self.last_step_seconds = {}
        self._locals = []
        start = self.shard[0]
        frags = _fragments(self._offsets, self._sizes, *self.shard)
        for gi in range(len(groups)):
            mine = [f for f in frags if self._group_of[f[0]] == gi]
            if not mine:
                continue
            views = [self._flat_arrays[k][a:b] for k, a, b in mine]
            lo = self._offsets[mine[0][0]] + mine[0][1] - start
            opt = Adam(views, **self._pushed[gi])
            self._locals.append(_Local(gi, opt, mine, lo, lo + sum(b - a for _, a, b in mine)))

    # ---- life cycle ----

    def _free_locals(self):
        locs, self._locals = getattr(self, "_locals", None), None
        for loc in locs or ():
            loc.opt.close()

    def close(self):
        """Free this rank's native state (local; idempotent)."""
        self._free_locals()

    @property
    def closed(self):
        return self._locals is None

    def _require_open(self):
        if self._locals is None:
            raise ValueError(f"this {type(self).__name__} optimizer is closed")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def in_place(self):
        """True if the params lie end to end in one array's memory, so the all-gather
        writes into them directly (no scratch buffer, no copy)."""
        return self._in_place is not None

    def state_nbytes(self):
        """Bytes of Adam state (moments) this rank holds: 8 per shard element for float32
        (12 with amsgrad), excluding the native 64-byte padding per tensor."""
        self._require_open()
        return sum((3 if self._amsgrad[loc.group] else 2) * (b - a) * self.dtype.itemsize
                   for loc in self._locals for _, a, b in loc.frags)

    def tensor_steps(self):
        """Every tensor's step count (identical on every rank)."""
        return self._steps.tolist()

    # ---- hyperparameters ----

    def _collect_hyper(self):
        """Validate the param_groups changed since the last step; return the normalized
        values of every group (nothing is pushed yet)."""
        if len(self.param_groups) != len(self._pushed):
            raise ValueError(f"param_groups has {len(self.param_groups)} groups, the optimizer "
                             f"manages {len(self._pushed)} (groups cannot be added)")
        out = []
        for i, (g, old) in enumerate(zip(self.param_groups, self._pushed)):
            try:
                cur = {k: g[k] for k in _HYPER}
            except KeyError as e:
                raise ValueError(f"param_groups[{i}] lacks the key {e.args[0]!r}") from None
            try:
                same = _normalize(cur) == old
            except (TypeError, ValueError):
                same = False
            if not same:
                _probe(self.dtype, cur, f" (param_groups[{i}])")
                cur = _normalize(cur)
                if cur["amsgrad"] != self._amsgrad[i]:
                    raise ValueError(f"param_groups[{i}]['amsgrad'] cannot change after the "
                                     f"optimizer is created (it was {self._amsgrad[i]})")
            out.append(cur if not same else old)
        return out

    def _push_hyper(self, hyper):
        self._pushed = hyper
        for loc in self._locals:
            loc.opt.param_groups[0].update(hyper[loc.group])

    # ---- step ----

    def _scratch_buf(self):
        if self._scratch is None:
            self._scratch = np.empty(self.numel, self.dtype)
        return self._scratch

    def _pack(self, grads):
        """(flat send buffer, None mask) from a list of grads; validates everything."""
        if isinstance(grads, np.ndarray):
            raise TypeError("grads must be a list with one grad per param (None to skip one), "
                            "got a single numpy.ndarray: wrap it, opt.step([g]), or use step_flat")
        grads = list(grads)
        if len(grads) != len(self._arrays):
            raise ValueError(f"expected {len(self._arrays)} grads (one per param, in order, None "
                             f"to skip a param), got {len(grads)}")
        mask = np.array([g is None for g in grads], dtype=bool)
        if not mask.any() and all(type(g) is np.ndarray and g.dtype == self.dtype
                                  and g.shape == p.shape for g, p in zip(grads, self._arrays)):
            flat = _flat_view(grads, self.dtype, self.numel) if all(
                g.flags.c_contiguous for g in grads) else None
            if flat is not None:
                return flat, None
        arrays = []
        for k, (g, p) in enumerate(zip(grads, self._arrays)):
            if g is None:
                arrays.append(None)
                continue
            try:
                a = np.asarray(g)
            except Exception as e:
                raise TypeError(f"grads[{k}] cannot be read as an array: {e}") from None
            if a.dtype.kind not in "fiub":
                raise TypeError(f"grads[{k}] has dtype {a.dtype}; a grad must be real numbers")
            if a.shape != p.shape:
                raise ValueError(f"grads[{k}] has shape {a.shape} but params[{k}] has shape {p.shape}")
            arrays.append(a)
        send = self._scratch_buf()
        for a, o, n in zip(arrays, self._offsets, self._sizes):
            if a is None:
                send[o:o + n] = 0  # never used: the tensor is skipped on every rank
            else:
                send[o:o + n] = a.reshape(-1)
        return send, (mask if mask.any() else None)

    def step(self, grads, *, skip_if_nonfinite=False):
        """One data-parallel Adam step. Call it on every rank with that rank's grads (one per
        param, in order; converted like :meth:`swiftadam.Adam.step`), e.g. the grads of its
        part of the batch; the step uses their average over the ranks.

        ``None`` skips a param (its step count does not advance) and must then be passed by
        EVERY rank: ``None`` on some ranks but not others raises CollectiveError on every
        rank (a rank without a grad usually means the ranks ran different models; treating
        it as zero would silently change the average). ``skip_if_nonfinite=True``: if any
        AVERAGED grad element holds NaN/Inf (on any rank's shard), nothing changes on any
        rank and False is returned (one extra small allreduce).

        A wrong grad or hyperparameter on any rank raises on every rank before any data
        moves: the failing rank its TypeError/ValueError, the others CollectiveError; the
        params and state are unchanged everywhere. Returns True if the step ran."""
        return self._step("step", grads, skip_if_nonfinite)

    def step_flat(self, flat_grad, *, skip_if_nonfinite=False):
        """:meth:`step` with every grad packed into one C-contiguous array of the params'
        dtype and N elements (params in order, as ``np.concatenate([g.ravel() ...])``):
        sent as it is, no copy. Every param is stepped."""
        return self._step("step_flat", flat_grad, skip_if_nonfinite)

    def _exclusive(self, call, *args):
        """Run a collective call; a second thread arriving meanwhile gets RuntimeError (its
        MPI calls would interleave with the first one's)."""
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(f"{type(self).__name__}: {call.__name__.strip('_')} called while "
                               "another thread is in a collective call of this optimizer")
        try:
            return call(*args)
        finally:
            self._lock.release()

    def _step(self, kind, grads, skip):
        return self._exclusive(self._step_locked, kind, grads, bool(skip))

    def _step_locked(self, kind, grads, skip):
        t0 = time.perf_counter()
        err = sig = None
        send = mask = None
        try:
            self._require_open()  # inside: a closed rank makes every rank raise, not wait
            if kind == "step":
                send, mask = self._pack(grads)
            else:
                g = grads
                if type(g) is not np.ndarray or g.dtype != self.dtype:
                    raise TypeError(f"flat_grad must be a {self.dtype} numpy.ndarray, got "
                                    f"{getattr(g, 'dtype', type(g).__qualname__)}")
                if not (g.flags.c_contiguous and g.flags.aligned) or g.size != self.numel:
                    raise ValueError(f"flat_grad must be C-contiguous with {self.numel} elements "
                                     f"(all params together), got shape {g.shape}")
                send = g.reshape(-1)
            hyper = self._collect_hyper()
            sig = {"call": kind, "skip_if_nonfinite": skip, "None grads at": _none_pattern(mask),
                   **_hyper_fields(hyper)}
        except Exception as e:
            err = e
        t1 = time.perf_counter()
        _agree(self.comm, f"{type(self).__name__}.{kind}()", err, sig)
        t2 = time.perf_counter()

        world = self.world
        if world > 1:
            self.comm.Reduce_scatter([send, self._mpi], [self._grad, self._mpi], self._counts, MPI.SUM)
            np.divide(self._grad, self.dtype.type(world), out=self._grad)
            self.grad_shard = self._grad
        else:
            self.grad_shard = send
        t3 = time.perf_counter()
        if skip:
            finite = bool(np.isfinite(self.grad_shard).all())
            if world > 1:
                finite = self.comm.allreduce(finite, op=MPI.LAND)
            if not finite:
                self.last_step_seconds = {"pack": t1 - t0, "agree": t2 - t1,
                                          "reduce_scatter": t3 - t2}
                return False
        self._push_hyper(hyper)
        failure = None
        try:
            self._step_shard(mask)
        except Exception as e:  # cannot happen after validation short of a library failure
            failure = e
        t4 = time.perf_counter()
        if world > 1:
            self._gather()
        t5 = time.perf_counter()
        if failure is not None:
            # The gather ran, so every rank holds the same params; this rank's state may be
            # partly stepped. Raised here only (the peers have finished the step).
            raise failure
        self._steps += 1 if mask is None else ~mask
        self.last_step_seconds = {"pack": t1 - t0, "agree": t2 - t1, "reduce_scatter": t3 - t2,
                                  "kernel": t4 - t3, "all_gather": t5 - t4}
        return True

    def _step_shard(self, mask):
        g = self.grad_shard
        for loc in self._locals:
            if mask is None or not mask[[k for k, _, _ in loc.frags]].any():
                loc.opt.step_flat(g[loc.lo:loc.hi])
                continue
            views, pos = [], loc.lo
            for k, a, b in loc.frags:
                views.append(None if mask[k] else g[pos:pos + b - a])
                pos += b - a
            loc.opt.step(views)

    def _gather(self):
        spec = [self._counts, self.partition[:-1], self._mpi]
        if self._in_place is not None:
            self.comm.Allgatherv(MPI.IN_PLACE, [self._in_place] + spec)
            return
        buf = self._scratch_buf()
        start = self.shard[0]
        for k, a, b in (f for loc in self._locals for f in loc.frags):
            o = self._offsets[k] - start
            buf[start + o + a:start + o + b] = self._flat_arrays[k][a:b]
        self.comm.Allgatherv(MPI.IN_PLACE, [buf] + spec)
        for flat, o, n in zip(self._flat_arrays, self._offsets, self._sizes):
            flat[:] = buf[o:o + n]

    # ---- sharded checkpoints ----

    def save(self, directory):
        """Write a sharded checkpoint into ``directory`` (collective: every rank calls it
        with the same path, on a filesystem every rank sees).

        Each rank writes its shard with the native atomic writer (``swiftadam.Adam.save``:
        temporary file, fsync, rename, directory fsync), one file per param group it holds;
        once every shard is durable, rank 0 writes ``manifest.json`` (world size, partition,
        hyperparameters, tensor sizes and step counts, each shard's file, size and sha256)
        atomically the same way. The manifest is the commit point: a crash at any moment
        leaves the previous checkpoint loadable. Shard files of older saves are removed
        after the commit. Params are not saved (save your model separately)."""
        return self._exclusive(self._save_locked, os.path.abspath(os.fspath(directory)))

    def _save_locked(self, directory):
        comm = self.comm
        err = sig = None
        try:
            self._require_open()
            hyper = self._collect_hyper()
            self._push_hyper(hyper)
            os.makedirs(directory, exist_ok=True)
            sig = {"directory": directory, **_hyper_fields(self._pushed)}
        except Exception as e:
            err = e
        _agree(comm, f"{type(self).__name__}.save()", err, sig)
        tag = comm.bcast(_new_tag(directory) if self.rank == 0 else None, root=0)
        shards, err = [], None
        try:
            for loc in self._locals:
                name = f"shard-{tag}-r{self.rank}-g{loc.group}.ckpt"
                path = os.path.join(directory, name)
                loc.opt.save(path)
                with open(path, "rb") as fh:
                    data = fh.read()
                shards.append({"rank": self.rank, "group": loc.group, "file": name,
                               "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                               "fragments": [list(f) for f in loc.frags]})
        except Exception as e:
            err = e
        reports = comm.gather((None if err is None else f"{type(err).__name__}: {err}", shards), root=0)
        outcome = None
        if self.rank == 0:
            failed = [(r, m) for r, (m, _) in enumerate(reports) if m is not None]
            if failed:
                outcome = f"writing the shard of rank {failed[0][0]} failed ({failed[0][1]})"
            else:
                try:
                    _commit(directory, self._manifest(tag, [s for _, ss in reports for s in ss]))
                except Exception as e:
                    outcome = f"writing the manifest failed ({type(e).__name__}: {e})"
        outcome = comm.bcast(outcome, root=0)
        if outcome is not None:
            if err is not None:
                raise err
            raise CollectiveError(f"{type(self).__name__}.save({directory!r}): {outcome}; the "
                                  "previous checkpoint (if any) is still the valid one")

    def _manifest(self, tag, shards):
        return {
            "format": _FORMAT, "version": 1, "tag": tag, "world_size": self.world,
            "dtype": str(self.dtype), "numel": self.numel, "partition": self.partition,
            "groups": [dict(h, betas=list(h["betas"])) for h in self._pushed],
            "tensors": [{"shape": list(p.shape), "size": n, "group": g, "step": int(s)}
                        for p, n, g, s in zip(self._arrays, self._sizes, self._group_of, self._steps)],
            "shards": shards,
        }

    @classmethod
    def load(cls, directory, params, comm=None, **overrides):
        """A new optimizer for ``params`` (a list of arrays, all groups in order) from the
        sharded checkpoint in ``directory`` (collective). The world size may differ from
        the one that saved: each rank reads the shards that overlap its new range and
        checks their sizes and sha256 against the manifest (and the native reader its own
        checksums). Hyperparameters, groups and step counts come from the manifest;
        keyword arguments (lr, betas, eps, weight_decay, maximize, decoupled_weight_decay)
        override them for every group. Any failure on any rank raises on every rank."""
        unknown = set(overrides) - set(_HYPER)
        if unknown:
            raise TypeError(f"unexpected keyword arguments {sorted(unknown)}; allowed: {list(_HYPER)}")
        comm = MPI.COMM_WORLD if comm is None else comm
        directory = os.path.abspath(os.fspath(directory))
        if comm.Get_rank() == 0:
            try:
                reply = (None, _read_manifest(directory))
            except Exception as e:
                reply = (f"{type(e).__name__}: {e}", None)
        else:
            reply = None
        msg, man = comm.bcast(reply, root=0)
        if msg is not None:
            raise CollectiveError(f"{cls.__name__}.load({directory!r}): {msg}")
        self = cls.__new__(cls)
        err = None
        try:
            groups = _groups_from_manifest(man, params, overrides)
        except Exception as e:
            err, groups = e, None
        _agree(comm, f"{cls.__name__}.load()", err, {"directory": directory})
        self._setup(groups, {}, comm)
        err = None
        try:
            self._restore(directory, man)
        except Exception as e:
            err = e
        try:
            _agree(comm, f"{cls.__name__}.load()", err, {"restored": True})
        except BaseException:
            self._free_locals()
            raise
        return self

    def _restore(self, directory, man):
        """Fill this rank's local optimizers from the old shards that overlap its range."""
        steps = [t["step"] for t in man["tensors"]]
        sizes = [t["size"] for t in man["tensors"]]
        if sizes != self._sizes or man["numel"] != self.numel:
            raise ValueError("the params' sizes differ from the checkpoint's")
        # For every tensor fragment of this rank: moment arrays to fill, elements filled.
        want = {k: (a, b) for loc in self._locals for k, a, b in loc.frags}
        moments, filled = {}, {k: 0 for k in want}
        for sh in man["shards"]:
            hits = [(j, k, a, b) for j, (k, a, b) in enumerate(sh["fragments"])
                    if k in want and a < want[k][1] and want[k][0] < b]
            if not hits:
                continue
            old = _read_shard(directory, sh, self.dtype)
            try:
                st = old.state_dict()["state"]
            finally:
                old.close()
            for j, k, a, b in hits:
                entry = st.get(j)
                if int(entry["step"] if entry else 0) != steps[k]:
                    raise ValueError(f"shard {sh['file']}: tensor {k} has step "
                                     f"{int(entry['step']) if entry else 0}, the manifest says {steps[k]}")
                lo, hi = max(a, want[k][0]), min(b, want[k][1])
                filled[k] += hi - lo
                if entry is None:
                    continue
                dst = moments.setdefault(k, {})
                for key, arr in entry.items():
                    if key == "step":
                        continue
                    if key not in dst:
                        dst[key] = np.zeros(want[k][1] - want[k][0], arr.dtype)
                    dst[key][lo - want[k][0]:hi - want[k][0]] = arr.reshape(-1)[lo - a:hi - a]
        for k, (a, b) in want.items():
            if filled[k] != b - a:
                raise ValueError(f"the checkpoint's shards cover {filled[k]} of the {b - a} "
                                 f"elements of tensor {k} that rank {self.rank} needs")
        for loc in self._locals:
            state = {}
            for j, (k, _, _) in enumerate(loc.frags):
                if steps[k]:
                    state[j] = dict(moments[k], step=float(steps[k]))
            group = dict(self._pushed[loc.group], params=list(range(len(loc.frags))))
            loc.opt.load_state_dict({"state": state, "param_groups": [group]})
        self._steps[:] = steps


class ZeroAdamW(ZeroAdam):
    """:class:`ZeroAdam` with decoupled weight decay and AdamW's default ``weight_decay=1e-2``
    (as :class:`swiftadam.AdamW`)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, comm=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True, comm=comm)


# ---- checkpoint files -----------------------------------------------------------------


def _new_tag(directory):
    """A name prefix no earlier save in ``directory`` used: generation + random."""
    gen = 0
    try:
        with open(os.path.join(directory, MANIFEST)) as fh:
            gen = int(json.load(fh)["tag"].split("-")[0]) + 1
    except Exception:
        pass
    return f"{gen:06d}-{secrets.token_hex(4)}"


def _fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(directory, manifest):
    """Atomically replace the manifest (temporary file, fsync, rename, directory fsync),
    then remove the shard files it does not name."""
    path = os.path.join(directory, MANIFEST)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(directory)
    keep = {s["file"] for s in manifest["shards"]}
    for name in os.listdir(directory):
        if _SHARD_RE.match(name) and name not in keep:
            try:
                os.remove(os.path.join(directory, name))
            except OSError:
                pass  # a leftover is harmless: the next save tries again


def _read_manifest(directory):
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path) as fh:
            man = json.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint in {directory} ({MANIFEST} missing)") from None
    except ValueError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    try:
        if man["format"] != _FORMAT or man["version"] != 1:
            raise ValueError(f"{path} is not a version-1 {_FORMAT} manifest")
        n = int(man["numel"])
        tensors = man["tensors"]
        if sum(int(t["size"]) for t in tensors) != n or n < 0:
            raise ValueError("tensor sizes do not add up to numel")
        if len(man["partition"]) != int(man["world_size"]) + 1 or man["partition"][-1] != n:
            raise ValueError("the partition does not cover numel")
        for h in man["groups"]:
            _normalize(h)  # every hyperparameter present and of the right kind
        for t in tensors:
            if not (0 <= int(t["group"]) < len(man["groups"])) or int(t["step"]) < 0:
                raise ValueError(f"bad tensor entry {t!r}")
        for sh in man["shards"]:
            if not _SHARD_RE.match(sh["file"]) or os.path.basename(sh["file"]) != sh["file"]:
                raise ValueError(f"bad shard file name {sh['file']!r}")
            for k, a, b in sh["fragments"]:
                if not (0 <= k < len(tensors) and 0 <= a < b <= int(tensors[k]["size"])):
                    raise ValueError(f"bad fragment {[k, a, b]!r} in {sh['file']}")
            int(sh["bytes"]), str(sh["sha256"])
    except (KeyError, TypeError, IndexError) as e:
        raise ValueError(f"{path} is malformed ({type(e).__name__}: {e})") from None
    return man


def _read_shard(directory, sh, dtype):
    """The old shard as a swiftadam.Adam over scratch params, after checking its size and
    sha256 against the manifest."""
    path = os.path.join(directory, sh["file"])
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) != sh["bytes"] or hashlib.sha256(data).hexdigest() != sh["sha256"]:
        raise ValueError(f"{path} does not match the manifest (size {len(data)}, expected "
                         f"{sh['bytes']}; or its sha256 differs): torn or replaced shard")
    scratch = [np.empty(b - a, dtype) for _, a, b in sh["fragments"]]
    return Adam.from_bytes(data, scratch)


def _groups_from_manifest(man, params, overrides):
    if isinstance(params, np.ndarray):
        params = [params]
    params = list(params)
    tensors = man["tensors"]
    if len(params) != len(tensors):
        raise ValueError(f"the checkpoint holds {len(tensors)} tensors, {len(params)} params given")
    for k, (p, t) in enumerate(zip(params, tensors)):
        if not isinstance(p, np.ndarray) or list(p.shape) != t["shape"]:
            raise ValueError(f"params[{k}] has shape {getattr(p, 'shape', None)}, the checkpoint's "
                             f"tensor {k} has shape {tuple(t['shape'])}")
        if str(p.dtype) != man["dtype"]:
            raise TypeError(f"params[{k}] is {p.dtype}, the checkpoint is {man['dtype']}")
    groups = []
    for gi, h in enumerate(man["groups"]):
        if "amsgrad" in overrides and bool(overrides["amsgrad"]) != bool(h["amsgrad"]):
            raise ValueError(f"amsgrad={overrides['amsgrad']} differs from the checkpoint's "
                             f"amsgrad={h['amsgrad']}, which cannot change")
        g = {k: h[k] for k in _HYPER}
        g["betas"] = tuple(g["betas"])
        g.update(overrides)
        g["params"] = [p for p, t in zip(params, tensors) if t["group"] == gi]
        groups.append(g)
    if [t["group"] for t in tensors] != sorted(t["group"] for t in tensors):
        raise ValueError("the checkpoint's groups are not in tensor order")
    return groups
