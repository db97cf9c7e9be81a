"""Dask helpers: read zarrc arrays as dask arrays and store dask arrays through zarrc.

zarrc.Array handles pickle by (URL, path, mode) and reopen lazily in each worker, so they
can travel in task graphs of the distributed scheduler."""
import numpy as np


def from_zarrc(url_or_path, path="", chunks=None):
    """A dask array over a zarrc array, chunked like it (or `chunks`)."""
    import dask.array as da
    from .core import open_array
    a = open_array(url_or_path, path, "r")
    return da.from_array(a, chunks=chunks or a.chunks, lock=False, asarray=True,
                         meta=np.empty((0,) * a.ndim, dtype=a.dtype))


def store(darr, url_or_path, path="", chunks=None, mode="a", compute=True, **create_kw):
    """Create an array shaped like `darr` (chunks: given, or darr's first chunk per axis) and
    write every block of `darr` into it from the workers, concurrently and without a lock:
    blocks that share a zarrc chunk are merged by zarrc's per-key read-modify-write."""
    import dask.array as da
    from .core import create_array
    if chunks is None:
        chunks = tuple(c[0] if c else 1 for c in darr.chunks)
    create_kw.setdefault("overwrite", True)
    target = create_array(url_or_path, path, mode=mode, shape=darr.shape, dtype=darr.dtype,
                          chunks=chunks, **create_kw)
    res = da.store(darr, target, lock=False, compute=compute)
    return target if compute else (target, res)
