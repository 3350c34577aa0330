"""``swiftadam.Adam`` and ``swiftadam.AdamW``: torch.optim's API over libSwiftAdam."""
from __future__ import annotations

import copy
import ctypes
import functools
import operator
import threading

import numpy as np

from . import _bindings as _b
from . import _checks
from ._checks import direct_address as _direct_address
from ._native import (
    MAX_STEP as _MAX_STEP,
    MOMENTS as _MOMENTS,
    NO_FLAGS as _NO_FLAGS,
    SKIP_NONFINITE as _SKIP_NONFINITE,
    EXTENSIONS as _EXTENSIONS,
    F32 as _F32,
    HALF as _HALF,
    Hyper,
    NativeState,
    address as _address,
)
from ._errors import check as _check

__all__ = ["Adam", "AdamW"]

_ndarray = np.ndarray
_c_void_p = ctypes.c_void_p
_bisect = _checks._bisect

# ---- param groups ------------------------------------------------------------------------

_HOW = ("the params of a param group are fixed when it is created. To step other arrays in "
        "their place (same shapes and dtypes; they keep the moments and step counts of their "
        "position), pass them to opt.step(grads, params=[...]); to add params, use "
        "opt.add_param_group({'params': [...]})")


def _refuse(*_args, **_kwargs):
    raise TypeError(f"a param group's params cannot be changed: {_HOW}")


class ParamList(list):
    """``param_groups[i]["params"]``: a list that refuses every change (TypeError saying
    what to do instead), so that no edit is accepted and then ignored. (A group's dict
    is torch's plain dict: assigning another list to its "params" key is refused by the
    next call that would use it.)"""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self):
        return ParamList, (list(self),)


def _param_group(group, params):
    """A copy of the dict ``group`` whose "params" are ``params`` (a ParamList)."""
    return {**group, "params": params}


def _stored(hyper, group):
    """The snapshot of a group whose values are ``hyper`` (a state just opened from a
    checkpoint): whatever else ``group`` holds differs from it, and is validated and pushed
    at the next step."""
    return {**hyper.group_items(), "params": group["params"]}


def _replaced(i):
    return ValueError(f"param_groups[{i}]['params'] was replaced or removed, which SwiftAdam does not "
                      f"follow: {_HOW}. Nothing was done")


class _Group:
    """The optimizer's side of one param group: its native state, the hyperparameters last
    pushed to it, and the params it steps with their pointer arrays.

    ``bound`` is an upper bound of the step counts of its tensors, so that a step over
    several groups can see that none is at the limit without asking the library per tensor.
    The single-tensor fast path does not maintain it (one native call is all-or-nothing by
    itself); Adam.add_param_group refreshes it when that path stops being taken."""

    __slots__ = ("state", "n", "cn", "first", "shapes", "sizes", "nbytes", "gptrs", "shape0", "csize0",
                 "dtype", "mask", "step_tensor", "step_group", "params", "pptrs", "p0", "below0", "end0",
                 "hyper", "pushed", "bound", "half", "step_f32grad", "nbytes32")

    def __init__(self, state, params, first, hyper, pushed):
        self.state = state
        self.n = len(params)
        self.cn = ctypes.c_size_t(self.n)
        self.first = first  # flat index of params[0] among all the optimizer's params
        self.shapes = tuple(p.shape for p in params)
        self.sizes = tuple(int(p.size) for p in params)
        self.nbytes = tuple(int(p.nbytes) for p in params)
        self.gptrs = (_c_void_p * self.n)()
        self.shape0 = self.shapes[0]
        self.csize0 = ctypes.c_size_t(self.sizes[0])
        self.dtype = state.dtype
        self.mask = state.dtype.itemsize - 1  # a grad's address must be a multiple of its itemsize
        self.step_tensor, self.step_group = state.kind.step_tensor, state.kind.step
        # 16-bit params (float32 master weights): grads of their dtype or float32, no single-tensor call
        self.half = state.dtype in _HALF
        self.step_f32grad = state.kind.step_f32grad
        self.nbytes32 = tuple(4 * n for n in self.sizes)  # the byte sizes of float32 grads
        self.bind(params)
        self.adopt(hyper, pushed)
        self.bound = 0

    def bind(self, params):
        """Step ``params`` (a ParamList of checked arrays with this group's shapes) from now on."""
        self.params = params  # also keeps the arrays (and so their memory) alive
        addrs = [_address(p) for p in params]
        self.pptrs = (_c_void_p * self.n)(*addrs)
        self.p0 = _c_void_p(addrs[0])
        # a grad at address a overlaps params[0] iff below0 < a < end0 (never when it is empty)
        self.below0 = addrs[0] - self.nbytes[0]
        self.end0 = addrs[0] + self.nbytes[0]

    def adopt(self, hyper, pushed):
        """Record the hyperparameters now in the native config, and a snapshot of the group
        they came from (a step validates and pushes again when the group differs from it)."""
        self.hyper = hyper
        self.pushed = pushed

    def steps(self):
        """Every tensor's step count (one library call each); refreshes ``bound``."""
        steps = self.state.steps()
        self.bound = max(steps)
        return steps

    def grad_dtype(self, grads):
        """The dtype a 16-bit group's grads are passed in this step: the params' dtype if every
        grad given is an ndarray of it, else float32 (the others are widened to it, exactly)."""
        dtype = self.dtype
        for g in grads:
            if g is not None and (type(g) is not _ndarray or g.dtype is not dtype):
                return _F32
        return dtype


