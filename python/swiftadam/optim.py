"""``swiftadam.Adam`` and ``swiftadam.AdamW``: torch.optim's API over libSwiftAdam."""
from __future__ import annotations

import copy
import ctypes
import math
import operator
import os

import numpy as np

from . import _bindings as _b
from ._errors import check as _check

__all__ = ["Adam", "AdamW"]

_lib = _b.lib
_F32 = np.dtype(np.float32)
_ndarray = np.ndarray
_c_void_p = ctypes.c_void_p
_c_char_from_buffer = ctypes.c_char.from_buffer
_addressof = ctypes.addressof

# A valid address for zero-length tensors (the C ABI wants non-NULL pointers even when
# nothing is read or written).
_EMPTY = (ctypes.c_float * 4)()
_EMPTY_ADDR = ctypes.addressof(_EMPTY)

_HYPER_KEYS = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")
_get_hyper = operator.itemgetter(*_HYPER_KEYS)
_STATE_KEYS = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
_MOMENTS = (
    ("exp_avg", _b.SWIFTADAM_MOMENT_EXP_AVG),
    ("exp_avg_sq", _b.SWIFTADAM_MOMENT_EXP_AVG_SQ),
    ("max_exp_avg_sq", _b.SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ),
)
_MAX_STEP = 1 << 53  # torch stores step as a float64 tensor
_step_tensor = _lib.swiftadam_step_tensor
_step_group = _lib.swiftadam_step
_NO_FLAGS = ctypes.c_uint32(0)  # prebuilt arguments: ctypes passes them without conversion
_SKIP_NONFINITE = ctypes.c_uint32(_b.SWIFTADAM_STEP_SKIP_NONFINITE)


# ---- validation helpers --------------------------------------------------------------


def _real(name, value, ctx):
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a real number, got {value!r}{ctx}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}{ctx}") from None


def _validate_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled, ctx=""):
    """torch.optim.Adam's checks (same words), plus finiteness, which the native library
    requires. Returns the normalized tuple (floats and bools)."""
    flr = _real("lr", lr, ctx)
    if not (0.0 <= flr < math.inf):
        raise ValueError(f"Invalid learning rate: {lr}{ctx}")
    feps = _real("eps", eps, ctx)
    if not (0.0 <= feps < math.inf):
        raise ValueError(f"Invalid epsilon value: {eps}{ctx}")
    if isinstance(betas, (str, bytes)):
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}{ctx}")
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"Invalid betas: {betas!r}; expected a pair (beta1, beta2){ctx}") from None
    fb = []
    for i, b in enumerate((b1, b2)):
        fbi = _real(f"betas[{i}]", b, ctx)
        if not (0.0 <= fbi < 1.0):
            raise ValueError(f"Invalid beta parameter at index {i}: {b}{ctx}")
        fb.append(fbi)
    fwd = _real("weight_decay", weight_decay, ctx)
    if not (0.0 <= fwd < math.inf):
        raise ValueError(f"Invalid weight_decay value: {weight_decay}{ctx}")
    return flr, (fb[0], fb[1]), feps, fwd, bool(amsgrad), bool(maximize), bool(decoupled)


def _flags_of(norm, extra_flags):
    _, _, _, _, amsgrad, maximize, decoupled = norm
    flags = extra_flags
    if amsgrad:
        flags |= _b.SWIFTADAM_FLAG_AMSGRAD
    if maximize:
        flags |= _b.SWIFTADAM_FLAG_MAXIMIZE
    if decoupled:
        flags |= _b.SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY
    return flags


def _make_config(norm, extra_flags):
    cfg = _b.swiftadam_config()
    _check(_lib.swiftadam_config_init(ctypes.byref(cfg), ctypes.sizeof(cfg)), "swiftadam_config_init")
    lr, (b1, b2), eps, wd, _, _, _ = norm
    cfg.lr, cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay = lr, b1, b2, eps, wd
    cfg.flags = _flags_of(norm, extra_flags)
    return cfg


def _hyper_from_config(cfg):
    """The param-group hyperparameters a native config stands for, and the flags that
    torch's API has no name for (SWIFTADAM_FLAG_NO_BIAS_CORRECTION), kept as they are."""
    f = cfg.flags
    hyper = {
        "lr": cfg.lr,
        "betas": (cfg.beta1, cfg.beta2),
        "eps": cfg.eps,
        "weight_decay": cfg.weight_decay,
        "amsgrad": bool(f & _b.SWIFTADAM_FLAG_AMSGRAD),
        "maximize": bool(f & _b.SWIFTADAM_FLAG_MAXIMIZE),
        "decoupled_weight_decay": bool(f & _b.SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY),
    }
    return hyper, f & _b.SWIFTADAM_FLAG_NO_BIAS_CORRECTION


