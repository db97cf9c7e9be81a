#!/usr/bin/env python3
"""numcodecs.zfpy (v3) and zfpy (v2 compressor) both ways with zarr-python 3.4 + numcodecs'
Zfpy (zfpy 1.0.1): zarrc's stored chunks are byte for byte what numcodecs' Zfpy.encode makes of
the same chunk; zarr-python writes, zarrc reads bit for bit (same zfp decoder); zarrc writes,
zarr-python reads bit for bit; lossy modes stay within their bound.

usage: run_zfpy.py ZARRC WORKDIR"""
import json
import os
import shutil
import subprocess
import sys

import numcodecs
import numpy as np
import zarr
import zfpy

ZARRC, WORK = sys.argv[1], sys.argv[2]
FULL = os.environ.get("ZARRC_PEERS_FULL") == "1"
CHECKS, FAILURES = 0, []


def check(cond, msg):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def zarrc(*args, stdin=None):
    return subprocess.run([ZARRC] + list(args), input=stdin, capture_output=True)


# numcodecs 0.17.1 cannot encode mode 5 (its Zfpy sets no compression_kwargs): zarrc's chunks are
# compared with zfpy.compress_numpy directly there and zarr-python only reads them.
# (rates below 9 bits per block for floats crash zfpy itself: it sets the rate without the type)
MODES = [dict(mode=5), dict(mode=2, rate=8), dict(mode=2, rate=4), dict(mode=3, precision=14),
         dict(mode=4, tolerance=0.01), dict(mode=4)]  # mode 4 without tolerance: zfpy's reversible
SHAPES = [((32,), (8,)), ((8, 12), (4, 6)), ((4, 6, 8), (4, 3, 4)), ((2, 4, 4, 6), (1, 4, 2, 3))]
DTYPES = ["float32", "float64", "int32", "int64"]


def data(dt, shape, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    x = np.sin(np.arange(n) / 5.0) * 100 + rng.uniform(-1, 1, n)
    if dt.startswith("int"):
        x = x * 1000
    return x.astype(dt).reshape(shape)


def chunk_files(root):
    out = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            if f not in ("zarr.json", ".zarray", ".zattrs", ".zgroup"):
                out[os.path.relpath(os.path.join(d, f), root)] = open(os.path.join(d, f), "rb").read()
    return out


def chunk_of(arr, chunk, idx):
    sl = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunk))
    return np.ascontiguousarray(arr[sl])


