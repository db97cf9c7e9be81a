"""A zarr-python 3.4 codec pipeline whose chunk I/O runs in libzarrc.

Select it with ``zarr.config.set({"codec_pipeline.path": "zarrc.pipeline.ZarrcCodecPipeline"})``
(importing this module registers the class; the package's entry point does it for installed
copies). Design and limits: docs/python.md, "The zarr-python codec pipeline".

Native path: for an array on a ``zarr.storage.LocalStore`` with a regular chunk grid, a
fixed-size data type (numbers, bool, datetime, fixed-length strings/bytes, raw, packed structs)
and a default/v2 chunk key encoding, each batch zarr-python hands the
pipeline (one ``(byte_getter, chunk_spec, chunk_selection, out_selection, is_complete)`` per
chunk) is turned into ONE strided box and one ``zarrc_array_read`` / ``zarrc_array_write``
call, so zarrc's thread pool fetches and decodes the chunks in parallel with the GIL released.

Codec mode (any store, any selection): zarr-python's own batch helpers fetch and store the bytes
through the array's store and call this pipeline's ``decode``/``encode`` once per batch, which
run the whole batch in one ``zarrc_array_chunks_decode``/``_encode`` call on zarrc's pool
(reads: this pipeline fetches the batch itself and decodes whole chunks that land contiguously
in the output straight there). Partial shard reads stay with zarr-python's byte-range partial
decode. What neither handles (variable-length strings/bytes, padded structs, custom key
encodings, arrays zarrc cannot open) goes to zarr-python's own
``BatchedCodecPipeline``, with one ``UserWarning`` per reason.

``stats`` counts what went where, so tests can prove chunk I/O really went through zarrc.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from zarr.abc.codec import CodecPipeline, GetResult
from zarr.codecs._v2 import V2Codec
from zarr.core.array_spec import ArrayConfig, ArraySpec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.codec_pipeline import BatchedCodecPipeline

try:  # zarr-python's store-agnostic batch read/write around pipeline.decode/encode (3.4.x)
    from zarr.core.chunk_utils import scatter_chunk
    from zarr.core.codec_pipeline import _async_read_fallback, _async_write_fallback
    from zarr.core.common import concurrent_map
    from zarr.core.config import config as _zarr_config
except ImportError:  # pragma: no cover - another zarr-python: codec mode is off
    _async_read_fallback = _async_write_fallback = None
from zarr.core.metadata import ArrayV2Metadata, ArrayV3Metadata
from zarr.registry import register_pipeline

from . import _loopjobs
from . import _pipeline_ffi as _ffi

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: Counters (process-wide): batches/chunks handled by zarrc and by the fallback.
stats: dict[str, int] = {}
_stats_lock = threading.Lock()
_warned: set[str] = set()
_warn_lock = threading.Lock()


def reset_stats() -> None:
    """Zero the counters and forget which fallback reasons were already warned about."""
    with _stats_lock:
        stats.clear()
        stats.update(native_read_calls=0, native_read_chunks=0, native_write_calls=0,
                     native_write_chunks=0, codec_read_calls=0, codec_read_chunks=0,
                     codec_write_calls=0, codec_write_chunks=0, codec_direct_chunks=0,
                     fallback_read_chunks=0,
                     fallback_write_chunks=0)
    with _warn_lock:
        _warned.clear()


reset_stats()


def _count(**counts: int) -> None:
    """Add to the named counters, all under one lock acquisition."""
    with _stats_lock:
        for name, n in counts.items():
            stats[name] = stats.get(name, 0) + n


class ZarrcFallbackWarning(UserWarning):
    """zarrc's pipeline handed work to zarr-python's default pipeline."""


def _fallback(reason: str) -> None:
    with _warn_lock:
        if reason in _warned:
            return
        _warned.add(reason)
    warnings.warn(f"ZarrcCodecPipeline: falling back to zarr-python's pipeline: {reason}",
                  ZarrcFallbackWarning, stacklevel=3)


class _NotNative(Exception):
    """This batch (or array) cannot go through zarrc; the message is the reason."""


#: numpy kinds whose elements zarrc lays out exactly as numpy does (native byte order, packed):
#: bool, integers, floats, complex, fixed-length bytes (S), UCS-4 strings (U), raw/structured (V),
#: datetime64 / timedelta64 (M/m). Variable-length strings and bytes are not fixed-size.
_NATIVE_KINDS = frozenset("biufcSUVMm")


#: zarr-python's variable-length data types (vlen-utf8 strings, vlen-bytes): zarrc reads and
#: writes them as zarrc_vlen, but turning that into numpy StringDType / object arrays in Python
#: costs more than zarr-python's whole pipeline (measured: docs/python.md), so they stay there.
_VLEN_TYPES = frozenset({"VariableLengthUTF8", "VariableLengthBytes"})


def _fixed_layout(dt: np.dtype) -> bool:
    """True when zarrc's in-memory element layout is numpy's for `dt` in native byte order:
    a fixed-size kind, or a record whose fields (recursively so) are packed in declaration
    order without padding, as zarrc lays out a v2 structured / v3 struct element."""
    if dt.subdtype is not None:
        return False
    if dt.fields is None:
        return dt.kind in _NATIVE_KINDS and dt.kind != "O"
    pos = 0
    for name in dt.names:
        fdt, off = dt.fields[name][:2]
        if off != pos:
            return False
        base = fdt.subdtype[0] if fdt.subdtype is not None else fdt
        if not _fixed_layout(base):
            return False
        pos += fdt.itemsize
    return pos == dt.itemsize


def _in_layout(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """`a` as a C-contiguous array of zarrc's element layout `dtype` (native byte order).
    Converted by assignment, not astype/ascontiguousarray: numpy 2.x treats datetime64 /
    timedelta64 of the generic unit in both byte orders as equivalent and does not swap them
    that way (assignment does)."""
    if a.dtype == dtype and a.flags.c_contiguous:
        return a
    out = np.empty(a.shape, dtype=dtype)
    out[...] = a
    return out


def _python_pipeline(metadata) -> BatchedCodecPipeline:
    """zarr-python's default pipeline for `metadata`, built as create_codec_pipeline does."""
    if isinstance(metadata, ArrayV3Metadata):
        pipe = BatchedCodecPipeline.from_codecs(metadata.codecs)
        grid = metadata.chunk_grid
        shape = getattr(grid, "chunk_shape", None) or (1,) * len(metadata.shape)
        spec = ArraySpec(shape=shape, dtype=metadata.data_type, fill_value=metadata.fill_value,
                         config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())
    else:
        pipe = BatchedCodecPipeline.from_codecs(
            [V2Codec(filters=metadata.filters, compressor=metadata.compressor)])
        spec = ArraySpec(shape=metadata.chunks, dtype=metadata.dtype, fill_value=metadata.fill_value,
                         config=ArrayConfig.from_dict({"order": metadata.order}),
                         prototype=default_buffer_prototype())
    return pipe.evolve_from_array_spec(spec)


