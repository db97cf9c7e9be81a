#!/usr/bin/env python3
"""xarray/dask workloads through zarr-python 3.4 codec pipelines, side by side in one run:
zarr-python's default (BatchedCodecPipeline), zarrs-python (zarrs.ZarrsCodecPipeline) and
zarrc's (zarrc.pipeline.ZarrcCodecPipeline).

  open+mean : xarray.open_zarr(ds)["v"].mean().compute()   (dask threaded scheduler)
  rechunk   : open_zarr(ds).chunk(other).to_zarr(new)       (read + encode + write)

Each repeat also times the codec limit: the same zstd calls on the same 2 threads with one file per
chunk and no Zarr, xarray or dask (libzstd through ctypes, which releases the GIL): open+mean's is
reading and decoding every chunk file; rechunk's adds encoding the rechunked blocks (cut out of the
array beforehand, untimed) and writing each to its own file.

Usage: bench_python.py [--gib 0.25] [--repeats 3] [--dir DIR] [--via local|fsspec]   (the full run: --gib 2)
--via fsspec reads the dataset through a zarr FsspecStore (file://) instead of a LocalStore, so
zarrc's pipeline runs in codec mode (zarr-python fetches, zarrc decodes) rather than native.
Run with the peer venv's python and the package installed from this checkout, e.g.
  PY=$(scripts/install-deps.sh venv-path)
  ZARRC_LIBZARRC=$PWD/build/libzarrc.a ZARRC_INCLUDE_DIR=$PWD/include $PY -m pip install -q --no-deps \
      --no-build-isolation --target /tmp/zarrc-site ./python
  PYTHONPATH=/tmp/zarrc-site $PY bench/bench_python.py --gib 2
Prints a Markdown table of medians and ratios, plus the load average before and after."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import warnings

import dask
import numpy as np
import xarray as xr
import zarr

PIPELINES = {
    "zarr-python": "zarr.core.codec_pipeline.BatchedCodecPipeline",
    "zarrs-python": "zarrs.ZarrsCodecPipeline",
    "zarrc": "zarrc.pipeline.ZarrcCodecPipeline",
}


def make_dataset(path: str, gib: float) -> tuple[int, ...]:
    ny, nx = 512, 512
    nt = max(8, int(gib * 2**30 / (ny * nx * 4)))
    shape = (nt, ny, nx)
    rng = np.random.default_rng(0)
    g = zarr.open_group(path, mode="w", zarr_format=3)
    z = g.create_array("v", shape=shape, chunks=(8, 256, 256), dtype="float32",
                          dimension_names=("t", "y", "x"), fill_value=0.0)
    block = 64
    for t0 in range(0, nt, block):
        n = min(block, nt - t0)
        # smooth-ish data so zstd has something to do but does not compress it away
        z[t0:t0 + n] = (rng.standard_normal((n, ny, nx)) * 10).round(2).astype("float32")
    zarr.consolidate_metadata(path)
    return shape


class CodecLimit:
    """The codec's own cost of both workloads (see the module doc)."""

    def __init__(self, ds_path: str, shape: tuple[int, ...], out_chunks: tuple[int, ...]):
        import ctypes
        import ctypes.util
        self.ct = ctypes
        self.lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
        for fn in ("ZSTD_compressBound", "ZSTD_compress", "ZSTD_decompress"):
            getattr(self.lib, fn).restype = ctypes.c_size_t
        self.lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
        self.lib.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                           ctypes.c_size_t, ctypes.c_int]
        self.lib.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                             ctypes.c_size_t]
        self.lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
        arr = zarr.open_array(os.path.join(ds_path, "v"), mode="r")
        self.chunk_bytes = int(np.prod(arr.chunks)) * arr.dtype.itemsize
        root = os.path.join(ds_path, "v", "c")
        self.files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
        data = arr[...]
        self.blocks = [np.ascontiguousarray(data[t:t + out_chunks[0], y:y + out_chunks[1],
                                                 x:x + out_chunks[2]])
                       for t in range(0, shape[0], out_chunks[0])
                       for y in range(0, shape[1], out_chunks[1])
                       for x in range(0, shape[2], out_chunks[2])]
        self.local = __import__("threading").local()

    def _buf(self, name: str, size: int):
        b = getattr(self.local, name, None)
        if b is None or len(b) < size:
            b = self.ct.create_string_buffer(size)
            setattr(self.local, name, b)
        return b

    def _decode(self, path: str) -> None:
        with open(path, "rb") as f:
            data = f.read()
        out = self._buf("dec", self.chunk_bytes)
        r = self.lib.ZSTD_decompress(out, self.chunk_bytes, data, len(data))
        if self.lib.ZSTD_isError(r) or r != self.chunk_bytes:
            raise RuntimeError(f"{path}: zstd decode gave {r}")

    def _encode(self, item) -> None:
        path, block = item
        cap = self.lib.ZSTD_compressBound(block.nbytes)
        out = self._buf("enc", cap)
        r = self.lib.ZSTD_compress(out, cap, block.ctypes.data, block.nbytes, 0)  # zarr's level 0
        if self.lib.ZSTD_isError(r):
            raise RuntimeError("zstd encode failed")
        with open(path, "wb") as f:
            f.write(memoryview(out)[:r])

    def mean(self) -> None:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(2) as ex:
            list(ex.map(self._decode, self.files))

    def rechunk(self, out: str) -> None:
        from concurrent.futures import ThreadPoolExecutor
        os.makedirs(out)
        with ThreadPoolExecutor(2) as ex:
            list(ex.map(self._decode, self.files))
            list(ex.map(self._encode, ((os.path.join(out, str(i)), b)
                                       for i, b in enumerate(self.blocks))))


