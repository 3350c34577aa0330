"""``swiftadam.Adam`` and ``swiftadam.AdamW``: torch.optim's API over libSwiftAdam."""
from __future__ import annotations

import bisect
import copy
import ctypes
import functools
import math
import operator
import os
import threading

import numpy as np

from . import _bindings as _b
from ._errors import SwiftAdamError
from ._errors import check as _check
from ._errors import status_name as _status_name

__all__ = ["Adam", "AdamW"]

_lib = _b.lib
_F32 = np.dtype(np.float32)
_ndarray = np.ndarray
_c_void_p = ctypes.c_void_p
_c_char_from_buffer = ctypes.c_char.from_buffer
_addressof = ctypes.addressof
_bisect = bisect.bisect_left

# A valid address for zero-length tensors (the C ABI wants non-NULL pointers even when
# nothing is read or written).
_EMPTY = (ctypes.c_float * 4)()
_EMPTY_ADDR = ctypes.addressof(_EMPTY)

_HYPER_KEYS = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")
_get_hyper = operator.itemgetter(*_HYPER_KEYS)
# SwiftAdam's extension (DeepSpeed's name): a group without this key bias-corrects, as torch
# always does, so the key appears only where it was set and torch-layout dicts stay torch's.
_BIAS_KEY = "bias_correction"
_STATE_KEYS = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
_MOMENTS = (
    ("exp_avg", _b.SWIFTADAM_MOMENT_EXP_AVG),
    ("exp_avg_sq", _b.SWIFTADAM_MOMENT_EXP_AVG_SQ),
    ("max_exp_avg_sq", _b.SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ),
)
_MAX_STEP = 1 << 53  # torch stores step as a float64 tensor; the library counts up to it
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


def _validate_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled, bias_correction=True,
                    ctx=""):
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
    return (flr, (fb[0], fb[1]), feps, fwd, bool(amsgrad), bool(maximize), bool(decoupled),
            bool(bias_correction))


def _group_norm(group, ctx=""):
    """The validated, normalized hyperparameters of a param group (KeyError if one lacks)."""
    return _validate_hyper(*_get_hyper(group), group.get(_BIAS_KEY, True), ctx=ctx)


def _flags_of(norm):
    _, _, _, _, amsgrad, maximize, decoupled, bias_correction = norm
    flags = 0 if bias_correction else _b.SWIFTADAM_FLAG_NO_BIAS_CORRECTION
    if amsgrad:
        flags |= _b.SWIFTADAM_FLAG_AMSGRAD
    if maximize:
        flags |= _b.SWIFTADAM_FLAG_MAXIMIZE
    if decoupled:
        flags |= _b.SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY
    return flags


def _make_config(norm):
    cfg = _b.swiftadam_config()
    _check(_lib.swiftadam_config_init(ctypes.byref(cfg), ctypes.sizeof(cfg)), "swiftadam_config_init")
    lr, (b1, b2), eps, wd = norm[:4]
    cfg.lr, cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay = lr, b1, b2, eps, wd
    cfg.flags = _flags_of(norm)
    return cfg


def _hyper_from_config(cfg):
    """The param-group hyperparameters a native config stands for (every flag has a key;
    ``bias_correction`` only when it is off)."""
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
    if f & _b.SWIFTADAM_FLAG_NO_BIAS_CORRECTION:
        hyper[_BIAS_KEY] = False
    return hyper


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


def _fs_path(path):
    """``path`` as the bytes the OS will see (os.fsencode: no re-encoding, so distinct
    names stay distinct). ValueError for an empty path, and for a NUL byte, which C would
    silently cut the name at (open() refuses it too)."""
    fpath = os.fsencode(os.fspath(path))
    if not fpath:
        raise ValueError("path must not be empty")
    if b"\0" in fpath:
        raise ValueError(f"embedded null byte in path {path!r}")
    return fpath


def _read_state_value(v, what):
    try:
        return np.asarray(v)
    except Exception as e:
        raise TypeError(f"{what} cannot be read as an array: {e}") from None


# ---- one native state per param group ------------------------------------------------


