"""Argument validation for the optimizer classes: hyperparameters, params, grads, memory
overlaps, state-dict entries and paths. Every check names the argument and its value, in
torch.optim's words where torch has them; the errors the Python layer raises with the
library's codes (BUSY, OVERFLOW) are built here too."""
from __future__ import annotations

import bisect
import copy
import ctypes
import math
import operator
import os

import numpy as np

from . import _bindings as _b
from ._errors import SwiftAdamError
from ._errors import status_name as _status_name
from ._native import BF16, DTYPES, EXTENSIONS, F32, FLAVORS, HALF, MAX_STEP, MOMENTS, TORCH_KEYS, Hyper, address

_ndarray = np.ndarray
_c_char_from_buffer = ctypes.c_char.from_buffer
_addressof = ctypes.addressof
_bisect = bisect.bisect_left

# ---- hyperparameters ------------------------------------------------------------------


def _real(name, value, ctx):
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a real number, got {value!r}{ctx}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}{ctx}") from None


def hyper(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay, bias_correction=True,
          flavor="torch", ctx=""):
    """torch.optim.Adam's checks (same words), plus finiteness, which the native library
    requires. Arguments in :class:`Hyper`'s field order; returns the normalized Hyper."""
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
    if not (isinstance(flavor, str) and flavor in FLAVORS):
        raise ValueError(f"Invalid flavor: {flavor!r}; expected one of {sorted(FLAVORS)}{ctx}")
    return Hyper(flr, (fb[0], fb[1]), feps, fwd, bool(amsgrad), bool(maximize), bool(decoupled_weight_decay),
                 bool(bias_correction), flavor)


_torch_values = operator.itemgetter(*TORCH_KEYS)
_EXT_KEYS, _EXT_DEFAULTS = tuple(EXTENSIONS), tuple(EXTENSIONS.values())


def group_values(group):
    """A param group's hyperparameters as given, in Hyper's field order (an extension the
    group lacks reads as its default); KeyError if a torch key is missing."""
    return _torch_values(group) + tuple(map(group.get, _EXT_KEYS, _EXT_DEFAULTS))


def snapshot(group):
    """A copy of a param group, for telling at each step whether it changed (one dict
    comparison): values copied, so that a list edited in place looks changed; "params"
    kept as it is (it is compared by identity, never by value)."""
    return {k: v if k == "params" else copy.copy(v) for k, v in group.items()}


def group_hyper(group, ctx=""):
    """The validated hyperparameters of a param group (KeyError if one lacks)."""
    return hyper(*group_values(group), ctx=ctx)


# ---- params -----------------------------------------------------------------------------

_FIX = "SwiftAdam updates params in place and never copies them"


def param(p, idx):
    """A param must be a float32, float64, float16 or bfloat16 (ml_dtypes), C-contiguous,
    aligned, writeable numpy.ndarray."""
    name = f"params[{idx}]"
    if not isinstance(p, _ndarray):
        raise TypeError(
            f"{name} is a {type(p).__module__}.{type(p).__qualname__}, not a numpy.ndarray; {_FIX}: "
            f"pass p = np.asarray(p, dtype=np.float32) and keep using that array in your model"
        )
    if p.dtype not in DTYPES:
        extra = ("; bfloat16 needs ml_dtypes: pip install 'swiftadam[bf16]'"
                 if p.dtype.name == "bfloat16" and BF16 is None else "")
        raise TypeError(
            f"{name} is {p.dtype}; {_FIX}: pass p = np.asarray(p, dtype=np.float32) "
            f"(a new float32 array; float64, float16 and bfloat16 work too) and keep using that array "
            f"in your model{extra}"
        )
    if _broadcast(p):
        raise ValueError(
            f"{name} is a {_broadcast_words(p)}; {_FIX}: pass p = p.copy() and keep using that "
            f"array in your model"
        )
    if not p.flags.c_contiguous:
        raise ValueError(
            f"{name} is not C-contiguous (shape {p.shape}, strides {p.strides}); {_FIX}: "
            f"pass p = np.ascontiguousarray(p) and keep using that array in your model"
        )
    if not p.flags.aligned:
        raise ValueError(
            f"{name} is not aligned to {p.dtype.alignment} bytes; {_FIX}: pass p = p.copy() and "
            f"keep using that array in your model"
        )
    if not p.flags.writeable:
        raise ValueError(
            f"{name} is read-only; {_FIX}: pass a writeable array (p = p.copy()) and keep "
            f"using that array in your model"
        )


