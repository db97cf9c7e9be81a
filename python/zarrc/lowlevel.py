"""Low-level binding: the cffi module plus thin checked wrappers (the layer other code, e.g. a
zarr-python codec pipeline, builds on).

    from zarrc.lowlevel import ffi, lib          # raw cffi (every call releases the GIL)
    st = store_open("file:///tmp/x", lib.ZARRC_STORE_CREATE)
    a = array_open(st, "path/in/store")          # or array_create(st, path, dtype=..., ...)
    out = empty_output(count, dtype)             # numpy.empty, 64-byte aligned when large
    read_region(a, start, count, step, out)      # step may be None (all 1)
    write_region(a, start, count, step, data)
    read_vlen(a, start, count, step) -> list[bytes]; write_vlen(a, start, count, step, items)

Handles are cffi pointers owned by ffi.gc (freed when unreachable). Errors raise
zarrc.ZarrcError subclasses carrying zarrc_error_last() of the calling thread.
"""
import json

import numpy as np

from ._zarrc_cffi import ffi, lib
from ._errors import BY_CODE, ZarrcError

__all__ = ["ffi", "lib", "check", "error_for", "error_message", "store_open", "array_open", "array_create",
           "read_region", "write_region", "read_vlen", "write_vlen", "take_string", "empty_output"]

# zarrc writes outputs larger than the cache with streaming stores where a row covers whole
# 64-byte lines (zarrc_array_read); numpy aligns its buffers to 16 bytes only.
_ALIGNED_FROM = 1 << 20


def empty_output(shape, dtype):
    """numpy.empty(shape, dtype), C order; from 1 MiB on, its data starts on a 64-byte line."""
    dtype = np.dtype(dtype)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes < _ALIGNED_FROM or dtype.hasobject:
        return np.empty(shape, dtype=dtype)
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    skip = -raw.ctypes.data % 64
    return raw[skip:skip + nbytes].view(dtype).reshape(shape)


def error_message():
    """zarrc's message of the last error in this thread ("" if none)."""
    return ffi.string(lib.zarrc_error_last()).decode("utf-8", "replace")


def error_for(rc, message=""):
    """The ZarrcError subclass for status `rc` carrying `message` (zarrc_strerror's text when empty)."""
    return BY_CODE.get(rc, ZarrcError)(message or ffi.string(lib.zarrc_strerror(rc)).decode(), rc)


def check(rc, what=None):
    """Raise the ZarrcError subclass for a negative status, with zarrc's message."""
    if rc < 0:
        msg = error_message() or ffi.string(lib.zarrc_strerror(rc)).decode()
        if what:
            msg = f"{what}: {msg}"
        raise error_for(rc, msg)
    return rc


def take_string(pp):
    """Decode a char* the library returned through char** and zarrc_free it."""
    try:
        return ffi.string(pp[0]).decode("utf-8") if pp[0] != ffi.NULL else None
    finally:
        lib.zarrc_free(pp[0])


def store_open(url, flags=0):
    """Open a store by URL (path, file://, memory://, zip, s3://, http(s)://)."""
    out = ffi.new("zarrc_store **")
    check(lib.zarrc_store_open(out, url.encode(), flags))
    return ffi.gc(out[0], lib.zarrc_store_free)


def array_open(store, path, flags=0):
    out = ffi.new("zarrc_array **")
    check(lib.zarrc_array_open_flags(out, store, path.encode(), flags))
    return ffi.gc(out[0], lib.zarrc_array_free)


def _cstr(keep, s):
    if s is None:
        return ffi.NULL
    b = ffi.new("char[]", s.encode("utf-8"))
    keep.append(b)
    return b