def key_index(key, fmt):
    parts = key.split("/")[1:] if fmt == 3 else key.split(".")
    return tuple(int(p) for p in parts)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    n = 0
    for dt in DTYPES:
        for mi, m in enumerate(MODES):
            if dt.startswith("int") and m.get("mode") == 4 and "tolerance" in m:
                continue  # fixed accuracy is for floats (zfp)
            for si, (shape, chunk) in enumerate(SHAPES):
                # the default run takes two shapes per type and mode (make check-full: all)
                if not FULL and si % 2 != (mi + DTYPES.index(dt)) % 2:
                    continue
                for fmt in (3, 2):
                    n += 1
                    what = "%s %s shape %s v%d" % (dt, m, shape, fmt)
                    d = data(dt, shape, n)
                    codec = numcodecs.ZFPY(**m)
                    cfg = {k: v for k, v in codec.get_config().items() if k != "id"}
                    # zarrc writes; chunks are numcodecs' bytes
                    zp = os.path.join(WORK, "zc_%d" % n)
                    spec = [{"name": "numcodecs.zfpy", "configuration": cfg}] if fmt == 3 else \
                        [dict(cfg, id="zfpy")]
                    cr = zarrc("create", zp, "--format", str(fmt), "--dtype", dt, "--shape",
                               ",".join(map(str, shape)), "--chunks", ",".join(map(str, chunk)),
                               "--codecs", json.dumps(spec))
                    if not check(cr.returncode == 0, "zarrc create %s: %s" % (what, cr.stderr.decode())):
                        continue
                    p = zarrc("put", zp, "--raw", "-", stdin=d.tobytes())
                    if not check(p.returncode == 0, "zarrc put %s: %s" % (what, p.stderr.decode())):
                        continue
                    files = chunk_files(zp)
                    check(len(files) == int(np.prod([s // c for s, c in zip(shape, chunk)])),
                          "%s: %d chunks written" % (what, len(files)))
                    for k, b in files.items():
                        c = chunk_of(d, chunk, key_index(k, fmt))
                        # numcodecs 0.17.1's Zfpy cannot encode mode 5 (no compression_kwargs):
                        # what it would call is zfpy.compress_numpy without parameters
                        want = codec.encode(c) if m["mode"] != 5 else zfpy.compress_numpy(c, write_header=True)
                        check(b == bytes(want), "%s chunk %s: zarrc's bytes differ from numcodecs' Zfpy "
                              "(%d vs %d bytes)" % (what, k, len(b), len(want)))
                    if fmt == 2:
                        meta = json.load(open(os.path.join(zp, ".zarray")))
                        check(meta["compressor"] and meta["compressor"]["id"] == "zfpy" and not meta["filters"],
                              "%s: v2 spells zfpy as the compressor: %s" % (what, meta))
                    # zarr-python reads zarrc's array exactly as zarrc does
                    g = zarrc("get", zp, "--raw")
                    mine = np.frombuffer(g.stdout, dt).reshape(shape) if g.returncode == 0 else None
                    theirs = zarr.open_array(zp, mode="r")[...]
                    check(mine is not None and np.array_equal(mine, theirs),
                          "%s: zarr-python reads zarrc's array differently" % what)
                    if m.get("mode") == 5 or (m.get("mode") == 4 and "tolerance" not in m):
                        check(np.array_equal(theirs, d), "%s: reversible is not exact" % what)
                    elif "tolerance" in m:
                        check(float(np.max(np.abs(theirs.astype("f8") - d))) <= m["tolerance"],
                              "%s: error above the tolerance" % what)
                    if m["mode"] == 5:
                        continue  # numcodecs 0.17.1's Zfpy(mode=5).encode raises AttributeError
                    # zarr-python writes (edge chunks included: one more element per dimension)
                    big = tuple(s + 1 for s in shape)
                    d2 = data(dt, big, n + 1000)
                    zq = os.path.join(WORK, "zp_%d" % n)
                    if fmt == 3:
                        a = zarr.create_array(zq, shape=big, chunks=chunk, dtype=dt, zarr_format=3,
                                              serializer=zarr.codecs.numcodecs.ZFPY(**m), compressors=None,
                                              fill_value=0)
                    else:
                        a = zarr.create_array(zq, shape=big, chunks=chunk, dtype=dt, zarr_format=2,
                                              compressors=codec, fill_value=0)
                    a[...] = d2
                    g = zarrc("get", zq, "--raw")
                    if not check(g.returncode == 0, "zarrc reads zarr-python's %s: %s" % (what, g.stderr.decode())):
                        continue
                    check(np.array_equal(np.frombuffer(g.stdout, dt).reshape(big), a[...]),
                          "%s: zarrc reads zarr-python's array differently" % what)
    # a chunk whose zfp header names another shape is refused, not misread
    zp = os.path.join(WORK, "wrong_shape")
    zarrc("create", zp, "--dtype", "float64", "--shape", "8", "--chunks", "8", "--codecs",
          json.dumps([{"name": "numcodecs.zfpy", "configuration": {"mode": 5}}]))
    os.makedirs(os.path.join(zp, "c"), exist_ok=True)
    with open(os.path.join(zp, "c", "0"), "wb") as f:
        f.write(zfpy.compress_numpy(np.arange(6, dtype="f8"), write_header=True))
    g = zarrc("get", zp, "--raw")
    check(g.returncode != 0 and b"zfp header" in g.stderr, "wrong-shape zfpy chunk: %r" % g.stderr)
    print("zfpy: %d cases (zarr-python %s, numcodecs %s)" % (n, zarr.__version__, numcodecs.__version__))
    print("%d passed, %d failed" % (CHECKS - len(FAILURES), len(FAILURES)))
    if not FAILURES:
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