def _broadcast(a):
    """Whether one element of ``a`` stands for several (a stride 0 over a dimension > 1)."""
    return a.size > 1 and any(s == 0 and d > 1 for s, d in zip(a.strides, a.shape))


def _broadcast_words(a):
    ro = "read-only " if not a.flags.writeable else ""
    return (f"{ro}broadcast view (shape {a.shape}, strides {a.strides}: one element stands for "
            "many, as np.broadcast_to gives)")


def replacement(p, idx, old):
    """``p`` may take the place of param ``old`` (``step(..., params=)``): a param as at
    creation, with ``old``'s shape and dtype, since the moments are kept by position."""
    param(p, idx)
    if p.shape != old.shape or p.dtype != old.dtype:
        raise ValueError(
            f"params[{idx}] is {p.dtype} of shape {p.shape} but the optimizer's params[{idx}] is "
            f"{old.dtype} of shape {old.shape}; a param passed to step(params=) replaces the one at "
            "its position and keeps its moments, so it must match (for a new param use add_param_group)"
        )


def group_dtype(params, first):
    """The one dtype of a param group's (checked) params; TypeError if they mix dtypes."""
    dtype = params[0].dtype
    for j, p in enumerate(params):
        if p.dtype != dtype:
            raise TypeError(
                f"params[{first + j}] is {p.dtype} but params[{first}] of its param group is {dtype}: a "
                f"group holds one dtype. {_FIX}: pass p = np.asarray(p, dtype=np.{dtype}) and keep "
                f"using that array in your model, or put the {p.dtype} params in a group of their own"
            )
    return dtype


def state_dtype(state, params, call):
    """A state opened from a checkpoint must hold the dtype of the params it will step."""
    if state.dtype != params[0].dtype:
        raise TypeError(f"{call}: the checkpoint holds a {state.dtype} state but the params are "
                        f"{params[0].dtype}; pass {state.dtype} params")


def param_list(params, gi):
    """The params of a param-group dict as a list (torch's rules on sets and lone tensors)."""
    if isinstance(params, _ndarray):
        return [params]
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            "optimizer parameters need to be organized in ordered collections, but the "
            "ordering of tensors in sets will change between runs. Please use a list instead."
        )
    params = list(params)
    if not params:
        raise ValueError(f"param group {gi} has no params (SwiftAdam needs at least one per group)")
    return params


def split_groups(params):
    """The constructor's ``params`` as a list of param-group dicts."""
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


# ---- memory overlaps ----------------------------------------------------------------------


def param_ranges(params):
    """(address, end, flat index) of every non-empty param, sorted; ValueError if a param
    is listed twice or two overlap (the kernel would update that memory twice)."""
    seen = set()
    ranges = []
    for idx, p in enumerate(params):
        if id(p) in seen:
            raise ValueError("some parameters appear more than once (in one group or in "
                             f"several); params[{idx}] is a repeat")
        seen.add(id(p))
        if p.size:
            a = address(p)
            ranges.append((a, a + p.nbytes, idx))
    ranges.sort()
    for (s0, e0, i0), (s1, e1, i1) in zip(ranges, ranges[1:]):
        if s1 < e0:
            a, b = sorted((i0, i1))
            raise ValueError(f"params[{a}] and params[{b}] overlap in memory (views of one "
                             "buffer?); every param must have its own memory")
    return ranges


def range_index(ranges):
    """The sorted param ranges as (starts, ends, flat indices): a lookup table for
    :func:`overlapped_param`."""
    return [r[0] for r in ranges], [r[1] for r in ranges], [r[2] for r in ranges]


def overlapped_param(index, lo, hi):
    """The flat index of a param sharing a byte with [lo, hi), or -1. Params are sorted and
    disjoint, so only the last one starting below ``hi`` can reach past ``lo``."""
    starts, ends, owners = index
    i = _bisect(starts, hi) - 1
    return owners[i] if i >= 0 and ends[i] > lo else -1


# From this many params on, one vectorized overlap check per step beats a bisect per grad.
VECTOR_CHECK = 64


def vector_index(index, nbytes, gptr_arrays):
    """The arrays of :func:`vector_overlap`: the param ranges, every param's byte size and
    views of the grad pointer arrays (built once per layout)."""
    starts, ends, owners = (np.asarray(x, dtype=np.uintp) for x in index)
    views = [np.frombuffer(g, dtype=np.uintp) for g in gptr_arrays]
    return starts, ends, owners, np.asarray(nbytes, dtype=np.uintp), views


def vector_overlap(vindex):
    """(k, m): grads[k] (as now in the grad pointer arrays; NULL = no grad) overlaps
    params[m]; or None. The vectorized form of :func:`overlapped_param`."""
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