_FIX = "SwiftAdam updates params in place and never copies them"


def _check_param(p, idx):
    """A param must be a float32, C-contiguous, aligned, writeable numpy.ndarray."""
    name = f"params[{idx}]"
    if not isinstance(p, _ndarray):
        raise TypeError(
            f"{name} is a {type(p).__module__}.{type(p).__qualname__}, not a numpy.ndarray; {_FIX}: "
            f"pass p = np.asarray(p, dtype=np.float32) and keep using that array in your model"
        )
    if p.dtype != _F32:
        raise TypeError(
            f"{name} is {p.dtype}; {_FIX}: pass p = np.asarray(p, dtype=np.float32) "
            f"(a new float32 array) and keep using that array in your model"
        )
    if not p.flags.c_contiguous:
        raise ValueError(
            f"{name} is not C-contiguous (shape {p.shape}, strides {p.strides}); {_FIX}: "
            f"pass p = np.ascontiguousarray(p) and keep using that array in your model"
        )
    if not p.flags.aligned:
        raise ValueError(
            f"{name} is not aligned to 4 bytes; {_FIX}: pass p = p.copy() and keep using that "
            f"array in your model"
        )
    if not p.flags.writeable:
        raise ValueError(
            f"{name} is read-only; {_FIX}: pass a writeable array (p = p.copy()) and keep "
            f"using that array in your model"
        )


def _address(a):
    if a.size == 0:
        return _EMPTY_ADDR
    return a.__array_interface__["data"][0]


def _grad_slow(g, idx, shape):
    """Validate and, if needed, convert grads[idx] (a documented copy). Returns
    (address, array that must stay alive during the native call)."""
    try:
        a = np.asarray(g)
    except Exception as e:
        raise TypeError(f"grads[{idx}] cannot be read as an array: {e}") from None
    if a.dtype.kind not in "fiub":
        raise TypeError(f"grads[{idx}] is {type(g).__qualname__} of dtype {a.dtype}; a grad must "
                        "be an array of real numbers (float32 best)")
    if a.shape != shape:
        raise ValueError(f"grads[{idx}] has shape {a.shape} but params[{idx}] has shape {shape}")
    a = np.require(a, dtype=_F32, requirements=["C_CONTIGUOUS", "ALIGNED"])
    return _address(a), a


def _read_state_value(v, what):
    try:
        return np.asarray(v)
    except Exception as e:
        raise TypeError(f"{what} cannot be read as an array: {e}") from None


# ---- one native state per param group ------------------------------------------------


def _skipped(rc):
    """The status of a native step: False if it ran, True if SWIFTADAM_STEP_SKIPPED; raises
    SwiftAdamError on an error."""
    if rc < 0:
        _check(rc, "swiftadam_step")
    return rc != 0


def _flat_layout(natives, key):
    """(key, total elements, [(native, byte offsets of its grads, writable view of its grad
    pointer array)]) for Adam.step_flat."""
    groups = []
    start = 0
    for nat in natives:
        sizes = np.asarray(nat.sizes, dtype=np.uintp)
        ends = np.cumsum(sizes, dtype=np.uintp)
        offsets = (ends - sizes + np.uintp(start)) * np.uintp(4)
        groups.append((nat, offsets, np.frombuffer(nat.gptrs, dtype=np.uintp)))
        start += int(ends[-1]) if len(ends) else 0
    return key, start, groups


