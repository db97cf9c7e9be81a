"""peer_py3.py - the tensorstore and zarr-python 3 sides of zarrc's benchmark suite (bench/run.sh
drives it, with the test venv's python: scripts/install-deps.sh venv-path).

  peer_py3.py IMPL write DIR --codecs JSON --shape N --chunks C [--shards S]
                                      create + write the whole array (v3; --shards: the chunk grid
                                      is S^3 and --codecs holds the sharding codec)
  peer_py3.py IMPL read DIR           the whole array into one new buffer
  peer_py3.py IMPL read-chunks DIR [--threads N] [--inner] [--check-all]
                                      chunk by chunk (or inner chunk by inner chunk), N concurrent
  peer_py3.py IMPL copy SRC DST [--threads N]
                                      decode + re-encode into a new array with the same metadata

IMPL: tensorstore | zarr (zarr-python 3, default codec pipeline) | zarr-zarrs (zarr-python 3 with
codec_pipeline.path = zarrs.ZarrsCodecPipeline).

Threads: every implementation is held to --max-threads (default 2): tensorstore through its
context (data_copy_concurrency and file_io_concurrency limits), zarr-python through
threading.max_workers (and async.concurrency for chunk requests), zarrs-python through
threading.max_workers (its rayon pool; bench/run.sh also sets RAYON_NUM_THREADS).

Prints one JSON line {"what", "seconds", "bytes" (decoded), "peak_rss_kib", versions} like
zarrc_bench. The timing starts before the array is opened (imports excluded). Values are checked
outside the timing: a whole read checks every value, a chunk-by-chunk read the last block (every
block with --check-all, inside the timing: for verification runs). A wrong value exits 1.
"""
import importlib.metadata as md
import json
import os
import resource
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def opt(args, name, default=None):
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else default


def dims(s):
    v = [int(x) for x in s.split(",")]
    return tuple(v * 3 if len(v) == 1 else v)


def expected(start, count):
    """The workload's values of a box, a plane at a time (no big int64 temporaries)."""
    out = np.empty(count, dtype=np.uint16)
    y, x = np.ogrid[start[1]:start[1] + count[1], start[2]:start[2] + count[2]]
    plane = (x + y * y // 32).astype(np.uint64)
    for k in range(count[0]):
        z = start[0] + k
        out[k] = (plane + z * z * z) % 65536
    return out


def count_bad(got, start):
    bad = 0
    for k in range(0, got.shape[0], 16):
        n = min(16, got.shape[0] - k)
        bad += int(np.count_nonzero(got[k:k + n] != expected([start[0] + k, start[1], start[2]],
                                                              [n] + list(got.shape[1:]))))
    return bad


def boxes(shape, block):
    out = []
    for z in range(0, shape[0], block[0]):
        for y in range(0, shape[1], block[1]):
            for x in range(0, shape[2], block[2]):
                out.append(tuple(slice(s, min(s + b, n)) for s, b, n in zip((z, y, x), block, shape)))
    return out


def inner_shape(meta):
    for c in meta.get("codecs", []):
        if c.get("name") == "sharding_indexed":
            return tuple(c["configuration"]["chunk_shape"])
    return None


def load_meta(d):
    with open(os.path.join(d, "zarr.json")) as f:
        return json.load(f)


class Impl:
    def __init__(self, name, threads):
        self.name, self.threads = name, threads
        if name == "tensorstore":
            import tensorstore as ts
            self.ts = ts
            self.ctx = ts.Context({"data_copy_concurrency": {"limit": threads},
                                   "file_io_concurrency": {"limit": threads}})
            self.versions = {"tensorstore": md.version("tensorstore")}
        elif name in ("zarr", "zarr-zarrs"):
            import zarr
            self.zarr = zarr
            cfg = {"threading.max_workers": threads, "async.concurrency": max(threads, 1)}
            if name == "zarr-zarrs":
                import zarrs  # noqa: F401  (registers the pipeline)
                cfg["codec_pipeline.path"] = "zarrs.ZarrsCodecPipeline"
            zarr.config.set(cfg)
            self.versions = {"zarr": md.version("zarr")}
            if name == "zarr-zarrs":
                self.versions["zarrs-python"] = md.version("zarrs")
        else:
            sys.exit(f"peer_py3: unknown implementation '{name}'")
        self.versions["numpy"] = np.__version__

    # ---- open / create ----
    def open(self, d):
        if self.ts:
            return self.ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": d}},
                                context=self.ctx, read=True).result()
        return self.zarr.open_array(d, mode="r")

    def create(self, d, shape, grid, codecs, fill=0):
        """A new array: its zarr.json written directly (the same document for every
        implementation), then opened for writing."""
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        meta = {"zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": "uint16",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(grid)}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": fill, "codecs": codecs, "attributes": {}}
        with open(os.path.join(d, "zarr.json"), "w") as f:
            json.dump(meta, f)
        if self.ts:
            return self.ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": d}},
                                context=self.ctx, read=True, write=True).result()
        return self.zarr.open_array(d, mode="r+")

    ts = None

    def read_box(self, a, sl):
        if self.ts:
            return a[sl].read().result()
        return a[sl]

    def write_all(self, a, data):
        if self.ts:
            a.write(data).result()
        else:
            a[...] = data

    def shape(self, a):
        return tuple(a.shape) if not self.ts else tuple(a.domain.shape)