def overlap_error(what, k):
    return ValueError(f"{what} overlaps params[{k}] in memory; a grad must not share memory with "
                      "any param (the kernel writes the param while it reads the grad): pass a copy")


# ---- grads ----------------------------------------------------------------------------------


def direct_address(g, dtype, shape, mask):
    """The address of grad ``g`` if the library can read it where it is (a C-contiguous
    ndarray of the param's ``dtype`` and ``shape``, its address a multiple of ``mask + 1``),
    else 0. The per-step fast path."""
    if type(g) is _ndarray and g.dtype is dtype and g.shape == shape:
        try:
            a = _addressof(_c_char_from_buffer(g))  # C-contiguous and writeable only
        except (TypeError, ValueError, BufferError):
            return 0
        if not a & mask:
            return a
    return 0


def grad(g, idx, shape, dtype, strict, half=False):
    """grads[idx] for a param of ``shape`` and ``dtype`` when :func:`direct_address` refused
    it: validated and, unless ``strict``, converted with ``np.require(g, dtype, ["C", "A"])``
    (a copy when g is not already such an array). Returns (address, the array to keep alive
    during the native call)."""
    try:
        a = np.asarray(g)
    except Exception as e:
        raise TypeError(f"grads[{idx}] cannot be read as an array: {e}") from None
    if a.dtype.kind not in "fiub" and a.dtype not in HALF:
        raise TypeError(f"grads[{idx}] is {type(g).__qualname__} of dtype {a.dtype}; a grad must "
                        f"be an array of real numbers ({dtype}, its param's dtype, best)")
    if a.shape != shape:
        raise ValueError(f"grads[{idx}] has shape {a.shape} but params[{idx}] has shape {shape}")
    c = np.require(a, dtype=dtype, requirements=["C_CONTIGUOUS", "ALIGNED"])
    if strict and (c is not a or not isinstance(g, _ndarray)):
        what = (f"a {type(g).__module__}.{type(g).__qualname__}" if not isinstance(g, _ndarray) else
                f"{a.dtype}" if a.dtype != dtype else f"a {_broadcast_words(a)}" if _broadcast(a) else
                f"not C-contiguous and aligned (strides {a.strides})")
        if half:  # ``dtype`` is float32 here: the group's grads were not all of the params' dtype
            raise TypeError(f"grads[{idx}] is {what}; with strict_grads=True the grads of a 16-bit param group "
                            "must be C-contiguous, aligned numpy.ndarrays of their param's shape, in one step "
                            "either all of the params' dtype or all float32 (it would be converted, a copy)")
        raise TypeError(f"grads[{idx}] is {what}; with strict_grads=True a grad must be a C-contiguous, "
                        f"aligned {dtype} numpy.ndarray (its param's dtype) of its param's shape (it would "
                        f"be converted, a copy): pass np.ascontiguousarray(g, dtype=np.{dtype})")
    return address(c), c


def grads_as_list(grads):
    if isinstance(grads, _ndarray):
        raise TypeError("grads must be a list with one grad per param (None to skip one), "
                        "got a single numpy.ndarray: wrap it, opt.step([g])")
    try:
        return list(grads)
    except TypeError:
        raise TypeError(f"grads must be a list with one grad per param, got "
                        f"{type(grads).__qualname__}") from None


def all_finite(grads, dtypes, inv_scale=None):
    """Whether every grad (None: none) holds only finite values as the step would read it
    (converted to ``dtypes[k]``, its param's dtype; with ``inv_scale``, a float32, every
    param is 16-bit and the grads are unscaled as the kernel does: float32 times inv_scale)."""
    for g, dtype in zip(grads, dtypes):
        if g is None:
            continue
        a = np.asarray(g)
        if inv_scale is not None:
            with np.errstate(over="ignore"):  # an overflow to Inf is what is looked for
                a = np.asarray(a, dtype=dtype).astype(F32) * inv_scale
        elif a.dtype != dtype:
            a = a.astype(dtype)
        if not np.isfinite(a).all():
            return False
    return True


def grad_scale(scale, half):
    """The float32 ``inv_scale = (float)(1.0 / scale)`` of a valid ``step(grad_scale=)``:
    finite, > 0, with a finite non-zero float32 reciprocal (the library's rule); ``half``
    says whether every param group is float16/bfloat16 (the only ones it unscales)."""
    if not half:
        raise ValueError(f"grad_scale needs float16/bfloat16 params: grad_scale={scale!r} was given to an "
                         "optimizer with float32 or float64 param groups (unscale their grads yourself, or "
                         "keep them in a separate optimizer)")
    s = _real("grad_scale", scale, "")
    with np.errstate(over="ignore", divide="ignore"):
        inv = np.float32(1.0 / s) if 0.0 < s < math.inf else np.float32(0)
    if not (0 < inv < math.inf):
        raise ValueError(f"Invalid grad_scale: {scale!r}; it must be finite and > 0 with a finite, non-zero "
                         "float32 reciprocal")
    return s, inv