def _flat_layout(groups, key):
    """(key, total elements, [(group, byte offsets of its grads, writable view of its grad
    pointer array)]) for Adam.step_flat."""
    layout = []
    start = 0
    for nat in groups:
        sizes = np.asarray(nat.sizes, dtype=np.uintp)
        ends = np.cumsum(sizes, dtype=np.uintp)
        offsets = (ends - sizes + np.uintp(start)) * np.uintp(nat.dtype.itemsize)
        layout.append((nat, offsets, np.frombuffer(nat.gptrs, dtype=np.uintp)))
        start += int(ends[-1]) if len(ends) else 0
    return key, start, layout


def _skipped(rc, nat, grads):
    """The status of a native step of ``nat``: False if it ran (counted in ``nat.bound``),
    True if SWIFTADAM_STEP_SKIPPED; raises SwiftAdamError on an error."""
    if rc == 0:
        nat.bound += 1
        return False
    if rc < 0:
        _step_failed(rc, nat, grads)
    return True


def _refuse_step_limit(nat, grads):
    """Raise OVERFLOW naming the first param of ``nat`` at the step limit that this step
    would update (``grads`` None: every one); asks the library for the exact counts."""
    for j, s in enumerate(nat.steps()):
        if s >= _MAX_STEP and (grads is None or grads[nat.first + j] is not None):
            raise _checks.step_limit_error(nat.first + j)


def _step_failed(rc, nat, grads):
    """Raise the error of a failed native step, naming a param as the caller knows it."""
    if rc == _b.SWIFTADAM_ERR_OVERFLOW:
        _refuse_step_limit(nat, grads)
    _check(rc, "swiftadam_step")


def _exclusive(method):
    """Run ``method`` holding the optimizer's guard, or raise SWIFTADAM_ERR_BUSY at once if
    another thread holds it: the library's own rule for one state, extended to the whole
    optimizer so that a step over several groups, and the pointer arrays it fills, belong
    to one call."""
    call = f"Adam.{method.__name__}"

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        lock = self._lock
        if not lock.acquire(False):
            raise _checks.busy(self, call)
        try:
            return method(self, *args, **kwargs)
        finally:
            lock.release()

    return guarded