def _key_layout(metadata) -> tuple[str, str]:
    """(encoding, separator) of the chunk keys: ("default"|"v2", "/"|".")."""
    if isinstance(metadata, ArrayV2Metadata):
        return "v2", metadata.dimension_separator or "."
    enc = metadata.chunk_key_encoding
    name = getattr(enc, "name", None)
    if name not in ("default", "v2"):
        raise _NotNative(f"chunk key encoding {name!r}")
    return name, getattr(enc, "separator", "/")


class _Native:
    """The zarrc side of one array: store + array handles (one per write_empty_chunks setting),
    opened on first use from the store root and the array path found in the chunk keys."""

    def __init__(self, metadata, root: str, read_only: bool):
        self.metadata = metadata
        self.root = root
        self.read_only = read_only
        self.encoding, self.sep = _key_layout(metadata)
        self.ndim = len(metadata.shape)
        grid = metadata.chunks if isinstance(metadata, ArrayV2Metadata) else \
            getattr(metadata.chunk_grid, "chunk_shape", None)
        if grid is None:
            raise _NotNative("chunk grid is not regular")
        self.chunk_shape = tuple(int(c) for c in grid)
        dt = metadata.dtype.to_native_dtype() if isinstance(metadata, ArrayV2Metadata) else \
            metadata.data_type.to_native_dtype()
        zdt = metadata.dtype if isinstance(metadata, ArrayV2Metadata) else metadata.data_type
        if type(zdt).__name__ in _VLEN_TYPES:
            raise _NotNative(f"variable-length data type {zdt} (zarr-python's own vlen codecs build the "
                             "numpy strings faster than a conversion from zarrc_vlen: docs/python.md)")
        if not _fixed_layout(dt):
            raise _NotNative(f"data type {dt} (zarrc's pipeline handles fixed-size types: bool, numbers, "
                             "datetime, fixed-length strings and bytes, raw, packed structs)")
        self.dtype = dt.newbyteorder("=")
        self.lock = threading.Lock()
        self.path: str | None = None
        self.store = None
        self.arrays: dict[bool, Any] = {}
        self.error: str | None = None

    def __del__(self):
        try:
            L = _ffi.lib()
        except Exception:
            return
        for a in getattr(self, "arrays", {}).values():
            L.zarrc_array_free(a)
        if getattr(self, "store", None) is not None:
            L.zarrc_store_free(self.store)

    def split_key(self, key: str) -> tuple[str, tuple[int, ...]]:
        """(array path, chunk coordinates) of a store key."""
        nd = self.ndim
        if self.sep == "/":
            parts = key.split("/")
            k = nd + (1 if self.encoding == "default" else 0)
            if nd == 0 and self.encoding == "v2":
                k = 1
            if len(parts) < k:
                raise _NotNative(f"chunk key {key!r} does not match the key encoding")
            head, tail = parts[: len(parts) - k], parts[len(parts) - k:]
            if self.encoding == "default":
                if tail[0] != "c":
                    raise _NotNative(f"chunk key {key!r} does not match the key encoding")
                tail = tail[1:]
        else:
            head, _, last = key.rpartition("/")
            head = [head] if head else []
            tail = last.split(".")
            if self.encoding == "default":
                if tail[0] != "c":
                    raise _NotNative(f"chunk key {key!r} does not match the key encoding")
                tail = tail[1:]
            if nd == 0:
                tail = []
        try:
            coords = tuple(int(t) for t in tail) if nd else ()
        except ValueError:
            raise _NotNative(f"chunk key {key!r} does not match the key encoding") from None
        if len(coords) != nd:
            raise _NotNative(f"chunk key {key!r} does not match the key encoding")
        if self.metadata.encode_chunk_key(coords) != (key[len("/".join(head)) + 1:] if head else key):
            raise _NotNative(f"chunk key {key!r} does not match the key encoding")
        return "/".join(head), coords

    def array(self, path: str, write_empty: bool):
        with self.lock:
            if self.error is not None:
                raise _NotNative(self.error)
            if self.path is not None and path != self.path:
                raise _NotNative("chunk keys of more than one array in one pipeline")
            a = self.arrays.get(write_empty)
            if a is not None:
                return a
            L = _ffi.lib()
            try:
                if self.store is None:
                    out = _ffi.ffi.new("zarrc_store **")
                    _ffi.check(L.zarrc_store_open(out, self.root.encode(),
                                                  _ffi.STORE_READONLY if self.read_only else 0))
                    self.store = out[0]
                out = _ffi.ffi.new("zarrc_array **")
                _ffi.check(L.zarrc_array_open(out, self.store, path.encode()))
                a = out[0]
                shape = tuple(L.zarrc_array_shape(a)[i] for i in range(L.zarrc_array_ndim(a)))
                chunks = tuple(L.zarrc_array_chunks(a)[i] for i in range(L.zarrc_array_ndim(a)))
                if shape != tuple(self.metadata.shape) or chunks != self.chunk_shape:
                    L.zarrc_array_free(a)
                    raise _NotNative(f"stored metadata (shape {shape}, chunks {chunks}) differs from "
                                     f"zarr-python's (shape {tuple(self.metadata.shape)})")
                L.zarrc_array_set_write_empty_chunks(a, 1 if write_empty else 0)
            except _ffi.ZarrcError as e:
                self.error = f"zarrc cannot open the array: {e}"
                raise _NotNative(self.error) from None
            except _NotNative as e:
                self.error = str(e)
                raise
            self.path = path
            self.arrays[write_empty] = a
            return a

    def box(self, batch: list, out_shape: tuple[int, ...], drop_axes: tuple[int, ...]):
        """The one strided box (start, count, step) a batch covers, or _NotNative."""
        if drop_axes:
            raise _NotNative("selection drops axes (orthogonal indexing with integer arrays)")
        nd = self.ndim
        if len(batch) == 1:
            one = self._box_one(batch[0], out_shape)
            if one is not None:
                return one
        slice_dim = [False] * nd
        items = []  # per item: per dim (a0, o0, n, st)
        total = 0
        path = None
        for byte_getter, _spec, csel, osel, _complete in batch:
            p, coords = self.split_key(byte_getter.path)
            if path is None:
                path = p
            elif p != path:
                raise _NotNative("chunk keys of more than one array in one batch")
            if not isinstance(csel, tuple):
                csel = (csel,)
            if not isinstance(osel, tuple):
                osel = (osel,)
            if len(csel) != nd:
                raise _NotNative("selection is not a box")
            oi = 0
            n_item = 1
            dims = []
            for d in range(nd):
                s = csel[d]
                c0 = coords[d] * self.chunk_shape[d]
                if isinstance(s, (int, np.integer)):
                    dims.append((c0 + int(s), 0, 1, 1))
                    continue
                if not isinstance(s, slice):
                    raise _NotNative("selection with integer arrays or masks")
                start, stop, st = s.indices(self.chunk_shape[d])
                if st < 1:
                    raise _NotNative("selection with negative steps")
                n = len(range(start, stop, st))
                if oi >= len(osel) or not isinstance(osel[oi], slice):
                    raise _NotNative("selection is not a box")
                o = osel[oi]
                oi += 1
                if o.step not in (None, 1):
                    raise _NotNative("selection is not a box")
                slice_dim[d] = True
                dims.append((c0 + start, o.start or 0, n, st))
                n_item *= n
            if oi != len(osel):
                raise _NotNative("selection is not a box")
            items.append(dims)
            total += n_item
        # One step per dimension: that of any run of 2+ elements, else from two items at
        # different output offsets; then every item must sit at base + o0 * step.
        steps = []
        base = []
        for d in range(nd):
            st = next((it[d][3] for it in items if it[d][2] > 1), None)
            if st is None:
                ref = items[0][d]
                other = next((it[d] for it in items if it[d][1] != ref[1]), None)
                if other is not None:
                    num, den = other[0] - ref[0], other[1] - ref[1]
                    if num % den or num // den < 1:
                        raise _NotNative("selection is not a box")
                    st = num // den
                else:
                    st = 1
            b = items[0][d][0] - items[0][d][1] * st
            for it in items:
                a0, o0, n, s_ = it[d]
                if a0 != b + o0 * st or (n > 1 and s_ != st):
                    raise _NotNative("selection is not a box")
            steps.append(st)
            base.append(b)
        count = []
        oi = 0
        for d in range(nd):
            if slice_dim[d]:
                if oi >= len(out_shape):
                    raise _NotNative("selection is not a box")
                count.append(int(out_shape[oi]))
                oi += 1
            else:
                count.append(1)
        if oi != len(out_shape) or total != math.prod(count):
            raise _NotNative("selection is not a box")
        return path, [int(b) for b in base], count, steps

    def _box_one(self, item, out_shape: tuple[int, ...]):
        """box() of a one-chunk batch in the common case (Dask/xarray reads and writes one
        chunk or a part of one per call): every chunk and output selection is a slice, the
        output is exactly the selected part of the chunk (offset 0, same extent). Returns
        the same (path, start, count, step) as the general case, or None to let it decide
        (and raise its errors)."""
        byte_getter, _spec, csel, osel, _complete = item
        nd = self.ndim
        if not isinstance(csel, tuple) or not isinstance(osel, tuple) or \
                len(csel) != nd or len(osel) != nd or len(out_shape) != nd:
            return None
        path, coords = self.split_key(byte_getter.path)
        start, count, step = [], [], []
        for d in range(nd):
            s, o = csel[d], osel[d]
            if type(s) is not slice or type(o) is not slice or (o.start or 0) != 0 \
                    or o.step not in (None, 1):
                return None
            c = self.chunk_shape[d]
            a, b, st = s.indices(c)
            if st < 1:
                return None
            n = len(range(a, b, st))
            if n != out_shape[d] or len(range(*o.indices(out_shape[d]))) != n:
                return None
            start.append(coords[d] * c + a)
            count.append(n)
            step.append(st if n > 1 else 1)
        return path, start, count, step


