"""The owner of libSwiftAdam's state handles, and the one description of a state's
hyperparameters.

Layers: ``_bindings`` (C prototypes) → ``_native`` (this module: handles and configs) →
``_checks`` (argument validation) → ``optim`` (the torch-like classes). Every call that
creates, steps, queries, serializes or frees a ``swiftadam_state`` goes through
:class:`NativeState`, and :meth:`NativeState.free` is the only place a handle is released.
"""
from __future__ import annotations

import ctypes
from typing import NamedTuple

import numpy as np

from . import _bindings as _b
from ._errors import check as _check

_lib = _b.lib
_c_void_p = ctypes.c_void_p

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)

MAX_STEP = 1 << 53  # torch stores step as a float64 tensor; the library counts up to it
MOMENTS = (
    ("exp_avg", _b.SWIFTADAM_MOMENT_EXP_AVG),
    ("exp_avg_sq", _b.SWIFTADAM_MOMENT_EXP_AVG_SQ),
    ("max_exp_avg_sq", _b.SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ),
)



class Kind(NamedTuple):
    """The library's entry points for one param dtype (a state holds one, chosen at
    creation; the other dtypes' calls fail with DTYPE_MISMATCH)."""

    code: int  # SWIFTADAM_DTYPE_*
    step: object  # grads of the param dtype
    step_tensor: object  # one tensor (float32/float64 only: None for the 16-bit dtypes)
    get_moment: object
    set_moment: object
    moment_dtype: np.dtype  # the moments' (and for 16-bit params the master's) dtype
    step_f32grad: object = None  # 16-bit params with float32 grads


F16 = np.dtype(np.float16)
try:  # numpy has no bfloat16; ml_dtypes (swiftadam[bf16]) provides it, optionally
    import ml_dtypes as _ml_dtypes
except ImportError:
    BF16 = None
else:
    BF16 = np.dtype(_ml_dtypes.bfloat16)


def _half(code):
    return Kind(code, _lib.swiftadam_step_half, None, _lib.swiftadam_get_moment, _lib.swiftadam_set_moment, F32,
                _lib.swiftadam_step_half_f32grad)


# Adding a dtype: one entry here (and its entry points in _bindings).
KINDS = {
    F32: Kind(_b.SWIFTADAM_DTYPE_FLOAT32, _lib.swiftadam_step, _lib.swiftadam_step_tensor,
              _lib.swiftadam_get_moment, _lib.swiftadam_set_moment, F32),
    F64: Kind(_b.SWIFTADAM_DTYPE_FLOAT64, _lib.swiftadam_step_f64, _lib.swiftadam_step_tensor_f64,
              _lib.swiftadam_get_moment_f64, _lib.swiftadam_set_moment_f64, F64),
    F16: _half(_b.SWIFTADAM_DTYPE_FLOAT16),
}
if BF16 is not None:
    KINDS[BF16] = _half(_b.SWIFTADAM_DTYPE_BFLOAT16)
DTYPES = tuple(KINDS)  # the param dtypes, one per native state
HALF = frozenset(d for d, kind in KINDS.items() if kind.step_f32grad is not None)  # float32 master weights
_DTYPE_OF_CODE = {kind.code: dtype for dtype, kind in KINDS.items()}

FLAVORS = {"torch": _b.SWIFTADAM_FLAVOR_TORCH, "keras": _b.SWIFTADAM_FLAVOR_KERAS}
_FLAVOR_OF_CODE = {code: name for name, code in FLAVORS.items()}

NO_FLAGS = ctypes.c_uint32(0)  # prebuilt arguments: ctypes passes them without conversion
SKIP_NONFINITE = ctypes.c_uint32(_b.SWIFTADAM_STEP_SKIP_NONFINITE)

# A valid address for zero-length tensors (the C ABI wants non-NULL pointers even when
# nothing is read or written).
_EMPTY = (ctypes.c_float * 4)()
EMPTY_ADDR = ctypes.addressof(_EMPTY)


def address(a):
    """The data address of ndarray ``a`` as the library is to see it."""
    if a.size == 0:
        return EMPTY_ADDR
    return a.__array_interface__["data"][0]


def new_config():
    """A ``swiftadam_config`` holding the library's defaults."""
    cfg = _b.swiftadam_config()
    _check(_lib.swiftadam_config_init(ctypes.byref(cfg), ctypes.sizeof(cfg)), "swiftadam_config_init")
    return cfg


_FLAG_FIELDS = (
    ("amsgrad", _b.SWIFTADAM_FLAG_AMSGRAD, True),
    ("maximize", _b.SWIFTADAM_FLAG_MAXIMIZE, True),
    ("decoupled_weight_decay", _b.SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY, True),
    ("bias_correction", _b.SWIFTADAM_FLAG_NO_BIAS_CORRECTION, False),  # the flag means "off"
)