class Adam:
    r"""The Adam optimizer with torch.optim.Adam's API and semantics, running in libSwiftAdam.

    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
    *, maximize=False, decoupled_weight_decay=False, bias_correction=True, flavor="torch",
    strict_grads=False)``

    For each param ``p`` with gradient ``g`` and its own step count ``t`` (a param whose
    grad is ``None`` in a step is not touched and its ``t`` does not advance), one
    :meth:`step` computes, in the params' dtype with the scalar factors in float64::

        t      = t + 1
        g      = -g if maximize else g
        if weight_decay != 0 and not decoupled_weight_decay:  g = g + weight_decay * p   (L2)
        if weight_decay != 0 and decoupled_weight_decay:      p = p * (1 - lr * weight_decay)  (AdamW)
        m      = beta1 * m + (1 - beta1) * g                  (exp_avg, as torch's lerp)
        v      = beta2 * v + (1 - beta2) * g * g              (exp_avg_sq)
        vhat   = max(vmax, v) stored into vmax if amsgrad else v   (max_exp_avg_sq)
        denom  = sqrt(vhat) / sqrt(1 - beta2**t) + eps        (bias_correction=False: / 1)
        p      = p - lr / (1 - beta1**t) * m / denom          (bias_correction=False: - lr * m / denom)

    ``flavor="keras"`` computes Keras 3's Adam instead (also scikit-learn's ``eps``
    placement), scalars in the params' dtype: ``m += (g - m) * (1 - beta1)``,
    ``v += (g*g - v) * (1 - beta2)``, ``p -= m * lr * sqrt(1 - beta2**t) / (1 - beta1**t)
    / (sqrt(vhat) + eps)`` (include/swiftadam.h has the exact order). The flavour may
    change between steps (``param_groups[i]["flavor"]``).

    Params: a list of numpy arrays, or a list of dicts ``{"params": [...], "lr": ..., ...}``
    (param groups with their own hyperparameters; missing keys take the constructor's
    values, exactly like torch). Each param must be a ``float32``, ``float64``, ``float16``
    or ``ml_dtypes.bfloat16`` (with ``swiftadam[bf16]``), C-contiguous, aligned, writeable
    ``numpy.ndarray``, one dtype per group; it is updated IN PLACE and never copied, so anything else is rejected
    (TypeError/ValueError saying how to fix it). The optimizer keeps references
    to the arrays. Params may be empty; two params may not overlap in memory.

    The arrays of a group are fixed when it is created: ``param_groups[i]["params"]`` is a
    list that refuses every change (TypeError), and a group whose "params" key was assigned
    another list is refused by the next step (ValueError); nothing is ignored. Code whose
    arrays change identity (``w = w - lr * g``, ``np.clip``, ``astype``) passes them to
    ``step(grads, params=[...])``: they are stepped in place of the old ones, with the
    moments and step counts of their position, and become the group's params. New params
    go in with :meth:`add_param_group`, with fresh state, as in torch.

    ``opt.param_groups`` is a list of dicts with keys ``params, lr, betas, eps,
    weight_decay, amsgrad, maximize, decoupled_weight_decay``, plus ``bias_correction``
    (DeepSpeed's name) and ``flavor`` where they were set: a group without one of them
    means torch's behaviour, so torch-layout groups and state dicts stay as torch writes them.
    Changing a value between steps (learning-rate schedules) takes effect at the next step.
    ``amsgrad`` cannot change after creation (ValueError at the next step).

    Grads: C-contiguous aligned arrays of their param's dtype and shape are read where they
    are; any other real array (the other float dtype, integers, bool, non-contiguous, lists)
    is converted with ``np.require(g, param.dtype, ["C", "A"])``, a copy per step (for
    16-bit params: to float32 unless every grad of the group has the params' dtype).
    ``strict_grads=True`` raises TypeError instead of converting (the attribute
    ``opt.strict_grads`` may change).

    float16/bfloat16 params (mixed precision as apex and DeepSpeed do it): the group's
    state holds float32 master weights, made from the params at construction, and float32
    moments; each step updates the master exactly as a float32 Adam fed the same grads
    (float32, or the 16-bit grads widened exactly) would, then writes it rounded to nearest
    even into the params. The master is the source of truth: a step overwrites whatever
    the param arrays hold (also arrays passed to ``step(params=)``), and loading a state
    dict or checkpoint overwrites them with the loaded master's rounding.
    :meth:`master_params` returns copies of the masters; ``state_dict()`` has them under
    ``"fp32_from_fp16"`` (apex's FP16_Optimizer name) and checkpoints, pickles and copies
    carry them. A grad is passed as its param's dtype or as float32 (a group whose grads
    are not all of the params' dtype passes them all as float32, converted);
    ``step(grad_scale=)`` unscales inside the kernel.

    Each param group holds one native state (``swiftadam_create``); release them with
    :meth:`close` (or ``with swiftadam.Adam(...) as opt:``); ``__del__`` does it too.

    Threads: one optimizer may be shared. A call (step, step_flat, state_dict,
    load_state_dict, save, to_bytes, add_param_group, close, copying) runs alone or raises
    SwiftAdamError ``SWIFTADAM_ERR_BUSY`` at once, as the library does for one state; calls
    are not queued. A step over several groups updates all of them or, on any error, none.

    Copies: ``copy.deepcopy(opt)`` is an independent optimizer (new native states with the
    same steps, moments and hyperparameters) over deep copies of the params, taken through
    deepcopy's memo like any object graph. Pickling works the same way (the state travels
    as checkpoint bytes, one per group). ``copy.copy(opt)`` raises TypeError: a shallow
    copy would step the same arrays as the original with a second state.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False, bias_correction=True,
                 flavor="torch", strict_grads=False):
        values = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
                      bias_correction=bias_correction, flavor=flavor)
        _checks.hyper(**values)
        self._setup({k: v for k, v in values.items() if k not in _EXTENSIONS or v != _EXTENSIONS[k]},
                    strict_grads)
        for group in _checks.split_groups(params):
            self.add_param_group(group)

    def _setup(self, defaults, strict_grads):
        """The attributes of every optimizer, however it is made (constructor, load,
        from_bytes, unpickling); param groups then come one by one through :meth:`_append`."""
        self._lock = threading.Lock()  # the guard of every call: see _exclusive
        self._groups = []  # one _Group per param group; None once closed
        self._single = None  # the _Group when there is one group of one tensor (fast path)
        self._flat_cache = None  # step_flat's pointer layout, rebuilt when the groups change
        self._index = ([], [], [])  # the params' memory ranges: see _checks.overlapped_param
        self._vindex = None  # the same as arrays, for many params: see _checks.vector_overlap
        self._vkey = None  # the grad byte sizes _vindex was built for (16-bit groups: 2 or 4 per element)
        self._count = 0
        self.defaults = defaults
        self.strict_grads = bool(strict_grads)
        self.param_groups = []

    def _all_params(self):
        return [p for nat in self._groups for p in nat.params]

    def _append(self, group, state, hyper, pushed, ranges=None):
        """Make ``group`` (a dict whose "params" is a ParamList of checked arrays), stepped through the open native
        ``state`` whose config holds ``hyper`` (pushed from the group values ``pushed``), the
        last param group. ``ranges``: the param ranges with the new params, if known."""
        params = group["params"]
        if ranges is None:
            ranges = _checks.param_ranges(self._all_params() + params)
        if self._single is not None:
            self._single.steps()  # its bound was not kept by the fast path
        nat = _Group(state, params, self._count, hyper, pushed)
        self._groups.append(nat)
        self.param_groups.append(group)
        self._index = _checks.range_index(ranges)
        self._vindex = None
        self._count += nat.n
        self._single = nat if self._count == 1 and not nat.half else None

    # ---- construction ----

    @_exclusive
    def add_param_group(self, param_group):
        """Add a param group (a dict with "params" and optional hyperparameters), as torch's
        ``add_param_group``. Its params come after all existing ones in ``step``'s grads."""
        self._require_open()
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__qualname__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' key")
        gi = len(self.param_groups)
        params = ParamList(_checks.param_list(param_group["params"], gi))
        for j, p in enumerate(params):
            _checks.param(p, self._count + j)
        ranges = _checks.param_ranges(self._all_params() + params)
        group = _param_group(param_group, params)
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        ctx = f" (param_groups[{gi}])" if gi or len(param_group) > 1 else ""
        hyper = _checks.group_hyper(group, ctx=ctx)
        state = NativeState.create([p.size for p in params], hyper, _checks.group_dtype(params, self._count), params)
        self._append(group, state, hyper, _checks.snapshot(group), ranges)

    # ---- life cycle ----

    def _require_open(self):
        if self._groups is None:
            raise ValueError(f"this {type(self).__name__} optimizer is closed")

    @_exclusive
    def close(self):
        """Free the native states. Idempotent; the optimizer cannot be used afterwards.
        (Closing while another thread is inside a call on this optimizer raises
        SWIFTADAM_ERR_BUSY and leaves it open.)"""
        groups, self._groups = self._groups, None
        self._single = None
        failed = 0
        for nat in groups or ():
            rc = nat.state.free()
            if rc < 0 and not failed:
                failed = rc
        if failed:
            _check(failed, "swiftadam_free")

    @property
    def closed(self):
        return self._groups is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # ---- copies and pickles ----

    def __copy__(self):
        raise TypeError(
            f"copy.copy() of a {type(self).__name__} optimizer is not supported: the copy would "
            "update the same param arrays as the original, with a second state. Use "
            "copy.deepcopy() (an independent optimizer over copies of the params, e.g. together "
            "with the model: copy.deepcopy((model, opt))) or state_dict()/load_state_dict()"
        )

    @_exclusive
    def __getstate__(self):
        # The native state of each group as checkpoint bytes; params and param_groups go
        # through the pickler's (or deepcopy's) memo, so shared arrays stay shared.
        self._require_open()
        self._check_groups()
        return {"defaults": self.defaults, "strict_grads": self.strict_grads, "param_groups": self.param_groups,
                "states": [nat.state.serialize() for nat in self._groups]}

    def __setstate__(self, state):
        self._setup(state["defaults"], state["strict_grads"])
        for group, blob in zip(state["param_groups"], state["states"], strict=True):
            params = group["params"]
            for j, p in enumerate(params):
                _checks.param(p, self._count + j)
            _checks.group_dtype(params, self._count)
            native = NativeState.deserialize(blob, [p.size for p in params])
            _checks.state_dtype(native, params, "swiftadam_deserialize")
            hyper = native.hyper()
            if type(params) is not ParamList:
                group["params"] = ParamList(params)
            self._append(group, native, hyper, _stored(hyper, group))
        self.param_groups = state["param_groups"]  # the very list and dicts pickled along with us

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)

    # ---- hyperparameters: push what changed in param_groups ----

    def _collect_changes(self):
        """Validate every group that differs from the snapshot taken when it was last pushed;
        return what to push. Nothing is changed here."""
        if len(self.param_groups) != len(self._groups):
            self._check_groups()
        changes = None
        for i, (group, nat) in enumerate(zip(self.param_groups, self._groups)):
            if type(group) is not dict or group.get("params") is not nat.params:
                self._check_groups()  # raises, unless a dict subclass holds the right params
            try:
                changed = group != nat.pushed
            except Exception:  # e.g. betas given as a numpy array: compare after validation
                changed = True
            if changed:
                try:
                    values = _checks.group_values(group)
                except KeyError as e:
                    raise ValueError(f"param_groups[{i}] lacks the key {e.args[0]!r}") from None
                hyper = _checks.hyper(*values, ctx=f" (param_groups[{i}])")
                if hyper.amsgrad != nat.hyper.amsgrad:
                    raise ValueError(
                        f"param_groups[{i}]['amsgrad'] cannot change after the optimizer is "
                        f"created (it was {nat.hyper.amsgrad}; the max_exp_avg_sq buffer is allocated "
                        "once): create a new optimizer instead"
                    )
                if changes is None:
                    changes = []
                changes.append((nat, group, hyper))
        return changes

    def _check_groups(self):
        """param_groups must still list this optimizer's groups, each with its params."""
        if len(self.param_groups) != len(self._groups):
            raise ValueError(f"opt.param_groups has {len(self.param_groups)} groups but the optimizer "
                             f"manages {len(self._groups)}: add groups with add_param_group()")
        for i, (group, nat) in enumerate(zip(self.param_groups, self._groups)):
            if not isinstance(group, dict):
                raise TypeError(f"param_groups[{i}] must be a dict, got {type(group).__qualname__}")
            if group.get("params") is not nat.params:
                raise _replaced(i)

    @staticmethod
    def _push(changes):
        for nat, group, hyper in changes:
            nat.state.set_hyper(hyper, nat.hyper)
            nat.adopt(hyper, _checks.snapshot(group))

    def _sync_hyperparameters(self):
        changes = self._collect_changes()
        if changes:
            self._push(changes)

    # ---- step ----

    def step(self, grads, *, params=None, skip_if_nonfinite=False, grad_scale=None):
        """One Adam step on every param, in place.

        ``grads``: a list with one entry per param, in the order of the params across all
        groups. An entry may be ``None``: that param is skipped (not updated, its step count
        does not advance), as torch skips params whose ``.grad`` is None. A grad must have
        its param's shape and must not share memory with any param; C-contiguous grads of
        the param's dtype are used as they are, anything else is converted with
        ``np.require(g, param.dtype, ["C", "A"])`` (a copy), or with ``strict_grads`` refused.

        ``params``: the arrays to step instead of the optimizer's, one per param in the same
        order (as many, each with its param's shape and dtype, checked as at creation), for
        code that replaces its arrays. Param k keeps its moments and step count. Once the
        call is accepted (it returns, True or False), these arrays are the groups' params
        (``param_groups[i]["params"]``, checkpoints, copies); on an error nothing changes.

        ``skip_if_nonfinite=True``: if any grad holds NaN or +-Inf, nothing at all is
        changed and ``False`` is returned (torch's GradScaler). Otherwise returns ``True``.

        ``grad_scale``: the loss scale the grads carry (GradScaler's scale); every param must
        be float16/bfloat16 (else ValueError). Each grad is multiplied by the float32
        ``inv_scale = (float)(1.0 / grad_scale)`` inside the kernel, GradScaler's unscale_
        fused; with ``skip_if_nonfinite`` a grad that is NaN or +-Inf after unscaling
        (found_inf) skips the step.

        Every argument, and every param's step limit (2^53), is checked before anything
        changes: on an error the params and the optimizer state are untouched, in every
        group. SwiftAdamError reports a library failure (BUSY: another thread is inside a
        call on this optimizer).
        """
        lock = self._lock  # inline _exclusive: this is the per-step path
        if not lock.acquire(False):
            raise _checks.busy(self, "Adam.step")
        try:
            if type(grads) is not list and type(grads) is not tuple:
                grads = _checks.grads_as_list(grads)
            flags = _SKIP_NONFINITE if skip_if_nonfinite else _NO_FLAGS
            nat = self._single
            if nat is not None and len(grads) == 1 and params is None and grad_scale is None:
                # Fast path: one group of one tensor (swiftadam_step_tensor).
                a = _direct_address(grads[0], nat.dtype, nat.shape0, nat.mask)
                if a and not nat.below0 < a < nat.end0:
                    try:
                        g0, = self.param_groups
                        dirty = g0["params"] is not nat.params or g0 != nat.pushed
                    except Exception:
                        dirty = True
                    if dirty:
                        self._sync_hyperparameters()
                    rc = nat.step_tensor(nat.state.handle, nat.p0, a, nat.csize0, flags)
                    if rc:
                        if rc < 0:
                            _step_failed(rc, nat, grads)
                        return False
                    return True
            if self._groups is None:  # (closing clears _single: the fast path is never taken)
                self._require_open()
            scale = None
            if grad_scale is not None:
                scale = _checks.grad_scale(grad_scale, all(nat.half for nat in self._groups))
            if params is not None:
                return self._step_params(grads, params, flags, scale)
            return self._step_general(grads, flags, scale)
        finally:
            lock.release()

    @_exclusive
    def step_flat(self, flat_grad, *, skip_if_nonfinite=False):
        """One Adam step with every grad packed into ONE float32 array.

        ``flat_grad``: a C-contiguous ndarray of the params' dtype (float32, or float64 when
        every param is float64) with as many elements as all params
        together; param k's grad is the next ``params[k].size`` elements, params taken in
        order across groups (the layout of ``np.concatenate([g.ravel() for g in grads])``,
        or of a preallocated buffer the backward pass writes into). Every param is stepped.
        It must not share memory with any param.

        Same result as ``step([views into flat_grad])``, bit for bit, but the grad pointers
        come from one vectorized add per group instead of a Python-level lookup per param:
        the fast path for models with many small tensors. Nothing is copied: a grad of
        another dtype or layout is rejected (TypeError/ValueError), never converted.
        Returns False if ``skip_if_nonfinite`` skipped the step, else True."""
        self._require_open()
        g = flat_grad
        groups = self._groups
        dtype = groups[0].dtype
        if any(nat.dtype is not dtype for nat in groups):
            raise TypeError("step_flat needs every param of one dtype (one flat buffer); this optimizer "
                            f"has {sorted({str(nat.dtype) for nat in groups})} params: use step()")
        if type(g) is not _ndarray or g.dtype is not dtype:
            raise TypeError(f"flat_grad must be a {dtype} numpy.ndarray (the params' dtype), got "
                            f"{getattr(g, 'dtype', type(g).__qualname__)}")
        if not g.flags.c_contiguous or not g.flags.aligned:
            raise ValueError("flat_grad must be C-contiguous and aligned: pass np.ascontiguousarray(flat_grad)")
        key = tuple(map(id, groups))
        cache = self._flat_cache
        if cache is None or cache[0] != key:
            cache = self._flat_cache = _flat_layout(groups, key)
        if g.size != cache[1]:
            raise ValueError(f"flat_grad must have {cache[1]} elements (all params together), "
                             f"got {g.size}")
        base = _address(g)
        if g.size:
            k = _checks.overlapped_param(self._index, base, base + g.nbytes)
            if k >= 0:
                raise _checks.overlap_error("flat_grad", k)
        flags = _SKIP_NONFINITE if skip_if_nonfinite else _NO_FLAGS
        if skip_if_nonfinite and len(groups) > 1 and not np.isfinite(g).all():
            return False  # the native check is per group; the whole step must skip
        changes = self._collect_changes()
        if len(groups) > 1:
            for nat in groups:
                if nat.bound >= _MAX_STEP:
                    _refuse_step_limit(nat, None)
        if changes:
            self._push(changes)
        skipped = False
        for nat, offsets, view in cache[2]:
            np.add(offsets, base, out=view)
            if nat.half:
                rc = nat.step_group(nat.state.handle, nat.pptrs, nat.gptrs, nat.cn, 1.0, flags)
            else:
                rc = nat.step_group(nat.state.handle, nat.pptrs, nat.gptrs, nat.cn, flags)
            skipped |= _skipped(rc, nat, None)
        return not skipped

    def _step_params(self, grads, params, flags, scale=None):
        """:meth:`step` over the arrays ``params`` in place of the groups' params."""
        if isinstance(params, _ndarray) or isinstance(params, (set, frozenset, dict)):
            raise TypeError(f"params= must be a list with one array per param, in order across the groups, "
                            f"got a {type(params).__qualname__}")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"params= must be a list with one array per param, got "
                            f"{type(params).__qualname__}") from None
        if len(params) != self._count:
            raise ValueError(f"params= has {len(params)} arrays but the optimizer has {self._count} params; "
                             "step(params=) takes the arrays that stand in for all of them, in order "
                             "across the groups (add new params with add_param_group())")
        self._check_groups()
        old = self._all_params()
        if all(map(operator.is_, params, old)):
            return self._step_general(grads, flags, scale)
        for k, (p, q) in enumerate(zip(params, old)):
            _checks.replacement(p, k, q)
        ranges = _checks.param_ranges(params)
        lists, k = [], 0
        for nat in self._groups:
            lists.append(ParamList(params[k:k + nat.n]))
            k += nat.n
        saved = [nat.params for nat in self._groups], self._index, self._vindex
        self._bind(lists, _checks.range_index(ranges))
        try:
            return self._step_general(grads, flags, scale)
        except BaseException:
            self._bind(saved[0], saved[1], saved[2])
            raise

    def _bind(self, lists, index, vindex=None):
        """Step the ParamLists ``lists`` (one per group, checked), whose memory ranges are
        ``index``, from now on; they become the groups' "params"."""
        for group, nat, plist in zip(self.param_groups, self._groups, lists):
            nat.bind(plist)
            group["params"] = nat.pushed["params"] = plist
        self._index, self._vindex = index, vindex

    def _step_general(self, grads, flags, scale=None):
        """``scale``: None, or (grad_scale, its float32 inverse) checked by _checks.grad_scale."""
        groups = self._groups
        if len(grads) != self._count:
            raise ValueError(f"expected {self._count} grads (one per param, in order, None to skip "
                             f"a param), got {len(grads)}")
        starts, ends, owners = self._index
        bisect_ = _bisect if self._count < _checks.VECTOR_CHECK else None
        keep = None  # converted grads: alive until the native calls return
        calls = []
        k = 0
        gdtypes = []
        for nat in groups:
            gptrs = nat.gptrs
            if nat.half:
                dtype = nat.grad_dtype(grads[k:k + nat.n])
                nbytes = nat.nbytes if dtype is nat.dtype else nat.nbytes32
                mask = dtype.itemsize - 1
            else:
                nbytes = nat.nbytes
                dtype, mask = nat.dtype, nat.mask
            gdtypes.append(dtype)
            live = 0
            single = None
            j = 0
            for g, shape, nb in zip(grads[k:k + nat.n], nat.shapes, nbytes):
                if g is None:
                    gptrs[j] = None
                else:
                    a = _direct_address(g, dtype, shape, mask)
                    if not a:
                        a, conv = _checks.grad(g, k + j, shape, dtype, self.strict_grads, nat.half)
                        if keep is None:
                            keep = []
                        keep.append(conv)
                    if bisect_ is not None:  # inline _checks.overlapped_param(self._index, a, a + nb)
                        i = bisect_(starts, a + nb) - 1
                        if i >= 0 and ends[i] > a and nb:
                            raise _checks.overlap_error(f"grads[{k + j}]", owners[i])
                    gptrs[j] = single = a
                    live += 1
                j += 1
            k += nat.n
            if live:
                calls.append((nat, single if nat.n == 1 else None, dtype))
        if bisect_ is None:
            vindex = self._vindex
            vkey = tuple(d.itemsize for d in gdtypes)
            if vindex is None or vkey != self._vkey:
                nbs = [b for nat, d in zip(groups, gdtypes) for b in (nat.nbytes32 if d is _F32 and nat.half
                                                                       else nat.nbytes)]
                vindex = self._vindex = _checks.vector_index(self._index, nbs, [nat.gptrs for nat in groups])
                self._vkey = vkey
            hit = _checks.vector_overlap(vindex)
            if hit is not None:
                raise _checks.overlap_error(f"grads[{hit[0]}]", hit[1])
        changes = self._collect_changes()
        if flags is _SKIP_NONFINITE and len(calls) > 1 and not _checks.all_finite(
                grads, [d for nat, d in zip(groups, gdtypes) for _ in range(nat.n)],
                None if scale is None else scale[1]):
            return False  # the native check is per group; the whole step must skip
        if len(calls) > 1:
            # One native call is all-or-nothing by itself; several must not stop half-way.
            for nat, _, _ in calls:
                if nat.bound >= _MAX_STEP:
                    _refuse_step_limit(nat, grads)
        if changes:
            self._push(changes)
        skipped = False
        gs = 1.0 if scale is None else scale[0]
        for nat, a, gd in calls:
            if nat.half:
                step = nat.step_group if gd is nat.dtype else nat.step_f32grad
                rc = step(nat.state.handle, nat.pptrs, nat.gptrs, nat.cn, gs, flags)
            elif a is not None:
                rc = nat.step_tensor(nat.state.handle, nat.p0, a, nat.csize0, flags)
            else:
                rc = nat.step_group(nat.state.handle, nat.pptrs, nat.gptrs, nat.cn, flags)
            skipped |= _skipped(rc, nat, grads)
        return not skipped

    # ---- state_dict ----

    @_exclusive
    def state_dict(self):
        """torch's layout, with numpy arrays::

            {"state": {flat_index: {"step": float, "exp_avg": ndarray, "exp_avg_sq": ndarray,
                                    "max_exp_avg_sq": ndarray (amsgrad only)}},
             "param_groups": [{"lr": ..., "betas": ..., ..., "params": [flat indices]}]}

        Arrays are copies shaped like their params, of the params' dtype (float32 for 16-bit
        params). A param never stepped has no entry in "state" (as in torch), unless a loaded
        state gave it non-zero moments. A float16/bfloat16 param always has an entry, with
        its float32 master weights under ``"fp32_from_fp16"`` (apex's FP16_Optimizer name
        for them).
        ``step`` is a Python float (torch keeps a float tensor; up to 2**53, exact).
        Every state the library accepts comes back unchanged through
        :meth:`load_state_dict`, bit for bit."""
        self._require_open()
        state = {}
        groups = []
        idx = 0
        for group, nat in zip(self.param_groups, self._groups):
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(idx, idx + nat.n))
            groups.append(copy.deepcopy(packed))
            for j, step in enumerate(nat.steps()):
                moments = [(key, nat.state.moment(j, which, nat.shapes[j])) for key, which in _MOMENTS
                           if which != _b.SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ or nat.hyper.amsgrad]
                if nat.half:  # the master weights are state from the start
                    moments.append((_checks.MASTER_KEY, nat.state.master(j, nat.shapes[j])))
                # bit patterns, not values: a loaded -0.0 must come back too
                if nat.half or step > 0 or any(m.view(f"u{m.itemsize}").any() for _, m in moments):
                    state[idx + j] = {"step": float(step), **dict(moments)}
            idx += nat.n
        return {"state": state, "param_groups": groups}

    @_exclusive
    def load_state_dict(self, state_dict):
        """Load a :meth:`state_dict` (or a torch.optim.Adam state dict converted to numpy).

        As torch: the hyperparameters come from the state dict, params are matched by
        position, and the number of groups and their sizes must agree. Everything is
        validated (keys, shapes, steps, hyperparameters) and new native states are built
        before anything is replaced: on any error the optimizer is unchanged. Moments
        are converted to float32. A group without ``bias_correction`` bias-corrects (as
        torch, whatever this optimizer was created with). A float16/bfloat16 param takes its
        master weights from the entry's ``"fp32_from_fp16"`` (else from its own values, as
        at creation) and is overwritten with their rounding."""
        self._require_open()
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__qualname__}")
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"state_dict lacks the key {key!r}")
        saved_groups = state_dict["param_groups"]
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise TypeError("state_dict['state'] must be a dict")
        if not isinstance(saved_groups, (list, tuple)):
            raise TypeError("state_dict['param_groups'] must be a list")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        id_map = {}
        new_groups = []
        plans = []
        idx = 0
        for gi, (sg, nat) in enumerate(zip(saved_groups, self._groups)):
            if not isinstance(sg, dict) or "params" not in sg:
                raise ValueError(f"state_dict['param_groups'][{gi}] must be a dict with 'params'")
            ids = list(sg["params"])
            if len(ids) != nat.n:
                raise ValueError(f"loaded state dict contains a parameter group ({gi}) of {len(ids)} "
                                 f"params that doesn't match the size of optimizer's group ({nat.n})")
            for j, pid in enumerate(ids):
                try:
                    if pid in id_map:
                        raise ValueError(f"param id {pid!r} appears twice in state_dict['param_groups']")
                except TypeError:
                    raise TypeError(f"param ids must be hashable, got {pid!r}") from None
                id_map[pid] = (gi, j, idx + j)
            ng = copy.deepcopy({k: v for k, v in sg.items() if k != "params"})
            for k, v in self.defaults.items():
                if k not in _EXTENSIONS:
                    ng.setdefault(k, v)
            hyper = _checks.group_hyper(ng, ctx=f" (state_dict['param_groups'][{gi}])")
            new_groups.append(_param_group(ng, nat.params))
            plans.append((nat, hyper, [None] * nat.n))
            idx += nat.n
        for pid, entry in saved_state.items():
            try:
                where = id_map.get(pid)
            except TypeError:
                where = None
            if where is None:
                raise ValueError(f"state_dict['state'] has an entry for param id {pid!r}, which no "
                                 "param group lists")
            gi, j, flat = where
            nat, hyper, entries = plans[gi]
            entries[j] = _checks.state_entry(entry, pid, flat, nat.shapes[j], hyper.amsgrad,
                                             nat.state.kind.moment_dtype, nat.half)
        # Everything is valid: build the new states (a failure drops and so frees them),
        # then swap them in.
        built = []
        for nat, hyper, entries in plans:
            state = NativeState.create(nat.sizes, hyper, nat.dtype, nat.params)
            built.append(state)
            for j, e in enumerate(entries):
                if e is None:
                    continue
                step, moments, master = e
                for which, arr in moments:
                    state.set_moment(j, which, arr)
                if master is not None:
                    state.set_master(j, master)
                state.set_tensor_step(j, step)
        for (nat, hyper, entries), state in zip(plans, built):
            if nat.half:  # the params are the loaded master's rounding (the master decides anyway)
                for j, p in enumerate(nat.params):
                    state.write_params(j, p)
        for (nat, hyper, entries), state, ng in zip(plans, built, new_groups):
            old, nat.state = nat.state, state
            old.free()
            nat.adopt(hyper, _checks.snapshot(ng))
            nat.bound = max(e[0] if e else 0 for e in entries)
        self.param_groups[:] = new_groups

    # ---- checkpoints through the C ABI ----

    def _single_native(self, what):
        self._require_open()
        if len(self._groups) != 1:
            raise NotImplementedError(
                f"{what} writes the C checkpoint of one param group; this optimizer has "
                f"{len(self._groups)}. Use state_dict() (e.g. with np.savez or pickle) instead."
            )
        self._sync_hyperparameters()
        return self._groups[0].state

    @_exclusive
    def save(self, path):
        """Write an atomic checkpoint (``swiftadam_save``: temporary file, fsync, rename) of
        the optimizer state — hyperparameters, per-param steps, moments — to ``path``.

        The file is the C library's checkpoint format (docs/FORMAT.md), so it covers exactly
        ONE param group; with several groups this raises NotImplementedError (use
        :meth:`state_dict`). The params themselves are not saved: save your model separately.
        Pending changes to ``param_groups`` are applied first. ``path`` (str, bytes or
        os.PathLike) reaches the OS as ``os.fsencode`` gives it; an empty path or one with
        a NUL byte raises ValueError."""
        fpath = _checks.fs_path(path)
        self._single_native("save()").save(fpath)

    @_exclusive
    def master_params(self):
        """The float32 master weights of every param, in order across the groups: copies.
        A float16/bfloat16 param's master is what the optimizer updates (its array only
        receives the master rounded to nearest even after each step); a float32 or float64
        param is its own master, and comes back as a copy of itself, in its dtype."""
        self._require_open()
        out = []
        for nat in self._groups:
            for j, p in enumerate(nat.params):
                out.append(nat.state.master(j, nat.shapes[j]) if nat.half else p.copy())
        return out

    @_exclusive
    def to_bytes(self):
        """The checkpoint of :meth:`save` as bytes (``swiftadam_serialize``). One group only."""
        return self._single_native("to_bytes()").serialize()

    @classmethod
    def load(cls, path, params, *, strict_grads=False, **overrides):
        """A new optimizer for ``params`` (a list of arrays of one dtype: ONE group) from the
        checkpoint file at ``path`` (``swiftadam_load``; paths as in :meth:`save`). The
        checkpoint must hold exactly as many tensors with exactly the params' sizes (else
        SwiftAdamError SIZE_MISMATCH); hyperparameters, steps and moments come from it.
        The params must have the checkpoint's dtype; float16/bfloat16 params are overwritten
        with the rounding of the checkpoint's float32 master weights.
        Keyword arguments (lr, betas, eps, weight_decay, maximize, decoupled_weight_decay,
        bias_correction) override the stored values; amsgrad cannot differ from the
        checkpoint's. ``strict_grads`` is the constructor's."""
        fpath = _checks.fs_path(path)
        return cls._from_native(params, overrides, strict_grads, lambda lengths: NativeState.load(fpath, lengths),
                                "swiftadam_load")

    @classmethod
    def from_bytes(cls, data, params, *, strict_grads=False, **overrides):
        """:meth:`load` from the bytes of :meth:`to_bytes` (``swiftadam_deserialize``)."""
        if not isinstance(data, bytes):
            try:
                data = bytes(memoryview(data))
            except TypeError:
                raise TypeError(f"data must be bytes-like, got {type(data).__qualname__}") from None
        return cls._from_native(params, overrides, strict_grads,
                                lambda lengths: NativeState.deserialize(data, lengths), "swiftadam_deserialize")

    @classmethod
    def _from_native(cls, params, overrides, strict_grads, open_state, call):
        allowed = Hyper._fields
        unknown = set(overrides) - set(allowed)
        if unknown:
            raise TypeError(f"unexpected keyword arguments {sorted(unknown)}; "
                            f"allowed: {list(allowed)}")
        groups = _checks.split_groups(params)
        if len(groups) != 1 or set(groups[0]) != {"params"}:
            raise TypeError("load()/from_bytes() take the params of ONE group as a list of arrays "
                            "(the hyperparameters come from the checkpoint; override them with "
                            "keyword arguments)")
        plist = groups[0]["params"]
        plist = ParamList([plist] if isinstance(plist, _ndarray) else plist)
        for j, p in enumerate(plist):
            _checks.param(p, j)
        _checks.group_dtype(plist, 0)
        _checks.param_ranges(plist)
        state = open_state([p.size for p in plist])
        _checks.state_dtype(state, plist, call)
        stored = state.hyper()
        if "amsgrad" in overrides and bool(overrides["amsgrad"]) != stored.amsgrad:
            raise ValueError(f"amsgrad={overrides['amsgrad']} differs from the checkpoint's "
                             f"amsgrad={stored.amsgrad}, which cannot change")
        defaults = {**stored.group_items(), **overrides}
        _checks.group_hyper(defaults)
        if state.dtype in _HALF:  # the checkpoint holds the master weights: the params are their rounding
            for j, p in enumerate(plist):
                state.write_params(j, p)
        self = cls.__new__(cls)
        self._setup(defaults, strict_grads)
        group = _param_group(defaults, plist)
        self._append(group, state, stored, _stored(stored, group))
        self._sync_hyperparameters()
        return self


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): ``Adam(...,
    decoupled_weight_decay=True)`` with torch's AdamW default ``weight_decay=1e-2``.

    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False, bias_correction=True, flavor="torch", strict_grads=False)``. See
    :class:`Adam` for the
    algorithm, with ``p = p * (1 - lr * weight_decay)`` applied before the moment update.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, bias_correction=True, flavor="torch", strict_grads=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True,
                         bias_correction=bias_correction, flavor=flavor, strict_grads=strict_grads)