class _Native:
    """The native state of one param group, with the pointer array of its params."""

    __slots__ = ("handle", "n", "cn", "params", "shapes", "sizes", "pptrs", "gptrs", "p0", "shape0",
                 "size0", "csize0", "pushed", "norm", "extra_flags", "amsgrad")

    _free_fn = _lib.swiftadam_free  # kept on the class: usable at interpreter shutdown

    def __init__(self, params, shapes, handle, norm, extra_flags, pushed):
        self.handle = handle
        self.n = len(params)
        self.params = tuple(params)  # keeps the arrays (and so their memory) alive
        self.shapes = tuple(shapes)
        self.sizes = tuple(int(p.size) for p in params)
        addrs = [_address(p) for p in params]
        self.pptrs = (_c_void_p * self.n)(*addrs)
        self.gptrs = (_c_void_p * self.n)()
        self.p0 = _c_void_p(addrs[0])
        self.shape0 = self.shapes[0]
        self.size0 = self.sizes[0]
        self.csize0 = ctypes.c_size_t(self.size0)
        self.cn = ctypes.c_size_t(self.n)
        self.norm = norm
        self.extra_flags = extra_flags
        self.amsgrad = norm[4] if norm is not None else None
        self.pushed = pushed

    def free(self):
        """Release the native state (once); returns the status of swiftadam_free."""
        h, self.handle = self.handle, None
        if h is not None and h.value:
            return self._free_fn(h)
        return 0

    # queries
    def tensor_step(self, j):
        out = ctypes.c_uint64()
        _check(_lib.swiftadam_tensor_step(self.handle, j, ctypes.byref(out)), "swiftadam_tensor_step")
        return out.value

    def moment(self, j, which):
        out = np.empty(self.shapes[j], dtype=_F32)
        _check(_lib.swiftadam_get_moment(self.handle, j, which, _address(out), out.size),
               "swiftadam_get_moment")
        return out

    def config(self):
        cfg = _b.swiftadam_config()
        _check(_lib.swiftadam_config_init(ctypes.byref(cfg), ctypes.sizeof(cfg)), "swiftadam_config_init")
        _check(_lib.swiftadam_get_config(self.handle, ctypes.byref(cfg)), "swiftadam_get_config")
        return cfg


def _create_native(lengths, cfg):
    n = len(lengths)
    arr = (ctypes.c_size_t * n)(*lengths)
    h = _c_void_p()
    _check(_lib.swiftadam_create(arr, n, ctypes.byref(cfg), ctypes.byref(h)), "swiftadam_create")
    return h


def _free_handle(h):
    if h is not None and h.value:
        _lib.swiftadam_free(h)


def _check_no_overlap(natives, new_params):
    """No two params (old or new) may share memory: the kernel would update it twice."""
    seen = set()
    ranges = []
    idx = 0
    for nat in natives:
        for p in nat.params:
            seen.add(id(p))
            if p.size:
                a = _address(p)
                ranges.append((a, a + p.nbytes, idx))
            idx += 1
    for p in new_params:
        if id(p) in seen:
            raise ValueError("some parameters appear more than once (in one group or in "
                             f"several); params[{idx}] is a repeat")
        seen.add(id(p))
        if p.size:
            a = _address(p)
            ranges.append((a, a + p.nbytes, idx))
        idx += 1
    ranges.sort()
    for (s0, e0, i0), (s1, e1, i1) in zip(ranges, ranges[1:]):
        if s1 < e0:
            a, b = sorted((i0, i1))
            raise ValueError(f"params[{a}] and params[{b}] overlap in memory (views of one "
                             "buffer?); every param must have its own memory")


def _pushed_copy(cur):
    return tuple(copy.copy(x) for x in cur)


