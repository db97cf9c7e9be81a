"""libzarrc for the zarr-python codec pipeline (zarrc.pipeline): a cffi ABI-mode binding of the
few calls the pipeline needs. Kept apart from the package's main binding so that the two can be
merged without conflicts; the library is found through ZARRC_LIBRARY, the build tree next to
this checkout (build/libzarrc.so) or the system's library path."""

from __future__ import annotations

import ctypes.util
import os
import threading

import cffi

CDEF = """
typedef struct zarrc_store zarrc_store;
typedef struct zarrc_array zarrc_array;
const char *zarrc_version(void);
const char *zarrc_error_last(void);
int zarrc_error_code(void);
int zarrc_store_open(zarrc_store **out, const char *url, unsigned flags);
void zarrc_store_free(zarrc_store *store);
int zarrc_array_open(zarrc_array **out, zarrc_store *store, const char *path);
void zarrc_array_free(zarrc_array *array);
int zarrc_array_ndim(const zarrc_array *array);
const int64_t *zarrc_array_shape(const zarrc_array *array);
const int64_t *zarrc_array_chunks(const zarrc_array *array);
int zarrc_array_read(zarrc_array *array, const int64_t *start, const int64_t *count,
                     const int64_t *step, void *out, size_t out_size);
int zarrc_array_write(zarrc_array *array, const int64_t *start, const int64_t *count,
                      const int64_t *step, const void *in, size_t in_size);
void zarrc_array_set_write_empty_chunks(zarrc_array *array, int enable);
"""

STORE_READONLY = 0x1

ffi = cffi.FFI()
ffi.cdef(CDEF)

_lib = None
_lock = threading.Lock()


def _candidates() -> list[str]:
    out = []
    env = os.environ.get("ZARRC_LIBRARY")
    if env:
        out.append(env)
    here = os.path.dirname(os.path.abspath(__file__))
    out.append(os.path.join(here, "..", "..", "build", "libzarrc.so"))
    found = ctypes.util.find_library("zarrc")
    if found:
        out.append(found)
    return out


def lib():
    """The loaded libzarrc (loaded on first use; OSError when it cannot be found)."""
    global _lib
    with _lock:
        if _lib is None:
            errors = []
            for path in _candidates():
                try:
                    _lib = ffi.dlopen(path)
                    break
                except OSError as e:
                    errors.append(f"{path}: {e}")
            if _lib is None:
                raise OSError("libzarrc not found (set ZARRC_LIBRARY): " + "; ".join(errors))
        return _lib


class ZarrcError(RuntimeError):
    """A libzarrc call failed: `code` is the negative ZARRC_E* code, the message zarrc's."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def check(rc: int) -> None:
    if rc != 0:
        L = lib()
        raise ZarrcError(rc, ffi.string(L.zarrc_error_last()).decode("utf-8", "replace"))
