#!/usr/bin/env python3
"""xarray/dask workloads through zarr-python 3.4 codec pipelines, side by side in one run:
zarr-python's default (BatchedCodecPipeline), zarrs-python (zarrs.ZarrsCodecPipeline) and
zarrc's (zarrc.pipeline.ZarrcCodecPipeline).

  open+mean : xarray.open_zarr(ds)["v"].mean().compute()   (dask threaded scheduler)
  rechunk   : open_zarr(ds).chunk(other).to_zarr(new)       (read + encode + write)

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
                        ds.chunk({"t": 32, "y": 512, "x": 128}).drop_encoding().to_zarr(out, zarr_format=3)

                    results.setdefault(("open+mean", label), []).append(run("mean", mean))
                    results.setdefault(("rechunk", label), []).append(run("rechunk", rechunk))
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
        print("| workload | pipeline | median s | min–max s | GiB/s | vs zarr-python | vs zarrs-python |")
        print("|---|---|---|---|---|---|---|")
        for wl in ("open+mean", "rechunk"):
            med = {lb: statistics.median(results[(wl, lb)]) for lb in PIPELINES}
            for lb in PIPELINES:
                ts = results[(wl, lb)]
                print(f"| {wl} | {lb} | {med[lb]:.2f} | {min(ts):.2f}–{max(ts):.2f} | "
                      f"{nbytes / 2**30 / med[lb]:.2f} | {med['zarr-python'] / med[lb]:.2f}× | "
                      f"{med['zarrs-python'] / med[lb]:.2f}× |")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
