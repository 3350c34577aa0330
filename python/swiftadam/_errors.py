"""Library errors as Python exceptions."""
from __future__ import annotations

from . import _bindings as _b


class SwiftAdamError(RuntimeError):
    """A libSwiftAdam call failed.

    Attributes:
        status: the negative SWIFTADAM_ERR_* code (int), e.g. -12.
        name:   its macro name, e.g. ``"SWIFTADAM_ERR_CHECKSUM"``.
        message: what the library said went wrong (``swiftadam_last_error()``).
    """

    def __init__(self, status: int, name: str, message: str, call: str = ""):
        self.status = int(status)
        self.name = name
        self.message = message
        self.call = call
        where = f"{call}: " if call else ""
        super().__init__(f"{where}{name} ({self.status}): {message}")


def status_name(status: int) -> str:
    return _b.lib.swiftadam_status_name(int(status)).decode()


def status_string(status: int) -> str:
    return _b.lib.swiftadam_status_string(int(status)).decode()


def error_from_status(status: int, call: str = "") -> SwiftAdamError:
    """A SwiftAdamError for ``status``, with this thread's ``swiftadam_last_error()``."""
    message = _b.lib.swiftadam_last_error().decode(errors="replace")
    if not message:
        message = status_string(status)
    return SwiftAdamError(status, status_name(status), message, call)


def check(status: int, call: str = "") -> int:
    """Raise SwiftAdamError if ``status`` is negative; otherwise return it (0 or a
    positive non-error outcome such as SWIFTADAM_STEP_SKIPPED)."""
    if status < 0:
        raise error_from_status(status, call)
    return status
