"""SwiftAdam: the Adam / AdamW optimizer (torch.optim semantics) as a native Swift kernel,
driven from numpy.

    import numpy as np, swiftadam
    w = np.zeros(10, dtype=np.float32)            # params: float32 arrays, updated in place
    opt = swiftadam.Adam([w], lr=1e-2)
    opt.step([grad_w])                            # one grad per param, same order

Layers: ``_bindings`` (the C prototypes) → ``_native`` (state handles, hyperparameters
as ``Hyper``) → ``_checks`` (argument validation) → ``optim`` (``Adam``, ``AdamW``).

The library is found by :func:`swiftadam._bindings.candidate_paths` (env
``SWIFTADAM_LIBRARY``, the copy bundled in this package, the repository's
``.build/release``); :func:`library_path` says which one is in use.
"""
from ._version import __version__
from . import _bindings
from ._errors import SwiftAdamError
from .optim import Adam, AdamW

__all__ = ["Adam", "AdamW", "SwiftAdamError", "__version__", "backend", "library_path",
           "library_version"]


def backend() -> str:
    """The kernel path the library uses in this process (swiftadam_backend_name): "avx512",
    "avx2", "sse2", "simd" (portable Swift SIMD) or "scalar"."""
    return _bindings.lib.swiftadam_backend_name().decode()


def library_path() -> str:
    """Absolute path of the libSwiftAdam.so this package loaded."""
    return str(_bindings.library_path)


def library_version() -> str:
    """The loaded library's version string (swiftadam_version_string)."""
    return _bindings.lib.swiftadam_version_string().decode()