def _skipped(rc, nat, grads):
    """The status of a native step of ``nat``: False if it ran (counted in ``nat.bound``),
    True if SWIFTADAM_STEP_SKIPPED; raises SwiftAdamError on an error."""
    if rc == 0:
        nat.bound += 1
        return False
    if rc < 0:
        _step_failed(rc, nat, grads)
    return True


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
    """The native state of one param group, with the pointer array of its params.

    ``bound`` is an upper bound of the step counts of its tensors, so that a step over
    several groups can see that none is at the limit without asking the library per tensor.
    The single-tensor fast path does not maintain it (one native call is all-or-nothing by
    itself); Adam.add_param_group refreshes it when that path stops being taken."""

    __slots__ = ("handle", "n", "cn", "first", "params", "shapes", "sizes", "nbytes", "pptrs", "gptrs",
                 "p0", "shape0", "size0", "csize0", "below0", "end0", "pushed", "pushed_bc", "norm",
                 "amsgrad", "bound")

    _free_fn = _lib.swiftadam_free  # kept on the class: usable at interpreter shutdown

    def __init__(self, params, handle, first):
        self.handle = handle
        self.n = len(params)
        self.first = first  # flat index of params[0] among all the optimizer's params
        self.params = tuple(params)  # keeps the arrays (and so their memory) alive
        self.shapes = tuple(p.shape for p in params)
        self.sizes = tuple(int(p.size) for p in params)
        self.nbytes = tuple(4 * s for s in self.sizes)
        addrs = [_address(p) for p in params]
        self.pptrs = (_c_void_p * self.n)(*addrs)
        self.gptrs = (_c_void_p * self.n)()
        self.p0 = _c_void_p(addrs[0])
        self.shape0 = self.shapes[0]
        self.size0 = self.sizes[0]
        self.csize0 = ctypes.c_size_t(self.size0)
        # a grad at address a overlaps params[0] iff below0 < a < end0 (never when it is empty)
        self.below0 = addrs[0] - self.nbytes[0]
        self.end0 = addrs[0] + self.nbytes[0]
        self.cn = ctypes.c_size_t(self.n)
        self.norm = self.pushed = self.amsgrad = None
        self.pushed_bc = True
        self.bound = 0

    def adopt(self, norm, pushed, pushed_bc):
        """Record the hyperparameters now in the native config, and the group's values they
        came from (a step pushes them again when the group's values change)."""
        self.norm = norm
        self.amsgrad = norm[4]
        self.pushed = pushed
        self.pushed_bc = pushed_bc

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

    def steps(self):
        """Every tensor's step count (one library call each); refreshes ``bound``."""
        steps = [self.tensor_step(j) for j in range(self.n)]
        self.bound = max(steps)
        return steps

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

    def serialize(self):
        """The checkpoint bytes of this state (swiftadam_serialize)."""
        size = ctypes.c_size_t()
        _check(_lib.swiftadam_serialized_size(self.handle, ctypes.byref(size)), "swiftadam_serialized_size")
        buf = ctypes.create_string_buffer(max(size.value, 1))
        written = ctypes.c_size_t()
        _check(_lib.swiftadam_serialize(self.handle, buf, size.value, ctypes.byref(written)),
               "swiftadam_serialize")
        return ctypes.string_at(buf, written.value)


def _create_native(lengths, cfg):
    n = len(lengths)
    arr = (ctypes.c_size_t * n)(*lengths)
    h = _c_void_p()
    _check(_lib.swiftadam_create(arr, n, ctypes.byref(cfg), ctypes.byref(h)), "swiftadam_create")
    return h


def _free_handle(h):
    if h is not None and h.value:
        _lib.swiftadam_free(h)