class Hyper(NamedTuple):
    """The validated hyperparameters of one native state (floats and bools; build one with
    ``_checks.hyper``). Field names are param-group keys.

    Fields without a default are torch.optim.Adam's keys: every param group has them.
    Fields with a default are SwiftAdam's extensions: a group holds one only where it was
    set, so torch-layout groups and state dicts stay as torch writes them, and a group
    without it means the default. Adding an option is one field here, its line in
    ``to_config``/``from_config`` and its check in ``_checks.hyper``."""

    lr: float
    betas: tuple
    eps: float
    weight_decay: float
    amsgrad: bool
    maximize: bool
    decoupled_weight_decay: bool
    bias_correction: bool = True  # DeepSpeed's name; torch always bias-corrects
    flavor: str = "torch"  # whose formula: "torch" or "keras" (Keras 3's Adam)

    def to_config(self):
        cfg = new_config()
        cfg.flavor = FLAVORS[self.flavor]
        cfg.lr, (cfg.beta1, cfg.beta2), cfg.eps, cfg.weight_decay = self.lr, self.betas, self.eps, self.weight_decay
        flags = 0
        for name, bit, when in _FLAG_FIELDS:
            if bool(getattr(self, name)) == when:
                flags |= bit
        cfg.flags = flags
        return cfg

    @classmethod
    def from_config(cls, cfg):
        flags = {name: bool(cfg.flags & bit) == when for name, bit, when in _FLAG_FIELDS}
        return cls(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, weight_decay=cfg.weight_decay,
                   flavor=_FLAVOR_OF_CODE[cfg.flavor], **flags)

    def group_items(self):
        """The keys of a param group with these values (extensions only where not default)."""
        return group_items(self._asdict())


TORCH_KEYS = tuple(k for k in Hyper._fields if k not in Hyper._field_defaults)
EXTENSIONS = Hyper._field_defaults  # key -> the value a group without the key means


def group_items(values):
    """``values`` (a mapping over Hyper's fields) without the extensions at their default."""
    return {k: v for k, v in values.items() if k not in EXTENSIONS or v != EXTENSIONS[k]}


def _lengths(lengths):
    return (ctypes.c_size_t * len(lengths))(*lengths), len(lengths)