def result(impl, what, seconds, nbytes, **extra):
    r = {"what": what, "seconds": seconds, "bytes": int(nbytes),
         "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    r.update(impl.versions)
    r.update(extra)
    print(json.dumps(r), flush=True)


def run_pool(n, fn, items):
    """fn over items with n threads; returns the results of each thread's last item."""
    lasts = {}
    if n <= 1:
        for i in items:
            lasts[0] = fn(i)
        return list(lasts.values())
    lock = threading.Lock()
    it = iter(items)

    def worker(t):
        while True:
            with lock:
                i = next(it, None)
            if i is None:
                return
            lasts[t] = fn(i)

    with ThreadPoolExecutor(n) as ex:
        list(ex.map(worker, range(n)))
    return list(lasts.values())


def main(args):
    if len(args) < 3:
        sys.exit(__doc__)
    threads = int(opt(args, "--max-threads", os.environ.get("ZARRC_NUM_THREADS", "2")))
    impl = Impl(args[0], threads)
    cmd, d = args[1], args[2]
    if cmd == "write":
        codecs = json.loads(opt(args, "--codecs"))
        shape = dims(opt(args, "--shape"))
        grid = dims(opt(args, "--shards") or opt(args, "--chunks"))
        data = expected((0, 0, 0), shape)
        t0 = time.perf_counter()
        a = impl.create(d, shape, grid, codecs)
        impl.write_all(a, data)
        result(impl, "write", time.perf_counter() - t0, data.nbytes)
    elif cmd == "read":
        t0 = time.perf_counter()
        a = impl.open(d)
        data = impl.read_box(a, tuple(slice(0, n) for n in impl.shape(a)))
        t = time.perf_counter() - t0
        bad = count_bad(data, (0, 0, 0))
        if bad:
            sys.exit(f"peer_py3 {impl.name}: {bad} wrong values")
        result(impl, "read", t, data.nbytes)
    elif cmd == "read-chunks":
        n = int(opt(args, "--threads", "1"))
        check_all = "--check-all" in args
        meta = load_meta(d)
        t0 = time.perf_counter()
        a = impl.open(d)
        shape = impl.shape(a)
        block = tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])
        if "--inner" in args:
            block = inner_shape(meta)
            if not block:
                sys.exit(f"peer_py3: {d}: not sharded: no inner chunks")
        items = boxes(shape, block)
        bad, lock = [0], threading.Lock()

        def one(sl):
            got = impl.read_box(a, sl)
            if check_all:
                b = count_bad(got, [s.start for s in sl])
                with lock:
                    bad[0] += b
            return sl, got

        lasts = run_pool(n, one, items)
        t = time.perf_counter() - t0
        for sl, got in lasts:
            bad[0] += count_bad(got, [s.start for s in sl])
        if bad[0]:
            sys.exit(f"peer_py3 {impl.name}: {bad[0]} wrong values")
        result(impl, "read-inner" if "--inner" in args else "read-chunks", t,
               int(np.prod(shape)) * 2, threads=n, blocks=len(items))
    elif cmd == "copy":
        n = int(opt(args, "--threads", str(threads)))
        dst_dir = args[3]
        meta = load_meta(d)
        t0 = time.perf_counter()
        src = impl.open(d)
        grid = tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])
        shape = impl.shape(src)
        dst = impl.create(dst_dir, shape, grid, meta["codecs"], meta.get("fill_value", 0))
        if impl.ts:
            # tensorstore copies between two stores itself (streaming, chunk by chunk).
            dst.write(src).result()
        else:
            def one(sl):
                dst[sl] = src[sl]
            run_pool(n, one, boxes(shape, grid))
        result(impl, "copy", time.perf_counter() - t0, int(np.prod(shape)) * 2, threads=n)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
