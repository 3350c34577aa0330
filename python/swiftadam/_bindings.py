"""The C ABI of libSwiftAdam (include/swiftadam.h), declared for ctypes.

This is the ONE module that knows the C prototypes: every ``swiftadam_*`` function
gets ``argtypes`` and ``restype`` here, with the C declaration as a comment above it
(a test parses the header and checks that both lists agree and that every symbol
resolves). It also holds the library search (:func:`find_library`), the ABI check,
the ``swiftadam_config`` Structure and the status-code constants.

Pointer conventions: a state handle (``swiftadam_state *``) is a ``c_void_p``; float
buffers are passed as ``c_void_p`` (a raw address from numpy's
``__array_interface__``), and pointer arrays (``float *const *``) as
``POINTER(c_void_p)`` — the same representation as ``float **`` on every platform
this library supports, and much cheaper to fill from Python than
``POINTER(POINTER(c_float))``.
"""
from __future__ import annotations

import ctypes
import os
from ctypes import (
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_int32,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

# The SWIFTADAM_ABI_VERSION of the header these bindings were written against.
EXPECTED_ABI_VERSION = 1

LIBRARY_NAME = "libSwiftAdam.so"
LIBRARY_ENV = "SWIFTADAM_LIBRARY"

# ---- constants (copied from the header; a test checks them against it) -----------------

SWIFTADAM_MAX_TENSORS = 1 << 24

SWIFTADAM_OK = 0
SWIFTADAM_STEP_SKIPPED = 1
SWIFTADAM_ERR_NULL_POINTER = -1
SWIFTADAM_ERR_INVALID_HANDLE = -2
SWIFTADAM_ERR_INVALID_ARGUMENT = -3
SWIFTADAM_ERR_SIZE_MISMATCH = -4
SWIFTADAM_ERR_OVERFLOW = -5
SWIFTADAM_ERR_OUT_OF_MEMORY = -6
SWIFTADAM_ERR_BUFFER_TOO_SMALL = -7
SWIFTADAM_ERR_BUSY = -8
SWIFTADAM_ERR_IO = -9
SWIFTADAM_ERR_BAD_MAGIC = -10
SWIFTADAM_ERR_UNSUPPORTED_VERSION = -11
SWIFTADAM_ERR_CHECKSUM = -12
SWIFTADAM_ERR_CORRUPT = -13
SWIFTADAM_ERR_UNSUPPORTED = -14
SWIFTADAM_ERR_DTYPE_MISMATCH = -15

SWIFTADAM_FLAG_AMSGRAD = 1 << 0
SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY = 1 << 1
SWIFTADAM_FLAG_MAXIMIZE = 1 << 2
SWIFTADAM_FLAG_NO_BIAS_CORRECTION = 1 << 3

SWIFTADAM_DTYPE_FLOAT32 = 0
SWIFTADAM_DTYPE_FLOAT64 = 1
SWIFTADAM_DTYPE_FLOAT16 = 2
SWIFTADAM_DTYPE_BFLOAT16 = 3

SWIFTADAM_FLAVOR_TORCH = 0
SWIFTADAM_FLAVOR_KERAS = 1

SWIFTADAM_MOMENT_EXP_AVG = 0
SWIFTADAM_MOMENT_EXP_AVG_SQ = 1
SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ = 2

SWIFTADAM_STEP_SKIP_NONFINITE = 1 << 0


class swiftadam_config(Structure):
    """``typedef struct swiftadam_config`` — field for field, same types, same order."""

    _fields_ = [
        ("struct_size", c_size_t),  # size_t   struct_size
        ("lr", c_double),  # double   lr
        ("beta1", c_double),  # double   beta1
        ("beta2", c_double),  # double   beta2
        ("eps", c_double),  # double   eps
        ("weight_decay", c_double),  # double   weight_decay
        ("flags", c_uint32),  # uint32_t flags
        ("reserved", c_uint32),  # uint32_t reserved
        ("flavor", c_uint32),  # uint32_t flavor   (version 2)
        ("dtype", c_uint32),  # uint32_t dtype    (version 2)
    ]


_config_p = POINTER(swiftadam_config)
_state_p = c_void_p  # swiftadam_state *
_state_pp = POINTER(c_void_p)  # swiftadam_state **
_size_p = POINTER(c_size_t)  # size_t * / const size_t *
_u64_p = POINTER(c_uint64)  # uint64_t *
_u32_p = POINTER(c_uint32)  # uint32_t *
_float_p = c_void_p  # float * / const float * (raw addresses)
_float_pp = POINTER(c_void_p)  # float *const * / const float *const *
_double_p = c_void_p  # double * / const double * (raw addresses)
_double_pp = POINTER(c_void_p)  # double *const * / const double *const *

# name -> (restype, argtypes). Filled by _proto below, in header order.
PROTOTYPES: dict = {}


def _proto(name, restype, argtypes):
    PROTOTYPES[name] = (restype, list(argtypes))


# ---- version, errors, backend ----

# const char *swiftadam_version_string(void);
_proto("swiftadam_version_string", c_char_p, [])

# uint32_t swiftadam_version_number(void);
_proto("swiftadam_version_number", c_uint32, [])

# uint32_t swiftadam_abi_version(void);
_proto("swiftadam_abi_version", c_uint32, [])

# const char *swiftadam_status_name(int32_t status);
_proto("swiftadam_status_name", c_char_p, [c_int32])

# const char *swiftadam_status_string(int32_t status);
_proto("swiftadam_status_string", c_char_p, [c_int32])

# const char *swiftadam_last_error(void);
_proto("swiftadam_last_error", c_char_p, [])

# const char *swiftadam_backend_name(void);
_proto("swiftadam_backend_name", c_char_p, [])

# ---- configuration ----

# int32_t swiftadam_config_init(swiftadam_config *cfg, size_t struct_size);
_proto("swiftadam_config_init", c_int32, [_config_p, c_size_t])

# ---- life cycle ----

# int32_t swiftadam_create(const size_t *lengths, size_t num_tensors,
#                          const swiftadam_config *cfg, swiftadam_state **out);
_proto("swiftadam_create", c_int32, [_size_p, c_size_t, _config_p, _state_pp])

# int32_t swiftadam_free(swiftadam_state *state);
_proto("swiftadam_free", c_int32, [_state_p])

# ---- hyperparameters after creation ----

# int32_t swiftadam_get_config(swiftadam_state *state, swiftadam_config *out);
_proto("swiftadam_get_config", c_int32, [_state_p, _config_p])

# int32_t swiftadam_set_config(swiftadam_state *state, const swiftadam_config *cfg);
_proto("swiftadam_set_config", c_int32, [_state_p, _config_p])

# int32_t swiftadam_set_lr(swiftadam_state *state, double lr);
_proto("swiftadam_set_lr", c_int32, [_state_p, c_double])

# ---- queries ----

# int32_t swiftadam_num_tensors(swiftadam_state *state, size_t *out);
_proto("swiftadam_num_tensors", c_int32, [_state_p, _size_p])

# int32_t swiftadam_get_dtype(swiftadam_state *state, uint32_t *out);
_proto("swiftadam_get_dtype", c_int32, [_state_p, _u32_p])

# int32_t swiftadam_tensor_length(swiftadam_state *state, size_t index, size_t *out);
_proto("swiftadam_tensor_length", c_int32, [_state_p, c_size_t, _size_p])

# int32_t swiftadam_tensor_step(swiftadam_state *state, size_t index, uint64_t *out);
_proto("swiftadam_tensor_step", c_int32, [_state_p, c_size_t, _u64_p])

# int32_t swiftadam_set_tensor_step(swiftadam_state *state, size_t index, uint64_t step);
_proto("swiftadam_set_tensor_step", c_int32, [_state_p, c_size_t, c_uint64])

# int32_t swiftadam_get_num_threads(swiftadam_state *state, size_t *out);
_proto("swiftadam_get_num_threads", c_int32, [_state_p, _size_p])

# int32_t swiftadam_set_num_threads(swiftadam_state *state, size_t num_threads);
_proto("swiftadam_set_num_threads", c_int32, [_state_p, c_size_t])

# ---- step ----

# int32_t swiftadam_step(swiftadam_state *state, float *const *params,
#                        const float *const *grads, size_t num_tensors, uint32_t step_flags);
_proto("swiftadam_step", c_int32, [_state_p, _float_pp, _float_pp, c_size_t, c_uint32])

# int32_t swiftadam_step_contiguous(swiftadam_state *state, float *params, const float *grads,
#                                   uint32_t step_flags);
_proto("swiftadam_step_contiguous", c_int32, [_state_p, _float_p, _float_p, c_uint32])

# int32_t swiftadam_step_tensor(swiftadam_state *state, float *param, const float *grad,
#                               size_t length, uint32_t step_flags);
_proto("swiftadam_step_tensor", c_int32, [_state_p, _float_p, _float_p, c_size_t, c_uint32])

# int32_t swiftadam_step_f64(swiftadam_state *state, double *const *params,
#                            const double *const *grads, size_t num_tensors, uint32_t step_flags);
_proto("swiftadam_step_f64", c_int32, [_state_p, _double_pp, _double_pp, c_size_t, c_uint32])

# int32_t swiftadam_step_tensor_f64(swiftadam_state *state, double *param, const double *grad,
#                                   size_t length, uint32_t step_flags);
_proto("swiftadam_step_tensor_f64", c_int32, [_state_p, _double_p, _double_p, c_size_t, c_uint32])

# ---- 16-bit params with float32 master weights ----

_u16_p = c_void_p  # uint16_t * (raw addresses)
_u16_pp = POINTER(c_void_p)  # uint16_t *const * / const uint16_t *const *

# int32_t swiftadam_create_half(const size_t *lengths, size_t num_tensors, const swiftadam_config *cfg,
#                               const uint16_t *const *params, swiftadam_state **out);
_proto("swiftadam_create_half", c_int32, [_size_p, c_size_t, _config_p, _u16_pp, _state_pp])

# int32_t swiftadam_step_half(swiftadam_state *state, uint16_t *const *params,
#                             const uint16_t *const *grads, size_t num_tensors,
#                             double grad_scale, uint32_t step_flags);
_proto("swiftadam_step_half", c_int32, [_state_p, _u16_pp, _u16_pp, c_size_t, c_double, c_uint32])

# int32_t swiftadam_step_half_f32grad(swiftadam_state *state, uint16_t *const *params,
#                                     const float *const *grads, size_t num_tensors,
#                                     double grad_scale, uint32_t step_flags);
_proto("swiftadam_step_half_f32grad", c_int32, [_state_p, _u16_pp, _float_pp, c_size_t, c_double, c_uint32])

# int32_t swiftadam_get_master(swiftadam_state *state, size_t index, float *out, size_t capacity);
_proto("swiftadam_get_master", c_int32, [_state_p, c_size_t, _float_p, c_size_t])

# int32_t swiftadam_set_master(swiftadam_state *state, size_t index, const float *in, size_t count);
_proto("swiftadam_set_master", c_int32, [_state_p, c_size_t, _float_p, c_size_t])

# int32_t swiftadam_get_params_half(swiftadam_state *state, size_t index, uint16_t *out, size_t capacity);
_proto("swiftadam_get_params_half", c_int32, [_state_p, c_size_t, _u16_p, c_size_t])

# ---- moments ----

# int32_t swiftadam_get_moment(swiftadam_state *state, size_t index, int32_t which,
#                              float *out, size_t capacity);
_proto("swiftadam_get_moment", c_int32, [_state_p, c_size_t, c_int32, _float_p, c_size_t])

# int32_t swiftadam_set_moment(swiftadam_state *state, size_t index, int32_t which,
#                              const float *in, size_t count);
_proto("swiftadam_set_moment", c_int32, [_state_p, c_size_t, c_int32, _float_p, c_size_t])

# int32_t swiftadam_get_moment_f64(swiftadam_state *state, size_t index, int32_t which,
#                                  double *out, size_t capacity);
_proto("swiftadam_get_moment_f64", c_int32, [_state_p, c_size_t, c_int32, _double_p, c_size_t])

# int32_t swiftadam_set_moment_f64(swiftadam_state *state, size_t index, int32_t which,
#                                  const double *in, size_t count);
_proto("swiftadam_set_moment_f64", c_int32, [_state_p, c_size_t, c_int32, _double_p, c_size_t])

# ---- serialization ----

# int32_t swiftadam_serialized_size(swiftadam_state *state, size_t *out);
_proto("swiftadam_serialized_size", c_int32, [_state_p, _size_p])

# int32_t swiftadam_serialize(swiftadam_state *state, void *buf, size_t capacity,
#                             size_t *written);
_proto("swiftadam_serialize", c_int32, [_state_p, c_void_p, c_size_t, _size_p])

# int32_t swiftadam_deserialize(const void *buf, size_t size, const size_t *expected_lengths,
#                               size_t expected_count, swiftadam_state **out);
_proto("swiftadam_deserialize", c_int32, [c_void_p, c_size_t, _size_p, c_size_t, _state_pp])

# int32_t swiftadam_save(swiftadam_state *state, const char *path);
_proto("swiftadam_save", c_int32, [_state_p, c_char_p])

# int32_t swiftadam_load(const char *path, const size_t *expected_lengths,
#                        size_t expected_count, swiftadam_state **out);
_proto("swiftadam_load", c_int32, [c_char_p, _size_p, c_size_t, _state_pp])


# ---- loading ------------------------------------------------------------------------


class LibraryNotFoundError(ImportError):
    """No usable libSwiftAdam.so was found, or the one found has the wrong ABI."""


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def candidate_paths():
    """The library search order, as (origin, path) pairs:

    1. the environment variable ``SWIFTADAM_LIBRARY`` (if set, it is the ONLY candidate:
       a user who names a library must get that one or an error, never another);
    2. the copy bundled inside the installed package (``swiftadam/libSwiftAdam.so``);
    3. the repository's ``.build/release/libSwiftAdam.so`` (a source checkout, where
       ``python/swiftadam`` sits two levels below the repository root).
    """
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return [(f"${LIBRARY_ENV}", Path(env))]
    pkg = _package_dir()
    return [
        ("bundled with the package", pkg / LIBRARY_NAME),
        ("repository build", pkg.parent.parent / ".build" / "release" / LIBRARY_NAME),
    ]


def check_abi(lib, path) -> None:
    """Refuse a library whose ``swiftadam_abi_version()`` differs from ours."""
    fn = lib.swiftadam_abi_version
    fn.restype, fn.argtypes = PROTOTYPES["swiftadam_abi_version"]
    got = int(fn())
    if got != EXPECTED_ABI_VERSION:
        raise LibraryNotFoundError(
            f"{path} has SwiftAdam ABI version {got}, but this swiftadam Python package "
            f"needs ABI version {EXPECTED_ABI_VERSION}: the library and the package come from "
            f"different releases. Reinstall the package from the same checkout "
            f"(pip install ./python) or set {LIBRARY_ENV} to a matching libSwiftAdam.so."
        )


def bind(lib) -> None:
    """Set restype and argtypes of every prototype on ``lib`` (AttributeError if missing)."""
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def find_library():
    """Load the first library of :func:`candidate_paths` that exists; returns (lib, path)."""
    tried = []
    for origin, path in candidate_paths():
        if not path.is_file():
            tried.append(f"  {path} ({origin}): not found")
            continue
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as e:
            if origin.startswith("$"):
                raise LibraryNotFoundError(f"cannot load {path} named by ${LIBRARY_ENV}: {e}") from e
            tried.append(f"  {path} ({origin}): {e}")
            continue
        check_abi(lib, path)
        try:
            bind(lib)
        except AttributeError as e:
            raise LibraryNotFoundError(f"{path} lacks a SwiftAdam symbol: {e}") from e
        return lib, path
    raise LibraryNotFoundError(
        "libSwiftAdam.so not found. Looked in:\n" + "\n".join(tried) + "\n"
        "Install the package with `pip install ./python` from the repository (it builds and "
        f"bundles the library), run `make build`, or set {LIBRARY_ENV} to the library's path."
    )


lib, library_path = find_library()