class Adam:
    r"""The Adam optimizer with torch.optim.Adam's API and semantics, running in libSwiftAdam.

    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
    *, maximize=False, decoupled_weight_decay=False)``

    For each param ``p`` with gradient ``g`` and its own step count ``t`` (a param whose
    grad is ``None`` in a step is not touched and its ``t`` does not advance), one
    :meth:`step` computes, in float32 with the scalar factors in float64::

        t      = t + 1
        g      = -g if maximize else g
        if weight_decay != 0 and not decoupled_weight_decay:  g = g + weight_decay * p   (L2)
        if weight_decay != 0 and decoupled_weight_decay:      p = p * (1 - lr * weight_decay)  (AdamW)
        m      = beta1 * m + (1 - beta1) * g                  (exp_avg, as torch's lerp)
        v      = beta2 * v + (1 - beta2) * g * g              (exp_avg_sq)
        vhat   = max(vmax, v) stored into vmax if amsgrad else v   (max_exp_avg_sq)
        denom  = sqrt(vhat) / sqrt(1 - beta2**t) + eps
        p      = p - lr / (1 - beta1**t) * m / denom

    Params: a list of numpy arrays, or a list of dicts ``{"params": [...], "lr": ..., ...}``
    (param groups with their own hyperparameters; missing keys take the constructor's
    values, exactly like torch). Each param must be a ``float32``, C-contiguous, aligned,
    writeable ``numpy.ndarray``; it is updated IN PLACE and never copied, so anything else
    is rejected (TypeError/ValueError saying how to fix it). The optimizer keeps references
    to the arrays. Params may be empty; two params may not overlap in memory.

    ``opt.param_groups`` is a list of dicts with keys ``params, lr, betas, eps,
    weight_decay, amsgrad, maximize, decoupled_weight_decay``; changing a value between
    steps (learning-rate schedules) takes effect at the next step. ``amsgrad`` cannot
    change after creation (ValueError at the next step). The params of a group are fixed
    at creation (use :meth:`add_param_group` to add more).

    Each param group holds one native state (``swiftadam_create``); release them with
    :meth:`close` (or ``with swiftadam.Adam(...) as opt:``); ``__del__`` does it too.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        self._natives = []
        self._single = None  # the _Native when there is one group of one tensor (fast path)
        self._flat_cache = None  # step_flat's pointer layout, rebuilt when the groups change
        self.param_groups = []
        self._count = 0
        _validate_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)
        self.defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        for group in self._split_groups(params):
            self.add_param_group(group)

    # ---- construction ----

    @staticmethod
    def _split_groups(params):
        if isinstance(params, _ndarray):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of arrays or "
                "dicts, but got a numpy.ndarray (wrap it: [p])"
            )
        if isinstance(params, (set, frozenset, dict)):
            raise TypeError(
                "params must be a list of arrays or of param-group dicts in a fixed order, "
                f"got a {type(params).__name__}"
            )
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                "params argument given to the optimizer should be an iterable of arrays or "
                f"dicts, but got {type(params).__qualname__}"
            ) from None
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            return [{"params": groups}]
        if not all(isinstance(g, dict) for g in groups):
            raise TypeError("params must be all arrays or all param-group dicts, not a mix")
        return groups

    def add_param_group(self, param_group):
        """Add a param group (a dict with "params" and optional hyperparameters), as torch's
        ``add_param_group``. Its params come after all existing ones in ``step``'s grads."""
        self._require_open()
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__qualname__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' key")
        params = param_group["params"]
        if isinstance(params, _ndarray):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        gi = len(self.param_groups)
        if not params:
            raise ValueError(f"param group {gi} has no params (SwiftAdam needs at least one per group)")
        for j, p in enumerate(params):
            _check_param(p, self._count + j)
        _check_no_overlap(self._natives, params)
        group = dict(param_group)
        group["params"] = params
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        ctx = f" (param_groups[{gi}])" if gi or len(param_group) > 1 else ""
        norm = _validate_hyper(*_get_hyper(group), ctx=ctx)
        handle = _create_native([p.size for p in params], _make_config(norm, 0))
        try:
            nat = _Native(params, [p.shape for p in params], handle, norm, 0,
                          _pushed_copy(_get_hyper(group)))
        except BaseException:
            _free_handle(handle)
            raise
        self._natives.append(nat)
        self.param_groups.append(group)
        self._count += len(params)
        self._single = nat if self._count == 1 else None

    # ---- life cycle ----

    def _require_open(self):
        if self._natives is None:
            raise ValueError(f"this {type(self).__name__} optimizer is closed")

    def close(self):
        """Free the native states. Idempotent; the optimizer cannot be used afterwards.
        (Closing while another thread is inside ``step`` on this optimizer is a bug: the
        library then reports SWIFTADAM_ERR_BUSY, raised here, and that state leaks.)"""
        natives, self._natives = self._natives, None
        self._single = None
        failed = 0
        for nat in natives or ():
            rc = nat.free()
            if rc < 0 and not failed:
                failed = rc
        if failed:
            _check(failed, "swiftadam_free")

    @property
    def closed(self):
        return self._natives is None

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
        """Validate every group whose hyperparameters differ from the ones last pushed;
        return what to push. Nothing is changed here."""
        if len(self.param_groups) != len(self._natives):
            raise ValueError(f"opt.param_groups has {len(self.param_groups)} groups but the optimizer "
                             f"manages {len(self._natives)}: add groups with add_param_group()")
        changes = None
        for i, (group, nat) in enumerate(zip(self.param_groups, self._natives)):
            try:
                cur = _get_hyper(group)
            except KeyError as e:
                raise ValueError(f"param_groups[{i}] lacks the key {e.args[0]!r}") from None
            try:
                changed = cur != nat.pushed
            except Exception:  # e.g. betas given as a numpy array: compare after validation
                changed = True
            if changed:
                norm = _validate_hyper(*cur, ctx=f" (param_groups[{i}])")
                if norm[4] != nat.amsgrad:
                    raise ValueError(
                        f"param_groups[{i}]['amsgrad'] cannot change after the optimizer is "
                        f"created (it was {nat.amsgrad}; the max_exp_avg_sq buffer is allocated "
                        "once): create a new optimizer instead"
                    )
                if changes is None:
                    changes = []
                changes.append((nat, cur, norm))
        return changes

    @staticmethod
    def _push(changes):
        for nat, cur, norm in changes:
            if norm[1:] == nat.norm[1:]:
                _check(_lib.swiftadam_set_lr(nat.handle, norm[0]), "swiftadam_set_lr")
            else:
                _check(_lib.swiftadam_set_config(nat.handle, ctypes.byref(_make_config(norm, nat.extra_flags))),
                       "swiftadam_set_config")
            nat.norm = norm
            nat.pushed = _pushed_copy(cur)

    def _sync_hyperparameters(self):
        changes = self._collect_changes()
        if changes:
            self._push(changes)

    # ---- step ----

    def step(self, grads, *, skip_if_nonfinite=False):
        """One Adam step on every param, in place.

        ``grads``: a list with one entry per param, in the order of the params across all
        groups. An entry may be ``None``: that param is skipped (not updated, its step count
        does not advance), as torch skips params whose ``.grad`` is None. A grad must have
        its param's shape; float32 C-contiguous grads are used as they are, anything else is
        converted with ``np.require(g, np.float32, ["C", "A"])`` (a copy).

        ``skip_if_nonfinite=True``: if any grad holds NaN or +-Inf, nothing at all is
        changed and ``False`` is returned (torch's GradScaler). Otherwise returns ``True``.

        Every argument is checked before anything changes: on TypeError/ValueError the
        params and the optimizer state are untouched. SwiftAdamError reports a library failure.
        """
        if self._natives is None:
            self._require_open()
        if type(grads) is not list and type(grads) is not tuple:
            grads = self._grads_as_list(grads)
        flags = _SKIP_NONFINITE if skip_if_nonfinite else _NO_FLAGS
        nat = self._single
        if nat is not None and len(grads) == 1:
            # Fast path: one group of one tensor (swiftadam_step_tensor).
            g = grads[0]
            a = 0
            if type(g) is _ndarray and g.dtype is _F32 and g.shape == nat.shape0:
                try:
                    a = _addressof(_c_char_from_buffer(g))  # C-contiguous and writeable only
                except (TypeError, ValueError, BufferError):
                    pass
            if a and not a & 3:
                groups = self.param_groups
                try:
                    dirty = len(groups) != 1 or _get_hyper(groups[0]) != nat.pushed
                except Exception:
                    dirty = True
                if dirty:
                    self._sync_hyperparameters()
                rc = _step_tensor(nat.handle, nat.p0, a, nat.csize0, flags)
                if rc:
                    if rc < 0:
                        _check(rc, "swiftadam_step_tensor")
                    return False
                return True
        return self._step_general(grads, flags)

    def step_flat(self, flat_grad, *, skip_if_nonfinite=False):
        """One Adam step with every grad packed into ONE float32 array.

        ``flat_grad``: a C-contiguous float32 ndarray with as many elements as all params
        together; param k's grad is the next ``params[k].size`` elements, params taken in
        order across groups (the layout of ``np.concatenate([g.ravel() for g in grads])``,
        or of a preallocated buffer the backward pass writes into). Every param is stepped.

        Same result as ``step([views into flat_grad])``, bit for bit, but the grad pointers
        come from one vectorized add per group instead of a Python-level lookup per param:
        the fast path for models with many small tensors. Nothing is copied: a grad of
        another dtype or layout is rejected (TypeError/ValueError), never converted.
        Returns False if ``skip_if_nonfinite`` skipped the step, else True."""
        self._require_open()
        g = flat_grad
        if type(g) is not _ndarray or g.dtype is not _F32:
            raise TypeError(f"flat_grad must be a float32 numpy.ndarray, got "
                            f"{getattr(g, 'dtype', type(g).__qualname__)}")
        if not g.flags.c_contiguous or not g.flags.aligned:
            raise ValueError("flat_grad must be C-contiguous and aligned: pass np.ascontiguousarray(flat_grad)")
        natives = self._natives
        key = tuple(map(id, natives))
        cache = self._flat_cache
        if cache is None or cache[0] != key:
            cache = self._flat_cache = _flat_layout(natives, key)
        if g.size != cache[1]:
            raise ValueError(f"flat_grad must have {cache[1]} elements (all params together), "
                             f"got {g.size}")
        flags = _SKIP_NONFINITE if skip_if_nonfinite else _NO_FLAGS
        if skip_if_nonfinite and len(natives) > 1 and not np.isfinite(g).all():
            return False  # the native check is per group; the whole step must skip
        changes = self._collect_changes()
        if changes:
            self._push(changes)
        base = _address(g)
        skipped = False
        for nat, offsets, view in cache[2]:
            np.add(offsets, base, out=view)
            skipped |= _skipped(_step_group(nat.handle, nat.pptrs, nat.gptrs, nat.cn, flags))
        return not skipped

    def _step_general(self, grads, flags):
        natives = self._natives
        if len(grads) != self._count:
            raise ValueError(f"expected {self._count} grads (one per param, in order, None to skip "
                             f"a param), got {len(grads)}")
        keep = None  # converted grads: alive until the native calls return
        calls = []
        k = 0
        for nat in natives:
            gptrs = nat.gptrs
            live = 0
            single = None
            for j, shape in enumerate(nat.shapes):
                g = grads[k]
                if g is None:
                    gptrs[j] = None
                else:
                    a = 0
                    if type(g) is _ndarray and g.dtype is _F32 and g.shape == shape:
                        try:
                            a = _addressof(_c_char_from_buffer(g))
                        except (TypeError, ValueError, BufferError):
                            pass
                    if not a or a & 3:
                        a, conv = _grad_slow(g, k, shape)
                        if keep is None:
                            keep = []
                        keep.append(conv)
                    gptrs[j] = single = a
                    live += 1
                k += 1
            if live:
                calls.append((nat, single if nat.n == 1 else None))
        changes = self._collect_changes()
        if flags is _SKIP_NONFINITE and len(calls) > 1 and not self._all_finite(grads):
            return False  # the native check is per group; the whole step must skip
        if changes:
            self._push(changes)
        skipped = False
        for nat, a in calls:
            if a is not None:
                rc = _step_tensor(nat.handle, nat.p0, a, nat.csize0, flags)
            else:
                rc = _step_group(nat.handle, nat.pptrs, nat.gptrs, nat.cn, flags)
            skipped |= _skipped(rc)
        return not skipped

    @staticmethod
    def _grads_as_list(grads):
        if isinstance(grads, _ndarray):
            raise TypeError("grads must be a list with one grad per param (None to skip one), "
                            "got a single numpy.ndarray: wrap it, opt.step([g])")
        try:
            return list(grads)
        except TypeError:
            raise TypeError(f"grads must be a list with one grad per param, got "
                            f"{type(grads).__qualname__}") from None

    @staticmethod
    def _all_finite(grads):
        # Only used with several groups; reads the grads as the native step would see them.
        for g in grads:
            if g is None:
                continue
            a = np.asarray(g)
            if a.dtype != _F32:
                a = a.astype(_F32)
            if not np.isfinite(a).all():
                return False
        return True

    # ---- state_dict ----

    def state_dict(self):
        """torch's layout, with numpy arrays::

            {"state": {flat_index: {"step": float, "exp_avg": ndarray, "exp_avg_sq": ndarray,
                                    "max_exp_avg_sq": ndarray (amsgrad only)}},
             "param_groups": [{"lr": ..., "betas": ..., ..., "params": [flat indices]}]}

        Arrays are float32 copies shaped like their params. A param never stepped has no
        entry in "state" (as in torch). ``step`` is a Python float (torch keeps a float
        tensor)."""
        self._require_open()
        state = {}
        groups = []
        idx = 0
        for group, nat in zip(self.param_groups, self._natives):
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(idx, idx + nat.n))
            groups.append(copy.deepcopy(packed))
            for j in range(nat.n):
                step = nat.tensor_step(j)
                if step > 0:
                    entry = {"step": float(step)}
                    for key, which in _MOMENTS:
                        if which != _b.SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ or nat.amsgrad:
                            entry[key] = nat.moment(j, which)
                    state[idx + j] = entry
            idx += nat.n
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a :meth:`state_dict` (or a torch.optim.Adam state dict converted to numpy).

        As torch: the hyperparameters come from the state dict, params are matched by
        position, and the number of groups and their sizes must agree. Everything is
        validated (keys, shapes, steps, hyperparameters) and new native states are built
        before anything is replaced: on any error the optimizer is unchanged. Moments
        are converted to float32."""
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
        for gi, (sg, nat) in enumerate(zip(saved_groups, self._natives)):
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
                ng.setdefault(k, v)
            norm = _validate_hyper(*_get_hyper(ng), ctx=f" (state_dict['param_groups'][{gi}])")
            ng["params"] = self.param_groups[gi]["params"]
            new_groups.append(ng)
            plans.append((nat, norm, [None] * nat.n))
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
            nat, norm, entries = plans[gi]
            entries[j] = self._check_entry(entry, pid, flat, nat.shapes[j], norm[4])
        # Everything is valid: build the new states, then swap them in.
        built = []
        try:
            for nat, norm, entries in plans:
                h = _create_native(nat.sizes, _make_config(norm, nat.extra_flags))
                built.append(h)
                for j, e in enumerate(entries):
                    if e is None:
                        continue
                    step, moments = e
                    for which, arr in moments:
                        _check(_lib.swiftadam_set_moment(h, j, which, _address(arr), arr.size),
                               "swiftadam_set_moment")
                    _check(_lib.swiftadam_set_tensor_step(h, j, step), "swiftadam_set_tensor_step")
        except BaseException:
            for h in built:
                _free_handle(h)
            raise
        for (nat, norm, _), h, ng in zip(plans, built, new_groups):
            old, nat.handle = nat.handle, h
            _free_handle(old)
            nat.norm = norm
            nat.amsgrad = norm[4]
            nat.pushed = _pushed_copy(_get_hyper(ng))
        self.param_groups[:] = new_groups

    @staticmethod
    def _check_entry(entry, pid, flat, shape, amsgrad):
        where = f"state_dict['state'][{pid!r}]"
        if not isinstance(entry, dict):
            raise TypeError(f"{where} must be a dict")
        unknown = set(entry) - set(_STATE_KEYS)
        if unknown:
            raise ValueError(f"{where} has unknown keys {sorted(map(str, unknown))}; Adam's per-param "
                             f"state has {list(_STATE_KEYS)}")
        needed = ["step", "exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])
        for key in needed:
            if key not in entry:
                raise ValueError(f"{where} lacks {key!r}")
        s = _read_state_value(entry["step"], f"{where}['step']")
        if s.size != 1 or s.dtype.kind not in "fiu":
            raise ValueError(f"{where}['step'] must be one number, got {entry['step']!r}")
        sv = float(s.reshape(()))
        if not (0 <= sv < _MAX_STEP) or sv != math.floor(sv):
            raise ValueError(f"{where}['step'] must be a whole number in [0, 2**53), got {sv}")
        moments = []
        for key, which in _MOMENTS:
            if key not in needed:
                continue
            a = _read_state_value(entry[key], f"{where}[{key!r}]")
            if a.dtype.kind not in "fiu":
                raise TypeError(f"{where}[{key!r}] has dtype {a.dtype}; expected float32")
            if a.shape != shape:
                raise ValueError(f"{where}[{key!r}] has shape {a.shape} but params[{flat}] has shape {shape}")
            moments.append((which, np.array(a, dtype=_F32, order="C", copy=True)))
        return int(sv), moments

    # ---- checkpoints through the C ABI ----

    def _single_native(self, what):
        self._require_open()
        if len(self._natives) != 1:
            raise NotImplementedError(
                f"{what} writes the C checkpoint of one param group; this optimizer has "
                f"{len(self._natives)}. Use state_dict() (e.g. with np.savez or pickle) instead."
            )
        self._sync_hyperparameters()
        return self._natives[0]

    def save(self, path):
        """Write an atomic checkpoint (``swiftadam_save``: temporary file, fsync, rename) of
        the optimizer state — hyperparameters, per-param steps, moments — to ``path``.

        The file is the C library's checkpoint format (docs/FORMAT.md), so it covers exactly
        ONE param group; with several groups this raises NotImplementedError (use
        :meth:`state_dict`). The params themselves are not saved: save your model separately.
        Pending changes to ``param_groups`` are applied first."""
        nat = self._single_native("save()")
        _check(_lib.swiftadam_save(nat.handle, os.fsencode(os.fspath(path))), "swiftadam_save")

    def to_bytes(self):
        """The checkpoint of :meth:`save` as bytes (``swiftadam_serialize``). One group only."""
        nat = self._single_native("to_bytes()")
        size = ctypes.c_size_t()
        _check(_lib.swiftadam_serialized_size(nat.handle, ctypes.byref(size)), "swiftadam_serialized_size")
        buf = ctypes.create_string_buffer(max(size.value, 1))
        written = ctypes.c_size_t()
        _check(_lib.swiftadam_serialize(nat.handle, buf, size.value, ctypes.byref(written)),
               "swiftadam_serialize")
        return ctypes.string_at(buf, written.value)

    @classmethod
    def load(cls, path, params, **overrides):
        """A new optimizer for ``params`` (a list of float32 arrays: ONE group) from the
        checkpoint file at ``path`` (``swiftadam_load``). The checkpoint must hold exactly as
        many tensors with exactly the params' sizes (else SwiftAdamError SIZE_MISMATCH);
        hyperparameters, steps and moments come from it. Keyword arguments (lr, betas, eps,
        weight_decay, maximize, decoupled_weight_decay) override the stored values;
        amsgrad cannot differ from the checkpoint's."""
        fpath = os.fsencode(os.fspath(path))
        return cls._from_native(params, overrides,
                                lambda lens, n, out: _lib.swiftadam_load(fpath, lens, n, out),
                                "swiftadam_load")

    @classmethod
    def from_bytes(cls, data, params, **overrides):
        """:meth:`load` from the bytes of :meth:`to_bytes` (``swiftadam_deserialize``)."""
        if not isinstance(data, bytes):
            try:
                data = bytes(memoryview(data))
            except TypeError:
                raise TypeError(f"data must be bytes-like, got {type(data).__qualname__}") from None
        return cls._from_native(params, overrides,
                                lambda lens, n, out: _lib.swiftadam_deserialize(data, len(data), lens, n, out),
                                "swiftadam_deserialize")

    @classmethod
    def _from_native(cls, params, overrides, open_fn, call):
        unknown = set(overrides) - set(_HYPER_KEYS)
        if unknown:
            raise TypeError(f"unexpected keyword arguments {sorted(unknown)}; "
                            f"allowed: {list(_HYPER_KEYS)}")
        groups = cls._split_groups(params)
        if len(groups) != 1 or set(groups[0]) != {"params"}:
            raise TypeError("load()/from_bytes() take the params of ONE group as a list of arrays "
                            "(the hyperparameters come from the checkpoint; override them with "
                            "keyword arguments)")
        plist = groups[0]["params"]
        plist = [plist] if isinstance(plist, _ndarray) else list(plist)
        for j, p in enumerate(plist):
            _check_param(p, j)
        self = cls.__new__(cls)
        self._natives = None  # closed until complete (so __del__ has nothing to free)
        self._single = None
        self._flat_cache = None
        self.param_groups = []
        self._count = 0
        _check_no_overlap([], plist)
        n = len(plist)
        lens = (ctypes.c_size_t * n)(*[p.size for p in plist])
        h = _c_void_p()
        _check(open_fn(lens, n, ctypes.byref(h)), call)
        try:
            probe = _Native(plist, [p.shape for p in plist], h, None, 0, None)
        except BaseException:
            _free_handle(h)
            raise
        try:
            hyper, extra = _hyper_from_config(probe.config())
            pushed_norm = _validate_hyper(*[hyper[k] for k in _HYPER_KEYS])
            group = {"params": plist, **hyper}
            if "amsgrad" in overrides and bool(overrides["amsgrad"]) != hyper["amsgrad"]:
                raise ValueError(f"amsgrad={overrides['amsgrad']} differs from the checkpoint's "
                                 f"amsgrad={hyper['amsgrad']}, which cannot change")
            group.update(overrides)
            norm = _validate_hyper(*_get_hyper(group))
            probe.norm = pushed_norm
            probe.amsgrad = pushed_norm[4]
            probe.extra_flags = extra
            probe.pushed = _pushed_copy(tuple(hyper[k] for k in _HYPER_KEYS))
            self.defaults = {k: v for k, v in group.items() if k != "params"}
            self._natives = [probe]
            self.param_groups.append(group)
            self._count = n
            self._single = probe if n == 1 else None
            if norm != pushed_norm:
                self._sync_hyperparameters()
        except BaseException:
            self._natives = None
            probe.free()
            raise
        return self


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): ``Adam(...,
    decoupled_weight_decay=True)`` with torch's AdamW default ``weight_decay=1e-2``.

    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False)``. See :class:`Adam` for the algorithm, with
    ``p = p * (1 - lr * weight_decay)`` applied before the moment update.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