def _open_native(params, first, open_fn, call):
    """A _Native over the state ``open_fn(lengths, count, out)`` opens for ``params`` (a
    checkpoint read with the params' sizes as the expected lengths), with the
    hyperparameters its config holds. Returns (native, the hyperparameters as a group's keys)."""
    n = len(params)
    lens = (ctypes.c_size_t * n)(*[p.size for p in params])
    h = _c_void_p()
    _check(open_fn(lens, n, ctypes.byref(h)), call)
    try:
        nat = _Native(params, h, first)
        cfg = nat.config()
        if cfg.dtype != _b.SWIFTADAM_DTYPE_FLOAT32 or cfg.flavor != _b.SWIFTADAM_FLAVOR_TORCH:
            dtype = "float64" if cfg.dtype == _b.SWIFTADAM_DTYPE_FLOAT64 else f"dtype {cfg.dtype}"
            flavor = "keras" if cfg.flavor == _b.SWIFTADAM_FLAVOR_KERAS else "torch"
            raise NotImplementedError(
                f"{call}: the checkpoint holds a {dtype if cfg.dtype else 'float32'} state of the "
                f"{flavor} flavour; this Python package drives float32 states of the torch flavour "
                f"only (the C API takes the others: swiftadam_step_f64, SWIFTADAM_FLAVOR_KERAS)")
        hyper = _hyper_from_config(cfg)
        bc = hyper.get(_BIAS_KEY, True)
        nat.adopt(_group_norm(hyper), _pushed_copy(_get_hyper(hyper)), bc)
        nat.steps()
    except BaseException:
        _free_handle(h)
        raise
    return nat, hyper


def _param_ranges(natives, new_params=()):
    """(address, end, flat index) of every non-empty param, sorted; ValueError if a param
    is listed twice or two overlap (the kernel would update that memory twice)."""
    seen = set()
    ranges = []
    idx = 0
    for p in [p for nat in natives for p in nat.params] + list(new_params):
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
    return ranges


def _range_index(ranges):
    """The sorted param ranges as (starts, ends, flat indices): a lookup table for
    :func:`_overlapped_param`."""
    return [r[0] for r in ranges], [r[1] for r in ranges], [r[2] for r in ranges]


def _overlapped_param(index, lo, hi):
    """The flat index of a param sharing a byte with [lo, hi), or -1. Params are sorted and
    disjoint, so only the last one starting below ``hi`` can reach past ``lo``."""
    starts, ends, owners = index
    i = _bisect(starts, hi) - 1
    return owners[i] if i >= 0 and ends[i] > lo else -1


# From this many params on, one vectorized overlap check per step beats a bisect per grad.
_VECTOR_CHECK = 64


def _vector_index(natives, index):
    """The arrays of :func:`_vector_overlap` for these natives (built once per layout)."""
    starts, ends, owners = (np.asarray(x, dtype=np.uintp) for x in index)
    nbytes = np.asarray([b for nat in natives for b in nat.nbytes], dtype=np.uintp)
    views = [np.frombuffer(nat.gptrs, dtype=np.uintp) for nat in natives]
    return starts, ends, owners, nbytes, views


def _vector_overlap(vindex):
    """(k, m): grads[k] (as now in the grad pointer arrays; NULL = no grad) overlaps
    params[m]; or None. The vectorized form of :func:`_overlapped_param`."""
    starts, ends, owners, nbytes, views = vindex
    if not len(starts):
        return None
    g = views[0] if len(views) == 1 else np.concatenate(views)
    i = np.searchsorted(starts, g + nbytes) - 1
    hit = (ends[i] > g) & (i >= 0) & (nbytes != 0) & (g != 0)
    if not hit.any():
        return None
    k = int(np.argmax(hit))
    return k, int(owners[i[k]])


def _overlap_error(what, k):
    return ValueError(f"{what} overlaps params[{k}] in memory; a grad must not share memory with "
                      "any param (the kernel writes the param while it reads the grad): pass a copy")


def _pushed_copy(cur):
    return tuple(copy.copy(x) for x in cur)


def _error(status, message, call):
    """A SwiftAdamError the Python layer raises with the library's code and wording."""
    return SwiftAdamError(status, _status_name(status), message, call)


def _busy(opt, call):
    return _error(_b.SWIFTADAM_ERR_BUSY, f"this {type(opt).__name__} optimizer is in use by another "
                  "thread (calls on one optimizer are not queued)", call)