def array_create(store, path, *, dtype, shape, chunks=None, fill_value=None, codecs=None,
                 compressor=None, filters=None, order="C", separator=None, attributes=None,
                 dimension_names=None, format=3, flags=0):
    """zarrc_array_create. dtype: a zarrc spelling (str); fill_value/codecs/compressor/filters/
    attributes: JSON texts or None; dimension_names: list of str/None."""
    keep = []
    o = ffi.new("zarrc_array_options *")
    o.version = lib.ZARRC_ARRAY_OPTIONS_VERSION
    o.format = format
    o.dtype = _cstr(keep, dtype)
    o.ndim = len(shape)
    sh = ffi.new("int64_t[]", [int(x) for x in shape] or [0])
    o.shape = sh
    if chunks is not None:
        ch = ffi.new("int64_t[]", [int(x) for x in chunks] or [0])
        keep.append(ch)
        o.chunks = ch
    o.fill_value = _cstr(keep, fill_value)
    o.codecs = _cstr(keep, codecs)
    o.compressor = _cstr(keep, compressor)
    o.filters = _cstr(keep, filters)
    o.order = order.encode()
    o.separator = separator.encode() if separator else b"\0"
    o.attributes = _cstr(keep, attributes)
    if dimension_names is not None:
        names = [_cstr(keep, n) for n in dimension_names]
        dn = ffi.new("const char *[]", names or [ffi.NULL])
        keep.append(dn)
        o.dimension_names = dn
    o.flags = flags
    out = ffi.new("zarrc_array **")
    check(lib.zarrc_array_create(out, store, path.encode(), o))
    return ffi.gc(out[0], lib.zarrc_array_free)


def _box(start, count, step):
    n = len(start)
    s = ffi.new("int64_t[]", [int(x) for x in start] or [0])
    c = ffi.new("int64_t[]", [int(x) for x in count] or [0])
    st = ffi.NULL if step is None else ffi.new("int64_t[]", [int(x) for x in step] or [0])
    return s, c, st


def read_region(arr, start, count, step, out):
    """Read the strided box into `out` (C-contiguous writable ndarray, native order,
    prod(count) items of the array's item size)."""
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("read_region: out must be a writable C-contiguous array")
    s, c, st = _box(start, count, step)
    check(lib.zarrc_array_read(arr, s, c, st, ffi.from_buffer(out, require_writable=True),
                               out.nbytes))


def write_region(arr, start, count, step, data):
    """Write the strided box from `data` (C-contiguous ndarray, native order)."""
    data = np.ascontiguousarray(data)
    s, c, st = _box(start, count, step)
    check(lib.zarrc_array_write(arr, s, c, st, ffi.from_buffer(data), data.nbytes))


def read_vlen(arr, start, count, step):
    """Read a box of a variable-length array: list of bytes (C order)."""
    s, c, st = _box(start, count, step)
    v = ffi.new("zarrc_vlen *")
    check(lib.zarrc_array_read(arr, s, c, st, v, ffi.sizeof("zarrc_vlen")))
    try:
        n = v.count
        offs = np.frombuffer(ffi.buffer(v.offsets, 8 * (n + 1)), dtype=np.uint64) if n else None
        raw = bytes(ffi.buffer(v.data, v.size)) if v.size else b""
        return [raw[int(offs[i]):int(offs[i + 1])] for i in range(n)]
    finally:
        lib.zarrc_vlen_clear(v)


def write_vlen(arr, start, count, step, items):
    """Write a box of a variable-length array from a sequence of bytes (C order)."""
    items = list(items)
    offs = np.zeros(len(items) + 1, dtype=np.uint64)
    if items:
        offs[1:] = np.cumsum([len(b) for b in items])
    data = b"".join(items)
    dbuf = ffi.from_buffer(data if data else b"\0")
    v = ffi.new("zarrc_vlen *")
    v.count = len(items)
    v.offsets = ffi.cast("uint64_t *", ffi.from_buffer(offs))
    v.data = ffi.cast("uint8_t *", dbuf)
    v.size = len(data)
    s, c, st = _box(start, count, step)
    check(lib.zarrc_array_write(arr, s, c, st, v, ffi.sizeof("zarrc_vlen")))


def json_part(arr, part):
    pp = ffi.new("char **")
    check(lib.zarrc_array_json(pp, arr, part))
    return json.loads(take_string(pp))