# ---- state dicts and paths --------------------------------------------------------------

STATE_KEYS = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
# The float32 master weights of a 16-bit param: apex's FP16_Optimizer.state_dict() key for
# them (there a list per group, here one array per param; apex keeps it for bfloat16 too).
MASTER_KEY = "fp32_from_fp16"


def _state_value(v, what):
    try:
        return np.asarray(v)
    except Exception as e:
        raise TypeError(f"{what} cannot be read as an array: {e}") from None


def state_entry(entry, pid, flat, shape, amsgrad, dtype, half=False):
    """One param's entry of a state dict's "state", validated: (step, [(moment id, C-contiguous
    copy of ``dtype``)], float32 master copy or None). ``half``: a 16-bit param, whose entry
    may hold its master weights (MASTER_KEY)."""
    where = f"state_dict['state'][{pid!r}]"
    if not isinstance(entry, dict):
        raise TypeError(f"{where} must be a dict")
    keys = STATE_KEYS + ((MASTER_KEY,) if half else ())
    unknown = set(entry) - set(keys)
    if unknown:
        raise ValueError(f"{where} has unknown keys {sorted(map(str, unknown))}; Adam's per-param "
                         f"state has {list(keys)}")
    needed = ["step", "exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])
    for key in needed:
        if key not in entry:
            raise ValueError(f"{where} lacks {key!r}")
    s = _state_value(entry["step"], f"{where}['step']")
    if s.size != 1 or s.dtype.kind not in "fiu":
        raise ValueError(f"{where}['step'] must be one number, got {entry['step']!r}")
    s = s.reshape(())[()]
    sv = int(s) if s.dtype.kind in "iu" else float(s)  # an int above 2**53 stays exact
    if not (0 <= sv <= MAX_STEP) or sv != math.floor(sv):
        raise ValueError(f"{where}['step'] must be a whole number in [0, 2**53], got {sv}")
    moments = []
    for key, which in MOMENTS:
        if key not in needed:
            continue
        a = _state_value(entry[key], f"{where}[{key!r}]")
        if a.dtype.kind not in "fiu":
            raise TypeError(f"{where}[{key!r}] has dtype {a.dtype}; expected {dtype}")
        if a.shape != shape:
            raise ValueError(f"{where}[{key!r}] has shape {a.shape} but params[{flat}] has shape {shape}")
        moments.append((which, np.array(a, dtype=dtype, order="C", copy=True)))
    master = None
    if MASTER_KEY in entry:
        a = _state_value(entry[MASTER_KEY], f"{where}[{MASTER_KEY!r}]")
        if a.dtype.kind not in "fiu" and a.dtype not in HALF:
            raise TypeError(f"{where}[{MASTER_KEY!r}] has dtype {a.dtype}; expected float32")
        if a.shape != shape:
            raise ValueError(f"{where}[{MASTER_KEY!r}] has shape {a.shape} but params[{flat}] has shape {shape}")
        master = np.array(a, dtype=F32, order="C", copy=True)
    return int(sv), moments, master


def fs_path(path):
    """``path`` as the bytes the OS will see (os.fsencode: no re-encoding, so distinct
    names stay distinct). ValueError for an empty path, and for a NUL byte, which C would
    silently cut the name at (open() refuses it too)."""
    fpath = os.fsencode(os.fspath(path))
    if not fpath:
        raise ValueError("path must not be empty")
    if b"\0" in fpath:
        raise ValueError(f"embedded null byte in path {path!r}")
    return fpath


# ---- errors with the library's codes ------------------------------------------------------


def library_error(status, message, call):
    """A SwiftAdamError the Python layer raises with the library's code and wording."""
    return SwiftAdamError(status, _status_name(status), message, call)


def busy(opt, call):
    return library_error(_b.SWIFTADAM_ERR_BUSY, f"this {type(opt).__name__} optimizer is in use by "
                         "another thread (calls on one optimizer are not queued)", call)


def step_limit_error(k):
    return library_error(_b.SWIFTADAM_ERR_OVERFLOW, f"params[{k}] has reached the maximum step count "
                         "2^53 (torch's float64 step counts exactly only up to it); nothing was updated",
                         "swiftadam_step")
