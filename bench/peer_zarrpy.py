#!/usr/bin/python3
"""peer_zarrpy.py - the zarr-python 2.13 side of zarrc's benchmark suite (bench/run.sh drives it).

  peer_zarrpy.py write DIR --encoding none|zstd|blosc --shape N --chunks C [--compressor JSON]
                                                                             create + write whole
                                           (--compressor: a numcodecs config replacing the encoding's)
  peer_zarrpy.py read DIR                                                    whole array
  peer_zarrpy.py read-chunks DIR [--threads N] [--check-all]                 chunk by chunk
  peer_zarrpy.py copy SRC DST [--threads N]            decode + re-encode chunk by chunk (v2)

Prints one JSON line {"what", "seconds", "bytes" (decoded), "peak_rss_kib"} like zarrc_bench.
Values are checked after each timed read (outside the timing); a wrong value exits 1.
Run it with /usr/bin/python3 (Debian's zarr 2.13 and numcodecs 0.11).
"""
import json
import resource
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numcodecs
import numpy as np
import zarr
from numcodecs import Blosc, Zstd

COMPRESSORS = {
    "none": lambda: None,
    "zstd": lambda: Zstd(level=3),
    "blosc": lambda: Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE, blocksize=0),
}


def opt(args, name, default=None):
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else default


def dims(s):
    v = [int(x) for x in s.split(",")]
    return tuple(v * 3 if len(v) == 1 else v)


def expected(start, count):
    """The workload's values of a box, built a few planes at a time (no big int64 temporaries,
    which would inflate the peak RSS this script reports)."""
    out = np.empty(count, dtype=np.uint16)
    y, x = np.ogrid[start[1]:start[1] + count[1], start[2]:start[2] + count[2]]
    plane = (x + y * y // 32).astype(np.uint64)
    for k in range(count[0]):
        z = start[0] + k
        out[k] = (plane + z * z * z) % 65536
    return out


def result(what, seconds, nbytes, **extra):
    r = {"what": what, "seconds": seconds, "bytes": int(nbytes),
         "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
         "zarr": zarr.__version__}
    r.update(extra)
    print(json.dumps(r), flush=True)


def boxes(shape, block):
    for z in range(0, shape[0], block[0]):
        for y in range(0, shape[1], block[1]):
            for x in range(0, shape[2], block[2]):
                yield tuple(slice(s, min(s + b, n)) for s, b, n in zip((z, y, x), block, shape))


def check(got, sl):
    start = [s.start for s in sl]
    count = [s.stop - s.start for s in sl]
    bad = 0
    for k in range(0, count[0], 16):  # in slabs: see expected()
        n = min(16, count[0] - k)
        bad += int(np.count_nonzero(got[k:k + n] != expected([start[0] + k] + start[1:], [n] + count[1:])))
    if bad:
        sys.exit(f"peer_zarrpy: {bad} wrong values")


def run_pool(n, fn, items):
    """fn over items, n at a time; returns the last result (the others are dropped at once)."""
    last = None
    if n <= 1:
        for i in items:
            last = fn(i)
        return last
    with ThreadPoolExecutor(n) as ex:
        for last in ex.map(fn, items):
            pass
    return last


def main(args):
    cmd = args[0] if args else ""
    if cmd == "write":
        enc = opt(args, "--encoding")
        shape, chunks = dims(opt(args, "--shape")), dims(opt(args, "--chunks"))
        data = expected((0, 0, 0), shape)
        t0 = time.perf_counter()
        shutil.rmtree(args[1], ignore_errors=True)
        comp = opt(args, "--compressor")  # JSON; "null" = no compressor
        comp = COMPRESSORS[enc]() if comp is None else json.loads(comp)
        comp = numcodecs.get_codec(comp) if isinstance(comp, dict) else comp
        z = zarr.open(args[1], mode="w", shape=shape, chunks=chunks, dtype="<u2", fill_value=0,
                      compressor=comp)
        z[...] = data
        result("write", time.perf_counter() - t0, data.nbytes)
    elif cmd == "read":
        t0 = time.perf_counter()
        z = zarr.open(args[1], mode="r")
        data = z[...]
        t = time.perf_counter() - t0
        check(data, tuple(slice(0, n) for n in z.shape))
        result("read", t, data.nbytes)
    elif cmd == "read-chunks":
        n = int(opt(args, "--threads", "1"))
        t0 = time.perf_counter()
        z = zarr.open(args[1], mode="r")
        items = list(boxes(z.shape, z.chunks))
        check_all = "--check-all" in args  # every block, inside the timing (verification runs)

        def one(sl):
            got = z[sl]
            if check_all:
                check(got, sl)
            return sl, got

        last = run_pool(n, one, items)
        t = time.perf_counter() - t0
        check(last[1], last[0])
        result("read-chunks", t, z.nbytes, threads=n, blocks=len(items))
    elif cmd == "copy":
        n = int(opt(args, "--threads", "1"))
        t0 = time.perf_counter()
        src = zarr.open(args[1], mode="r")
        shutil.rmtree(args[2], ignore_errors=True)
        dst = zarr.open(args[2], mode="w", shape=src.shape, chunks=src.chunks, dtype=src.dtype,
                        fill_value=src.fill_value, compressor=src.compressor, filters=src.filters)

        def copy_one(sl):
            dst[sl] = src[sl]
            return sl

        run_pool(n, copy_one, list(boxes(src.shape, src.chunks)))
        result("copy", time.perf_counter() - t0, src.nbytes, threads=n)
    else:
        sys.exit("usage: peer_zarrpy.py write|read|read-chunks|copy DIR ...")


if __name__ == "__main__":
    main(sys.argv[1:])