_codec_batch: contextvars.ContextVar = contextvars.ContextVar("zarrc_codec_batch", default=None)


class _Codec(_Native):
    """zarrc as the chunk codec of one array on any store: zarr-python fetches and stores the
    bytes (its own async, concurrent store I/O), zarrc decodes and encodes whole batches on its
    pool (zarrc_array_chunks_decode / _encode, the GIL released). The zarrc handle is opened
    from zarr-python's own metadata documents, written into a private ``memory://`` store under
    the array's path (so zarrc's messages name the array and the chunk key)."""

    def __init__(self, metadata):
        super().__init__(metadata, "memory://", False)
        self.nbytes = math.prod(self.chunk_shape) * self.dtype.itemsize
        from zarr.codecs import ShardingCodec

        self.sharded = isinstance(metadata, ArrayV3Metadata) and any(
            isinstance(c, ShardingCodec) for c in metadata.codecs)

    def array(self, path: str, write_empty: bool = True):
        with self.lock:
            if self.error is not None:
                raise _NotNative(self.error)
            if self.path is not None and path != self.path:
                raise _NotNative("chunk keys of more than one array in one pipeline")
            a = self.arrays.get(True)
            if a is not None:
                return a
            L = _ffi.lib()
            ffi = _ffi.ffi
            try:
                if self.store is None:
                    out = ffi.new("zarrc_store **")
                    _ffi.check(L.zarrc_store_open(out, b"memory://", 0))
                    self.store = out[0]
                for name, buf in self.metadata.to_buffer_dict(default_buffer_prototype()).items():
                    data = buf.to_bytes()
                    key = f"{path}/{name}" if path else name
                    _ffi.check(L.zarrc_store_set(self.store, key.encode(), data, len(data)))
                out = ffi.new("zarrc_array **")
                _ffi.check(L.zarrc_array_open(out, self.store, path.encode()))
                a = out[0]
                # zarr-python's write path drops empty chunks itself: encode everything it hands over
                L.zarrc_array_set_write_empty_chunks(a, 1)
                n = ffi.new("size_t *")
                rc = L.zarrc_array_chunk_size(n, a)
                if rc < 0:
                    L.zarrc_array_free(a)
                    _ffi.check(rc)
                if n[0] != self.nbytes:
                    L.zarrc_array_free(a)
                    raise _NotNative(f"zarrc's chunks have {n[0]} bytes, zarr-python's {self.nbytes}")
            except _ffi.ZarrcError as e:
                self.error = f"zarrc cannot use the array's codecs: {e}"
                raise _NotNative(self.error) from None
            except _NotNative as e:
                self.error = str(e)
                raise
            self.path = path
            self.arrays[True] = a
            return a

    def plan(self, batch) -> tuple[Any, list[tuple[int, ...]]]:
        """(zarrc handle, chunk coordinates per item) of a batch, or _NotNative."""
        path = None
        coords = []
        for item in batch:
            p, c = self.split_key(item[0].path)
            if path is None:
                path = p
            elif p != path:
                raise _NotNative("chunk keys of more than one array in one batch")
            coords.append(c)
        return self.array(path or ""), coords

    def _items(self, n):
        return _ffi.ffi.new("zarrc_chunk_item[]", n)

    def decode_batch(self, arr, pairs, coords) -> list:
        """Decode the present chunks of a batch in one zarrc call; None stays None."""
        ffi = _ffi.ffi
        present = [i for i, (b, _) in enumerate(pairs) if b is not None]
        res: list = [None] * len(pairs)
        if not present:
            return res
        block = np.empty((len(present),) + self.chunk_shape, dtype=self.dtype)
        base = ffi.from_buffer(block, require_writable=True)
        items = self._items(len(present))
        keep = []
        for j, i in enumerate(present):
            raw = pairs[i][0].as_numpy_array()
            if not raw.flags.c_contiguous:
                raw = np.ascontiguousarray(raw)
            src = ffi.from_buffer(raw)
            c = ffi.new("int64_t[]", list(coords[i]) or [0])
            keep += (src, c)
            it = items[j]
            it.coords = c
            it.encoded = src
            it.encoded_size = raw.nbytes
            it.decoded = base + j * self.nbytes
            it.decoded_size = self.nbytes
        _ffi.check(_ffi.lib().zarrc_array_chunks_decode(arr, items, len(present)))
        for j, i in enumerate(present):
            chunk = block[j:j + 1].reshape(self.chunk_shape)  # an array also for 0-d records
            res[i] = pairs[i][1].prototype.nd_buffer.from_ndarray_like(chunk)
        return res

    def _direct_view(self, dst, csel, osel):
        """The part of the output `dst` a whole chunk lands in, when zarrc can decode straight
        into it: the chunk selection is the whole chunk and out[osel] is a writable, C-contiguous
        view of the chunk's shape and zarrc's element layout. Else None."""
        if not isinstance(csel, tuple):
            csel = (csel,)
        if len(csel) != self.ndim:
            return None
        for s, n in zip(csel, self.chunk_shape, strict=True):
            if not isinstance(s, slice) or s.indices(n) != (0, n, 1):
                return None
        if not isinstance(osel, tuple):
            osel = (osel,)
        if not all(isinstance(o, (slice, int, np.integer)) for o in osel):
            return None  # integer arrays or masks: numpy would copy, not view
        view = dst[osel]
        if not isinstance(view, np.ndarray):  # a 0-d selection gives a scalar (a np.void view for records)
            return None
        if (view.shape != self.chunk_shape or not view.flags.c_contiguous or not view.flags.writeable
                or view.dtype != self.dtype or not np.may_share_memory(view, dst)):
            return None
        return view

    def read_batch(self, arr, batch, coords, chunk_bytes, out, drop_axes) -> list:
        """Decode the fetched chunks of a batch in one zarrc call and place them into `out`.
        A chunk wholly read into a contiguous part of `out` is decoded straight there (no
        intermediate chunk buffer, no copy); the others go through one scratch block and
        zarr-python's scatter. Missing chunks get the fill value (scatter_chunk). Returns the
        per-item GetResult."""
        ffi = _ffi.ffi
        dst = out.as_ndarray_like()
        if not isinstance(dst, np.ndarray) or drop_axes:
            dst = None
        present = [i for i, b in enumerate(chunk_bytes) if b is not None]
        targets: dict[int, np.ndarray] = {}
        if dst is not None:
            for i in present:
                v = self._direct_view(dst, batch[i][2], batch[i][3])
                if v is not None:
                    targets[i] = v
        staged = [i for i in present if i not in targets]
        block = np.empty((len(staged),) + self.chunk_shape, dtype=self.dtype) if staged else None
        slot = {i: j for j, i in enumerate(staged)}
        items = self._items(max(len(present), 1))
        keep = []
        for j, i in enumerate(present):
            raw = chunk_bytes[i].as_numpy_array()
            if not raw.flags.c_contiguous:
                raw = np.ascontiguousarray(raw)
            src = ffi.from_buffer(raw)
            c = ffi.new("int64_t[]", list(coords[i]) or [0])
            dst_i = targets[i] if i in targets else block[slot[i]:slot[i] + 1]
            dec = ffi.from_buffer(dst_i, require_writable=True)
            keep += (raw, src, c, dec)
            it = items[j]
            it.coords = c
            it.encoded = src
            it.encoded_size = raw.nbytes
            it.decoded = dec
            it.decoded_size = self.nbytes
        if present:
            _ffi.check(_ffi.lib().zarrc_array_chunks_decode(arr, items, len(present)))
        _count(codec_direct_chunks=len(targets))
        res = []
        for i, (_bg, spec, csel, osel, _c) in enumerate(batch):
            if i in targets:
                res.append(GetResult(status="present"))
                continue
            sel = None
            if i in slot:
                chunk = block[slot[i]:slot[i] + 1].reshape(self.chunk_shape)
                sel = spec.prototype.nd_buffer.from_ndarray_like(chunk)[csel]
            res.append(scatter_chunk(sel, out, chunk_spec=spec, out_selection=osel, drop_axes=drop_axes))
        return res

    def encode_batch(self, arr, pairs, coords) -> list:
        """Encode the chunks of a batch in one zarrc call; None stays None."""
        ffi = _ffi.ffi
        L = _ffi.lib()
        present = [i for i, (a, _) in enumerate(pairs) if a is not None]
        res: list = [None] * len(pairs)
        if not present:
            return res
        items = self._items(len(present))
        keep = []
        for j, i in enumerate(present):
            v = _in_layout(pairs[i][0].as_numpy_array(), self.dtype)
            if v.shape != self.chunk_shape:
                # a 0-d array's chunk arrives as shape (1,): same elements, another shape
                v = v.reshape(self.chunk_shape) if v.size == math.prod(self.chunk_shape) else \
                    np.ascontiguousarray(np.broadcast_to(v, self.chunk_shape))
            src = ffi.from_buffer(v)
            c = ffi.new("int64_t[]", list(coords[i]) or [0])
            keep += (v, src, c)
            it = items[j]
            it.coords = c
            it.decoded = src
            it.decoded_size = v.nbytes
        _ffi.check(L.zarrc_array_chunks_encode(arr, items, len(present)))
        for j, i in enumerate(present):
            it = items[j]
            if it.encoded == ffi.NULL:
                continue
            owned = ffi.gc(ffi.cast("char *", it.encoded), L.zarrc_free)
            view = np.frombuffer(ffi.buffer(owned, it.encoded_size), dtype=np.uint8)
            res[i] = pairs[i][1].prototype.buffer.from_array_like(view)
        return res