class NativeState:
    """One ``swiftadam_state`` handle (``handle``: a c_void_p, None once freed), the
    tensor lengths it holds, its element ``dtype`` and that dtype's entry points
    (``kind``). Opened by :meth:`create`, :meth:`deserialize` or :meth:`load`;
    released by :meth:`free` (idempotent), which ``__del__`` calls, so a state dropped on
    an error path is freed as well."""

    __slots__ = ("handle", "lengths", "dtype", "kind")

    _free = _lib.swiftadam_free  # kept on the class: still reachable at interpreter shutdown

    def __init__(self, open_fn, call, lengths):
        """``open_fn(lengths array, count, out)`` is the library call that opens the state."""
        self.handle = None
        self.lengths = tuple(lengths)
        arr, n = _lengths(self.lengths)
        h = _c_void_p()
        _check(open_fn(arr, n, ctypes.byref(h)), call)
        self.handle = h
        code = ctypes.c_uint32()
        _check(_lib.swiftadam_get_dtype(h, ctypes.byref(code)), "swiftadam_get_dtype")
        if code.value not in _DTYPE_OF_CODE:
            self.free()
            if code.value == _b.SWIFTADAM_DTYPE_BFLOAT16:
                raise ImportError("the checkpoint holds a bfloat16 state (float32 master weights); bfloat16 "
                                  "params need ml_dtypes: pip install 'swiftadam[bf16]'")
            raise NotImplementedError(f"the checkpoint holds a state of dtype code {code.value}, which this "
                                      "version of the Python package does not know")
        self.dtype = _DTYPE_OF_CODE[code.value]
        self.kind = KINDS[self.dtype]

    @classmethod
    def create(cls, lengths, hyper, dtype, params=None):
        """A fresh state; for a 16-bit ``dtype`` its float32 master weights start as the
        values of ``params`` (arrays of that dtype with ``lengths`` elements)."""
        cfg = hyper.to_config()
        cfg.dtype = KINDS[dtype].code
        if dtype in HALF:
            ptrs = (_c_void_p * len(params))(*[address(p) for p in params])
            return cls(lambda arr, n, out: _lib.swiftadam_create_half(arr, n, ctypes.byref(cfg), ptrs, out),
                       "swiftadam_create_half", lengths)
        return cls(lambda arr, n, out: _lib.swiftadam_create(arr, n, ctypes.byref(cfg), out),
                   "swiftadam_create", lengths)

    @classmethod
    def deserialize(cls, data, lengths):
        """The state in checkpoint bytes ``data``, which must hold exactly ``lengths``."""
        return cls(lambda arr, n, out: _lib.swiftadam_deserialize(data, len(data), arr, n, out),
                   "swiftadam_deserialize", lengths)

    @classmethod
    def load(cls, fpath, lengths):
        """The state in the checkpoint file ``fpath`` (bytes), which must hold exactly ``lengths``."""
        return cls(lambda arr, n, out: _lib.swiftadam_load(fpath, arr, n, out), "swiftadam_load", lengths)

    def free(self):
        """Release the handle (once); returns the status of swiftadam_free (0 if already freed)."""
        h, self.handle = self.handle, None
        if h is not None and h.value:
            return self._free(h)
        return 0

    def __del__(self):
        self.free()

    # ---- hyperparameters ----

    def hyper(self):
        """The hyperparameters in the state's config."""
        cfg = new_config()
        _check(_lib.swiftadam_get_config(self.handle, ctypes.byref(cfg)), "swiftadam_get_config")
        return Hyper.from_config(cfg)

    def set_hyper(self, new, old):
        """Make ``new`` the state's hyperparameters; ``old`` are the ones it has."""
        if new._replace(lr=old.lr) == old:
            _check(_lib.swiftadam_set_lr(self.handle, new.lr), "swiftadam_set_lr")
        else:
            cfg = new.to_config()
            cfg.dtype = self.kind.code  # fixed at creation: the config must say so
            _check(_lib.swiftadam_set_config(self.handle, ctypes.byref(cfg)), "swiftadam_set_config")

    # ---- per-tensor state ----

    def tensor_step(self, j):
        out = ctypes.c_uint64()
        _check(_lib.swiftadam_tensor_step(self.handle, j, ctypes.byref(out)), "swiftadam_tensor_step")
        return out.value

    def steps(self):
        """Every tensor's step count (one library call each)."""
        return [self.tensor_step(j) for j in range(len(self.lengths))]

    def set_tensor_step(self, j, step):
        _check(_lib.swiftadam_set_tensor_step(self.handle, j, step), "swiftadam_set_tensor_step")

    def moment(self, j, which, shape):
        """A copy (of the moments' dtype) of moment ``which`` of tensor ``j``, shaped ``shape``."""
        out = np.empty(shape, dtype=self.kind.moment_dtype)
        _check(self.kind.get_moment(self.handle, j, which, address(out), out.size), "swiftadam_get_moment")
        return out

    def set_moment(self, j, which, arr):
        """Copy ``arr`` (C-contiguous, of the moments' dtype) into moment ``which`` of tensor ``j``."""
        _check(self.kind.set_moment(self.handle, j, which, address(arr), arr.size), "swiftadam_set_moment")

    # ---- float32 master weights (16-bit states) ----

    def master(self, j, shape):
        """A float32 copy of tensor ``j``'s master weights, shaped ``shape``."""
        out = np.empty(shape, dtype=F32)
        _check(_lib.swiftadam_get_master(self.handle, j, address(out), out.size), "swiftadam_get_master")
        return out

    def set_master(self, j, arr):
        """Copy ``arr`` (C-contiguous float32) into tensor ``j``'s master weights."""
        _check(_lib.swiftadam_set_master(self.handle, j, address(arr), arr.size), "swiftadam_set_master")

    def write_params(self, j, p):
        """Write tensor ``j``'s master rounded to the state's dtype into the array ``p``."""
        _check(_lib.swiftadam_get_params_half(self.handle, j, address(p), p.size), "swiftadam_get_params_half")

    # ---- checkpoints ----

    def serialize(self):
        """The checkpoint bytes of this state (swiftadam_serialize)."""
        size = ctypes.c_size_t()
        _check(_lib.swiftadam_serialized_size(self.handle, ctypes.byref(size)), "swiftadam_serialized_size")
        buf = ctypes.create_string_buffer(max(size.value, 1))
        written = ctypes.c_size_t()
        _check(_lib.swiftadam_serialize(self.handle, buf, size.value, ctypes.byref(written)),
               "swiftadam_serialize")
        return ctypes.string_at(buf, written.value)

    def save(self, fpath):
        """Write the checkpoint file ``fpath`` (bytes) atomically (swiftadam_save)."""
        _check(_lib.swiftadam_save(self.handle, fpath), "swiftadam_save")
