"""zarrc: Python bindings for the zarrc Zarr v2/v3 C library (docs/python.md)."""
from ._errors import (AuthError, BoundsError, ConflictError, CorruptError, DtypeError,
                      ExistsError, InternalError, InvalidError, NotFoundError, OutOfMemoryError,
                      ReadOnlyError, StoreIOError, UnsupportedError, ZarrcError)
from .core import (Array, Attributes, Group, Reference, Stream, consolidate, copy, create_array,
                   create_group, create_hierarchy, get_num_threads, open, open_array, open_group,
                   open_view, parse_reference, resolve, set_num_threads, version)

__version__ = "0.1.0"
