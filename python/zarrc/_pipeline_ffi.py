"""libzarrc for the zarr-python codec pipeline (zarrc.pipeline): the package's own binding
(zarrc.lowlevel, the cffi extension built against libzarrc), under the names the pipeline uses.
One binding serves the package and the pipeline."""

from __future__ import annotations

from . import lowlevel as _ll
from ._errors import ZarrcError  # noqa: F401  (raised by check)

STORE_READONLY = 0x1
ffi = _ll.ffi


def lib():
    """The libzarrc the package was built with."""
    return _ll.lib


def check(rc: int) -> None:
    """Raise the zarrc exception for a failed call (its .code is the ZARRC_E* value)."""
    _ll.check(rc)