def run(name: str, fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=0.25)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--via", choices=("local", "fsspec"), default="local")
    args = ap.parse_args()
    import zarrc.pipeline  # registers the pipeline; its counters are printed
    import zarrs  # noqa: F401

    warnings.simplefilter("ignore")
    base = tempfile.mkdtemp(prefix="bench_python_", dir=args.dir)
    try:
        ds_path = os.path.join(base, "ds.zarr")
        la0 = os.getloadavg()
        shape = make_dataset(ds_path, args.gib)
        nbytes = int(np.prod(shape)) * 4
        results: dict[tuple[str, str], list[float]] = {}
        dask.config.set(scheduler="threads")
        out_chunks = (32, 512, 128)
        limit = CodecLimit(ds_path, shape, out_chunks)

        def source():
            if args.via == "local":
                return ds_path
            return zarr.storage.FsspecStore.from_url(f"file://{ds_path}", read_only=True)
        for rep in range(args.repeats):
            for label, path in PIPELINES.items():  # interleaved: load changes hit all alike
                with zarr.config.set({"codec_pipeline.path": path}):
                    def mean():
                        ds = xr.open_zarr(source())
                        ds["v"].mean().compute()

                    out = os.path.join(base, f"out_{label}_{rep}.zarr")

                    def rechunk():
                        ds = xr.open_zarr(source())
                        ds.chunk(dict(zip(("t", "y", "x"), out_chunks))).drop_encoding().to_zarr(out, zarr_format=3)

                    results.setdefault(("open+mean", label), []).append(run("mean", mean))
                    results.setdefault(("rechunk", label), []).append(run("rechunk", rechunk))
                    shutil.rmtree(out, ignore_errors=True)
            out = os.path.join(base, f"out_limit_{rep}")
            results.setdefault(("open+mean", "codec limit"), []).append(run("mean", limit.mean))
            results.setdefault(("rechunk", "codec limit"), []).append(
                run("rechunk", lambda: limit.rechunk(out)))
            shutil.rmtree(out, ignore_errors=True)
        # the same values through every pipeline (checked once, outside the timings)
        sums = {}
        for label, path in PIPELINES.items():
            with zarr.config.set({"codec_pipeline.path": path}):
                sums[label] = float(xr.open_zarr(source())["v"].sum().compute())
        assert len(set(sums.values())) == 1, sums
        la1 = os.getloadavg()
        zs = zarrc.pipeline.stats
        print(f"dataset: {shape} float32 = {nbytes / 2**30:.2f} GiB, chunks (8,256,256), zstd "
              f"(zarr-python default), read via {args.via}; {args.repeats} repeats, interleaved; dask threads; "
              f"ZARRC_NUM_THREADS={os.environ.get('ZARRC_NUM_THREADS', 'default')}, cores {os.cpu_count()}")
        print(f"loadavg before {la0[0]:.1f}/{la0[1]:.1f}/{la0[2]:.1f}, after {la1[0]:.1f}/{la1[1]:.1f}/{la1[2]:.1f}")
        print(f"zarrc pipeline paths (all its runs): native {zs['native_read_calls']} read / "
              f"{zs['native_write_calls']} write batches ({zs['native_read_chunks']} / "
              f"{zs['native_write_chunks']} chunks), codec mode {zs['codec_read_calls']} / "
              f"{zs['codec_write_calls']} batches ({zs.get('codec_direct_chunks', 0)} chunks decoded straight "
              f"into the output), fallback {zs['fallback_read_chunks']} / "
              f"{zs['fallback_write_chunks']} chunks")
        print()
        print("| workload | pipeline | median s | min–max s | GiB/s | vs zarr-python | vs zarrs-python "
              "| × limit time |")
        print("|---|---|---|---|---|---|---|---|")
        for wl in ("open+mean", "rechunk"):
            med = {lb: statistics.median(results[(wl, lb)]) for lb in PIPELINES}
            med["codec limit"] = statistics.median(results[(wl, "codec limit")])
            for lb in (*PIPELINES, "codec limit"):
                ts = results[(wl, lb)]
                print(f"| {wl} | {lb} | {med[lb]:.2f} | {min(ts):.2f}–{max(ts):.2f} | "
                      f"{nbytes / 2**30 / med[lb]:.2f} | {med['zarr-python'] / med[lb]:.2f}× | "
                      f"{med['zarrs-python'] / med[lb]:.2f}× | {med[lb] / med['codec limit']:.2f} |")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
