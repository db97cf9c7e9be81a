#!/usr/bin/env python3
"""scale_offset (zarr-extensions) both ways with zarr-python 3.4: zarr-python writes, zarrc
reads bit for bit; zarrc writes, zarr-python reads bit for bit; plus zarrc's refusals (a stored
integer that is not a multiple of the scale, results out of range, scale 0).

usage: scale_offset.py ZARRC WORKDIR"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import zarr
from zarr.codecs.scale_offset import ScaleOffset

ZARRC, WORK = sys.argv[1], sys.argv[2]
CHECKS, FAILURES = 0, []


def check(cond, msg):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, flush=True)


def zarrc(*args, stdin=None):
    return subprocess.run([ZARRC] + list(args), input=stdin, capture_output=True)


CASES = [("float64", {"offset": -10, "scale": 0.1}, -10.0), ("float32", {"offset": 1.5, "scale": 3}, 1.5),
         ("float16", {"offset": 0.25, "scale": 10}, 0.25), ("int32", {"offset": -7, "scale": 3}, -7),
         ("uint16", {"offset": 5, "scale": 2}, 5), ("int64", {}, 0), ("int8", {"offset": 3, "scale": -2}, 3),
         ("float64", {"scale": 4}, 0.0)]


def data(i, dt):
    rng = np.random.default_rng(i)
    if dt.startswith("float"):
        d = rng.uniform(-50, 50, 20).astype(dt)
        d[3] = np.nan
        return d
    if dt == "uint16":
        return rng.integers(5, 1000, 20).astype(dt)
    if dt == "int8":
        return rng.integers(-25, 30, 20).astype(dt)
    return rng.integers(-1000, 1000, 20).astype(dt)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    for i, (dt, cfg, fill) in enumerate(CASES):
        what = "%s %s" % (dt, cfg)
        d = data(i, dt)
        # zarr-python writes, zarrc reads
        p = os.path.join(WORK, "zp_%d" % i)
        a = zarr.create_array(p, shape=(20,), chunks=(8,), dtype=dt, filters=[ScaleOffset(**cfg)],
                              compressors=None, fill_value=fill)
        a[:] = d
        want = a[:].tobytes()
        g = zarrc("get", p, "--raw")
        check(g.returncode == 0 and g.stdout == want, "zarrc reads zarr-python's %s: %s" % (what, g.stderr.decode()))
        # zarrc writes, zarr-python reads
        q = os.path.join(WORK, "zc_%d" % i)
        codecs = [{"name": "scale_offset", "configuration": cfg}, {"name": "bytes", "configuration": {"endian": "little"}}]
        cr = zarrc("create", q, "--dtype", dt, "--shape", "20", "--chunks", "8", "--fill-value", json.dumps(fill),
                   "--codecs", json.dumps(codecs))
        pu = zarrc("put", q, "--raw", "-", stdin=d.tobytes())
        ok = cr.returncode == 0 and pu.returncode == 0
        check(ok, "zarrc writes %s: %s %s" % (what, cr.stderr.decode(), pu.stderr.decode()))
        if ok:
            b = zarr.open_array(q, mode="r")[:]
            check(b.tobytes() == want, "zarr-python reads zarrc's %s: %s vs %s" % (what, b[:4], d[:4]))
            # the stored chunks are the same bytes zarr-python stores
            for k in ("0", "1", "2"):
                with open(os.path.join(p, "c", k), "rb") as f1, open(os.path.join(q, "c", k), "rb") as f2:
                    check(f1.read() == f2.read(), "%s: chunk %s differs from zarr-python's" % (what, k))
    # refusals
    r = os.path.join(WORK, "bad")
    codecs = [{"name": "scale_offset", "configuration": {"scale": 3}}, "bytes"]
    zarrc("create", r, "--dtype", "int16", "--shape", "4", "--chunks", "4", "--codecs", json.dumps(codecs))
    os.makedirs(os.path.join(r, "c"), exist_ok=True)
    with open(os.path.join(r, "c", "0"), "wb") as f:
        f.write(np.array([3, 6, 7, 9], "<i2").tobytes())
    g = zarrc("get", r)
    check(g.returncode == 1 and b"not a multiple of the scale" in g.stderr, "non-multiple refused: %s" % g.stderr)
    pu = zarrc("put", r, "--json", "-", stdin=b"[20000, 0, 0, 0]")
    check(pu.returncode == 1 and b"outside the range of int16" in pu.stderr, "overflow refused: %s" % pu.stderr)
    cr = zarrc("create", r + "0", "--dtype", "float32", "--shape", "4", "--chunks", "4", "--codecs",
               json.dumps([{"name": "scale_offset", "configuration": {"scale": 0}}, "bytes"]))
    check(cr.returncode == 1 and b"must not be 0" in cr.stderr, "scale 0 refused: %s" % cr.stderr)
    print("peer: zarr-python %s (scale_offset)" % zarr.__version__)
    print("%d passed, %d failed" % (CHECKS - len(FAILURES), len(FAILURES)))
    if not FAILURES:
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