def _step_limit_error(k):
    return _error(_b.SWIFTADAM_ERR_OVERFLOW, f"params[{k}] has reached the maximum step count 2^53 "
                  "(torch's float64 step counts exactly only up to it); nothing was updated",
                  "swiftadam_step")


def _refuse_step_limit(nat, grads):
    """Raise OVERFLOW naming the first param of ``nat`` at the step limit that this step
    would update (``grads`` None: every one); asks the library for the exact counts."""
    for j, s in enumerate(nat.steps()):
        if s >= _MAX_STEP and (grads is None or grads[nat.first + j] is not None):
            raise _step_limit_error(nat.first + j)


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
            raise _busy(self, call)
        try:
            return method(self, *args, **kwargs)
        finally:
            lock.release()

    return guarded


class Adam:
    r"""The Adam optimizer with torch.optim.Adam's API and semantics, running in libSwiftAdam.

    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
    *, maximize=False, decoupled_weight_decay=False, bias_correction=True)``

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
        denom  = sqrt(vhat) / sqrt(1 - beta2**t) + eps        (bias_correction=False: / 1)
        p      = p - lr / (1 - beta1**t) * m / denom          (bias_correction=False: - lr * m / denom)

    Params: a list of numpy arrays, or a list of dicts ``{"params": [...], "lr": ..., ...}``
    (param groups with their own hyperparameters; missing keys take the constructor's
    values, exactly like torch). Each param must be a ``float32``, C-contiguous, aligned,
    writeable ``numpy.ndarray``; it is updated IN PLACE and never copied, so anything else
    is rejected (TypeError/ValueError saying how to fix it). The optimizer keeps references
    to the arrays. Params may be empty; two params may not overlap in memory.

    ``opt.param_groups`` is a list of dicts with keys ``params, lr, betas, eps,
    weight_decay, amsgrad, maximize, decoupled_weight_decay``, plus ``bias_correction``
    where it was set (DeepSpeed's name; torch always bias-corrects, so a group without
    the key does, and torch-layout groups and state dicts stay as torch writes them).
    Changing a value between steps (learning-rate schedules) takes effect at the next step.
    ``amsgrad`` cannot change after creation (ValueError at the next step). The params of a
    group are fixed at creation (use :meth:`add_param_group` to add more).

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
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False, bias_correction=True):
        self._init_empty([])
        _validate_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay,
                        bias_correction)
        self.defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        if not bias_correction:
            self.defaults[_BIAS_KEY] = bias_correction
        for group in self._split_groups(params):
            self.add_param_group(group)

    def _init_empty(self, natives):
        self._lock = threading.Lock()  # the guard of every call: see _exclusive
        self._natives = natives  # None once closed
        self._single = None  # the _Native when there is one group of one tensor (fast path)
        self._flat_cache = None  # step_flat's pointer layout, rebuilt when the groups change
        self._index = ([], [], [])  # the params' memory ranges: see _overlapped_param
        self._vindex = None  # the same as arrays, for many params: see _vector_overlap
        self.param_groups = []
        self._count = 0

    def _adopt_natives(self, natives):
        """Make ``natives`` (complete, consistent with param_groups) the optimizer's."""
        self._index = _range_index(_param_ranges(natives))
        self._vindex = None
        self._natives = natives
        self._count = sum(nat.n for nat in natives)
        self._single = natives[0] if self._count == 1 else None
        self._flat_cache = None

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

    @_exclusive
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
        ranges = _param_ranges(self._natives, params)
        group = dict(param_group)
        group["params"] = params
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        ctx = f" (param_groups[{gi}])" if gi or len(param_group) > 1 else ""
        norm = _group_norm(group, ctx=ctx)
        if self._single is not None:
            self._single.steps()  # its bound was not kept by the fast path
        handle = _create_native([p.size for p in params], _make_config(norm))
        try:
            nat = _Native(params, handle, self._count)
        except BaseException:
            _free_handle(handle)
            raise
        nat.adopt(norm, _pushed_copy(_get_hyper(group)), group.get(_BIAS_KEY, True))
        self._natives.append(nat)
        self.param_groups.append(group)
        self._index = _range_index(ranges)
        self._vindex = None
        self._count += len(params)
        self._single = nat if self._count == 1 else None

    # ---- life cycle ----

    def _require_open(self):
        if self._natives is None:
            raise ValueError(f"this {type(self).__name__} optimizer is closed")

    @_exclusive
    def close(self):
        """Free the native states. Idempotent; the optimizer cannot be used afterwards.
        (Closing while another thread is inside a call on this optimizer raises
        SWIFTADAM_ERR_BUSY and leaves it open.)"""
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
        return {"defaults": self.defaults, "param_groups": self.param_groups,
                "natives": [(list(nat.params), nat.serialize()) for nat in self._natives]}

    def __setstate__(self, state):
        self._init_empty(None)  # closed until complete (so __del__ has nothing to free)
        natives = []
        try:
            first = 0
            for params, blob in state["natives"]:
                for j, p in enumerate(params):
                    _check_param(p, first + j)
                nat, _ = _open_native(params, first, lambda lens, n, out, b=blob: _lib.swiftadam_deserialize(
                    b, len(b), lens, n, out), "swiftadam_deserialize")
                natives.append(nat)
                first += nat.n
            self.defaults = state["defaults"]
            self.param_groups = state["param_groups"]
            self._adopt_natives(natives)
        except BaseException:
            for nat in natives:
                nat.free()
            self._natives = None
            raise

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
            bc = group.get(_BIAS_KEY, True)
            try:
                changed = cur != nat.pushed or bc is not nat.pushed_bc
            except Exception:  # e.g. betas given as a numpy array: compare after validation
                changed = True
            if changed:
                norm = _validate_hyper(*cur, bc, ctx=f" (param_groups[{i}])")
                if norm[4] != nat.amsgrad:
                    raise ValueError(
                        f"param_groups[{i}]['amsgrad'] cannot change after the optimizer is "
                        f"created (it was {nat.amsgrad}; the max_exp_avg_sq buffer is allocated "
                        "once): create a new optimizer instead"
                    )
                if changes is None:
                    changes = []
                changes.append((nat, cur, bc, norm))
        return changes

    @staticmethod
    def _push(changes):
        for nat, cur, bc, norm in changes:
            if norm[1:] == nat.norm[1:]:
                _check(_lib.swiftadam_set_lr(nat.handle, norm[0]), "swiftadam_set_lr")
            else:
                _check(_lib.swiftadam_set_config(nat.handle, ctypes.byref(_make_config(norm))),
                       "swiftadam_set_config")
            nat.adopt(norm, _pushed_copy(cur), bc)

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
        its param's shape and must not share memory with any param; float32 C-contiguous
        grads are used as they are, anything else is converted with
        ``np.require(g, np.float32, ["C", "A"])`` (a copy).

        ``skip_if_nonfinite=True``: if any grad holds NaN or +-Inf, nothing at all is
        changed and ``False`` is returned (torch's GradScaler). Otherwise returns ``True``.

        Every argument, and every param's step limit (2^53), is checked before anything
        changes: on an error the params and the optimizer state are untouched, in every
        group. SwiftAdamError reports a library failure (BUSY: another thread is inside a
        call on this optimizer).
        """
        lock = self._lock  # inline _exclusive: this is the per-step path
        if not lock.acquire(False):
            raise _busy(self, "Adam.step")
        try:
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
                if a and not a & 3 and not nat.below0 < a < nat.end0:
                    g0 = self.param_groups
                    try:
                        g0, = g0
                        dirty = _get_hyper(g0) != nat.pushed or g0.get(_BIAS_KEY, True) is not nat.pushed_bc
                    except Exception:
                        dirty = True
                    if dirty:
                        self._sync_hyperparameters()
                    rc = _step_tensor(nat.handle, nat.p0, a, nat.csize0, flags)
                    if rc:
                        if rc < 0:
                            _step_failed(rc, nat, grads)
                        return False
                    return True
            return self._step_general(grads, flags)
        finally:
            lock.release()

    @_exclusive
    def step_flat(self, flat_grad, *, skip_if_nonfinite=False):
        """One Adam step with every grad packed into ONE float32 array.

        ``flat_grad``: a C-contiguous float32 ndarray with as many elements as all params
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
        base = _address(g)
        if g.size:
            k = _overlapped_param(self._index, base, base + g.nbytes)
            if k >= 0:
                raise _overlap_error("flat_grad", k)
        flags = _SKIP_NONFINITE if skip_if_nonfinite else _NO_FLAGS
        if skip_if_nonfinite and len(natives) > 1 and not np.isfinite(g).all():
            return False  # the native check is per group; the whole step must skip
        changes = self._collect_changes()
        if len(natives) > 1:
            for nat in natives:
                if nat.bound >= _MAX_STEP:
                    _refuse_step_limit(nat, None)
        if changes:
            self._push(changes)
        skipped = False
        for nat, offsets, view in cache[2]:
            np.add(offsets, base, out=view)
            skipped |= _skipped(_step_group(nat.handle, nat.pptrs, nat.gptrs, nat.cn, flags), nat, None)
        return not skipped

    def _step_general(self, grads, flags):
        natives = self._natives
        if len(grads) != self._count:
            raise ValueError(f"expected {self._count} grads (one per param, in order, None to skip "
                             f"a param), got {len(grads)}")
        starts, ends, owners = self._index
        bisect_ = _bisect if self._count < _VECTOR_CHECK else None
        keep = None  # converted grads: alive until the native calls return
        calls = []
        k = 0
        for nat in natives:
            gptrs = nat.gptrs
            nbytes = nat.nbytes
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
                    if bisect_ is not None:  # inline _overlapped_param(self._index, a, a + nbytes[j])
                        i = bisect_(starts, a + nbytes[j]) - 1
                        if i >= 0 and ends[i] > a and nbytes[j]:
                            raise _overlap_error(f"grads[{k}]", owners[i])
                    gptrs[j] = single = a
                    live += 1
                k += 1
            if live:
                calls.append((nat, single if nat.n == 1 else None))
        if bisect_ is None:
            vindex = self._vindex
            if vindex is None:
                vindex = self._vindex = _vector_index(natives, self._index)
            hit = _vector_overlap(vindex)
            if hit is not None:
                raise _overlap_error(f"grads[{hit[0]}]", hit[1])
        changes = self._collect_changes()
        if flags is _SKIP_NONFINITE and len(calls) > 1 and not self._all_finite(grads):
            return False  # the native check is per group; the whole step must skip
        if len(calls) > 1:
            # One native call is all-or-nothing by itself; several must not stop half-way.
            for nat, _ in calls:
                if nat.bound >= _MAX_STEP:
                    _refuse_step_limit(nat, grads)
        if changes:
            self._push(changes)
        skipped = False
        for nat, a in calls:
            if a is not None:
                rc = _step_tensor(nat.handle, nat.p0, a, nat.csize0, flags)
            else:
                rc = _step_group(nat.handle, nat.pptrs, nat.gptrs, nat.cn, flags)
            skipped |= _skipped(rc, nat, grads)
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

    @_exclusive
    def state_dict(self):
        """torch's layout, with numpy arrays::

            {"state": {flat_index: {"step": float, "exp_avg": ndarray, "exp_avg_sq": ndarray,
                                    "max_exp_avg_sq": ndarray (amsgrad only)}},
             "param_groups": [{"lr": ..., "betas": ..., ..., "params": [flat indices]}]}

        Arrays are float32 copies shaped like their params. A param never stepped has no
        entry in "state" (as in torch), unless a loaded state gave it non-zero moments.
        ``step`` is a Python float (torch keeps a float tensor; up to 2**53, exact).
        Every state the library accepts comes back unchanged through
        :meth:`load_state_dict`, bit for bit."""
        self._require_open()
        state = {}
        groups = []
        idx = 0
        for group, nat in zip(self.param_groups, self._natives):
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(idx, idx + nat.n))
            groups.append(copy.deepcopy(packed))
            for j, step in enumerate(nat.steps()):
                moments = [(key, nat.moment(j, which)) for key, which in _MOMENTS
                           if which != _b.SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ or nat.amsgrad]
                # bit patterns, not values: a loaded -0.0 must come back too
                if step > 0 or any(m.view(np.uint32).any() for _, m in moments):
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
        torch, whatever this optimizer was created with)."""
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
                if k != _BIAS_KEY:
                    ng.setdefault(k, v)
            norm = _group_norm(ng, ctx=f" (state_dict['param_groups'][{gi}])")
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
                h = _create_native(nat.sizes, _make_config(norm))
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
        for (nat, norm, entries), h, ng in zip(plans, built, new_groups):
            old, nat.handle = nat.handle, h
            _free_handle(old)
            nat.adopt(norm, _pushed_copy(_get_hyper(ng)), ng.get(_BIAS_KEY, True))
            nat.bound = max(e[0] if e else 0 for e in entries)
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
        s = s.reshape(())[()]
        sv = int(s) if s.dtype.kind in "iu" else float(s)  # an int above 2**53 stays exact
        if not (0 <= sv <= _MAX_STEP) or sv != math.floor(sv):
            raise ValueError(f"{where}['step'] must be a whole number in [0, 2**53], got {sv}")
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
        fpath = _fs_path(path)
        nat = self._single_native("save()")
        _check(_lib.swiftadam_save(nat.handle, fpath), "swiftadam_save")

    @_exclusive
    def to_bytes(self):
        """The checkpoint of :meth:`save` as bytes (``swiftadam_serialize``). One group only."""
        return self._single_native("to_bytes()").serialize()

    @classmethod
    def load(cls, path, params, **overrides):
        """A new optimizer for ``params`` (a list of float32 arrays: ONE group) from the
        checkpoint file at ``path`` (``swiftadam_load``; paths as in :meth:`save`). The
        checkpoint must hold exactly as many tensors with exactly the params' sizes (else
        SwiftAdamError SIZE_MISMATCH); hyperparameters, steps and moments come from it.
        Keyword arguments (lr, betas, eps, weight_decay, maximize, decoupled_weight_decay,
        bias_correction) override the stored values; amsgrad cannot differ from the
        checkpoint's."""
        fpath = _fs_path(path)
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
        allowed = _HYPER_KEYS + (_BIAS_KEY,)
        unknown = set(overrides) - set(allowed)
        if unknown:
            raise TypeError(f"unexpected keyword arguments {sorted(unknown)}; "
                            f"allowed: {list(allowed)}")
        groups = cls._split_groups(params)
        if len(groups) != 1 or set(groups[0]) != {"params"}:
            raise TypeError("load()/from_bytes() take the params of ONE group as a list of arrays "
                            "(the hyperparameters come from the checkpoint; override them with "
                            "keyword arguments)")
        plist = groups[0]["params"]
        plist = [plist] if isinstance(plist, _ndarray) else list(plist)
        for j, p in enumerate(plist):
            _check_param(p, j)
        _param_ranges([], plist)
        self = cls.__new__(cls)
        self._init_empty(None)  # closed until complete (so __del__ has nothing to free)
        nat, hyper = _open_native(plist, 0, open_fn, call)
        try:
            group = {"params": plist, **hyper}
            if "amsgrad" in overrides and bool(overrides["amsgrad"]) != hyper["amsgrad"]:
                raise ValueError(f"amsgrad={overrides['amsgrad']} differs from the checkpoint's "
                                 f"amsgrad={hyper['amsgrad']}, which cannot change")
            group.update(overrides)
            norm = _group_norm(group)
            self.defaults = {k: v for k, v in group.items() if k != "params"}
            self.param_groups.append(group)
            self._adopt_natives([nat])
            if norm != nat.norm:
                self._sync_hyperparameters()
        except BaseException:
            self._natives = None
            nat.free()
            raise
        return self


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): ``Adam(...,
    decoupled_weight_decay=True)`` with torch's AdamW default ``weight_decay=1e-2``.

    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False, bias_correction=True)``. See :class:`Adam` for the
    algorithm, with ``p = p * (1 - lr * weight_decay)`` applied before the moment update.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, bias_correction=True):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True,
                         bias_correction=bias_correction)