def _box_args(start, count, step):
    """One int64_t[] holding start, count and step (each ndim long; one zero for a 0-d array,
    whose calls read none of them) and ndim: the three pointers are box, box + nd, box + 2 * nd."""
    nd = len(start)
    return _ffi.ffi.new("int64_t[]", (start + count + step) if nd else [0]), nd


def _local_root(store) -> tuple[str, bool] | None:
    from zarr.storage import LocalStore

    if type(store) is LocalStore:
        return str(store.root), bool(store.read_only)
    return None


@dataclass
class ZarrcCodecPipeline(CodecPipeline):
    """zarr-python codec pipeline backed by libzarrc (see the module's doc)."""

    metadata: Any
    store: Any
    python_impl: BatchedCodecPipeline
    native: _Native | None = field(default=None)
    reason: str | None = field(default=None)
    codec: _Codec | None = field(default=None)
    codec_reason: str | None = field(default=None)

    # -- construction --

    @classmethod
    def from_codecs(cls, codecs: Iterable) -> BatchedCodecPipeline:
        return BatchedCodecPipeline.from_codecs(codecs)

    @classmethod
    def from_array_metadata_and_store(cls, array_metadata, store) -> ZarrcCodecPipeline:
        native, reason = None, None
        try:
            loc = _local_root(store)
            if loc is None:
                raise _NotNative(f"store type {type(store).__name__} (zarrc's pipeline reads LocalStore)")
            _ffi.lib()
            native = _Native(array_metadata, loc[0], loc[1])
        except _NotNative as e:
            reason = str(e)
        except OSError as e:
            reason = str(e)
        codec, codec_reason = None, None
        try:
            if _async_read_fallback is None:
                raise _NotNative("this zarr-python has no batch read/write helpers for codec mode")
            _ffi.lib()
            codec = _Codec(array_metadata)
        except (_NotNative, OSError) as e:
            codec_reason = str(e)
        return cls(metadata=array_metadata, store=store,
                   python_impl=_python_pipeline(array_metadata), native=native, reason=reason,
                   codec=codec, codec_reason=codec_reason)

    def __getstate__(self):
        return {"metadata": self.metadata, "store": self.store}

    def __setstate__(self, state):
        other = type(self).from_array_metadata_and_store(state["metadata"], state["store"])
        self.__dict__.update(other.__dict__)

    def evolve_from_array_spec(self, array_spec: ArraySpec) -> ZarrcCodecPipeline:
        return self

    # -- delegated to zarr-python's pipeline --

    @property
    def supports_partial_decode(self) -> bool:
        return False

    @property
    def supports_partial_encode(self) -> bool:
        return False

    def __iter__(self) -> Iterator:
        return iter(self.python_impl)

    def validate(self, *, shape, dtype, chunk_grid) -> None:
        self.python_impl.validate(shape=shape, dtype=dtype, chunk_grid=chunk_grid)

    def compute_encoded_size(self, byte_length: int, array_spec: ArraySpec) -> int:
        return self.python_impl.compute_encoded_size(byte_length, array_spec)

    async def decode(self, chunk_bytes_and_specs):
        pairs = list(chunk_bytes_and_specs)
        ctx = _codec_batch.get()
        if ctx is None or ctx[0] is not self or len(ctx[2]) != len(pairs):
            return await self.python_impl.decode(pairs)
        return await asyncio.to_thread(self.codec.decode_batch, ctx[1], pairs, ctx[2])

    async def encode(self, chunk_arrays_and_specs):
        pairs = list(chunk_arrays_and_specs)
        ctx = _codec_batch.get()
        if ctx is None or ctx[0] is not self or len(ctx[2]) != len(pairs):
            return await self.python_impl.encode(pairs)
        return await asyncio.to_thread(self.codec.encode_batch, ctx[1], pairs, ctx[2])

    def _codec_plan(self, batch, why: str):
        """(handle, coordinates) for codec mode, or _NotNative with both reasons."""
        if self.codec is None:
            raise _NotNative(self.codec_reason or why)
        return self.codec.plan(batch)

    # -- read / write --

    def _plan(self, batch, shape, drop_axes):
        if self.native is None:
            raise _NotNative(self.reason or "no native path")
        return self.native.box(batch, shape, drop_axes)

    async def read(self, batch_info, out, drop_axes=()):
        batch = list(batch_info)
        if not batch:
            return ()
        try:
            path, start, count, step = self._plan(batch, tuple(out.shape), drop_axes)
            arr = self.native.array(path, True)
        except _NotNative as e:
            try:
                carr, coords = self._codec_plan(batch, str(e))
            except _NotNative as e2:
                _fallback(str(e2))
                _count(fallback_read_chunks=len(batch))
                return await self.python_impl.read(batch, out, drop_axes)
            return await self._codec_read(batch, coords, carr, out, drop_axes)
        await self._read_native(arr, start, count, step, out)
        _count(native_read_calls=1, native_read_chunks=len(batch))
        return tuple(self._statuses(batch))

    async def _codec_read(self, batch, coords, carr, out, drop_axes):
        """Codec mode: zarr-python fetches, zarrc decodes the batch in one call. For sharded
        arrays only whole shards go this way: a partial shard read is left to zarr-python's
        partial decode, which fetches just the index and the inner chunks it needs (byte
        ranges) instead of the whole shard."""
        res: list = [None] * len(batch)
        whole = list(range(len(batch)))
        if self.codec.sharded:
            part = [i for i, item in enumerate(batch) if not item[4]]
            if part:
                whole = [i for i in whole if batch[i][4]]
                _fallback("partial shard reads (zarr-python's partial decode fetches byte ranges)")
                _count(fallback_read_chunks=len(part))
                got = await self.python_impl.read([batch[i] for i in part], out, drop_axes)
                for i, r in zip(part, got, strict=True):
                    res[i] = r
        if whole:
            sub = [batch[i] for i in whole]
            # zarr-python's own concurrent fetch (as its batch read does), then one zarrc call
            chunk_bytes = await concurrent_map([(bg, spec.prototype) for bg, spec, *_ in sub],
                                               lambda bg, proto: bg.get(proto),
                                               _zarr_config.get("async.concurrency"))
            got = await asyncio.to_thread(self.codec.read_batch, carr, sub,
                                          [coords[i] for i in whole], chunk_bytes, out, drop_axes)
            for i, r in zip(whole, got, strict=True):
                res[i] = r
            _count(codec_read_calls=1, codec_read_chunks=len(sub))
        return tuple(res)

    def _statuses(self, batch):
        need = any(getattr(spec.config, "read_missing_chunks", True) is False
                   for _, spec, *_ in batch)
        for bg, *_ in batch:
            if need and not os.path.exists(os.path.join(self.native.root, bg.path)):
                yield GetResult(status="missing")
            else:
                yield GetResult(status="present")

    async def _read_native(self, arr, start, count, step, out) -> None:
        dst = out.as_ndarray_like()
        direct = (isinstance(dst, np.ndarray) and dst.flags.c_contiguous and dst.flags.writeable
                  and dst.dtype == self.native.dtype)
        buf = dst if direct else np.empty(dst.shape, dtype=self.native.dtype)
        box, nd = _box_args(start, count, step)
        await _loopjobs.region(False, arr, box, nd, _ffi.ffi.from_buffer(buf, require_writable=True),
                               buf.nbytes, keep=(self.native, buf))
        if not direct:
            dst[...] = buf

    async def write(self, batch_info, value, drop_axes=()):
        batch = list(batch_info)
        if not batch:
            return
        try:
            if self.native is None:
                raise _NotNative(self.reason or "no native path")
            if self.native.read_only:
                raise _NotNative("read-only store")
            v = value.as_ndarray_like()
            if not isinstance(v, np.ndarray):
                raise _NotNative(f"value of type {type(v).__name__}")
            # The box's shape is that of the selection: find it from the batch itself.
            shape = self._selection_shape(batch)
            path, start, count, step = self._plan(batch, shape, drop_axes)
            we = bool(batch[0][1].config.write_empty_chunks)
            arr = self.native.array(path, we)
        except _NotNative as e:
            try:
                carr, coords = self._codec_plan(batch, str(e))
            except _NotNative as e2:
                _fallback(str(e2))
                _count(fallback_write_chunks=len(batch))
                return await self.python_impl.write(batch, value, drop_axes)
            tok = _codec_batch.set((self, carr, coords))
            try:
                await _async_write_fallback(self, batch, value, drop_axes)
            finally:
                _codec_batch.reset(tok)
            _count(codec_write_calls=1, codec_write_chunks=len(batch))
            return
        data = _in_layout(np.broadcast_to(v, shape), self.native.dtype)
        await self._write_native(arr, start, count, step, data)
        _count(native_write_calls=1, native_write_chunks=len(batch))

    @staticmethod
    def _selection_shape(batch) -> tuple[int, ...]:
        """The shape of the value a batch writes: the extent of the out selections."""
        ext: list[int] | None = None
        for _bg, _spec, _csel, osel, _c in batch:
            if not isinstance(osel, tuple):
                osel = (osel,)
            if not all(isinstance(o, slice) for o in osel):
                raise _NotNative("selection with integer arrays or masks")
            stops = [o.stop for o in osel]
            if any(s is None for s in stops):
                raise _NotNative("selection is not a box")
            ext = stops if ext is None else [max(a, b) for a, b in zip(ext, stops, strict=True)]
        return tuple(ext or ())

    async def _write_native(self, arr, start, count, step, data) -> None:
        box, nd = _box_args(start, count, step)
        await _loopjobs.region(True, arr, box, nd, _ffi.ffi.from_buffer(data), data.nbytes,
                               keep=(self.native, data))


register_pipeline(ZarrcCodecPipeline)
