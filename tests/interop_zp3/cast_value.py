#!/usr/bin/env python3
"""cast_value (zarr-extensions) both ways with zarr-python 3.4.2 (zarr.codecs.CastValue, backed by
cast-value-rs 0.5.1): for each case zarr-python writes an array through cast_value and zarrc reads
it (bit for bit against zarr-python's own read); zarrc writes the same data and zarr-python reads
it; the stored chunks of both are compared byte for byte (the encode side: rounding, out_of_range,
scalar_map). Cases: float64/float32 sources into int8/int16/uint8/int32/float16 targets, every
rounding mode, out_of_range absent/clamp/wrap, scalar_map on encode and decode.
Disagreements are printed with the element and both results.

usage: cast_value.py ZARRC WORKDIR"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import zarr
from zarr.codecs import CastValue

ZARRC, WORK = sys.argv[1], sys.argv[2]
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


TIES = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -3.51, 7.0, -7.0, 0.0, -0.0]
# (source dtype, configuration, data, fill)
CASES = [
    ("float64", {"data_type": "int16"}, TIES + [100.25, -100.75], 0.0),
    ("float64", {"data_type": "int16", "rounding": "towards-zero"}, TIES + [100.9, -100.9], 0.0),
    ("float64", {"data_type": "int16", "rounding": "towards-positive"}, TIES + [100.1, -100.1], 0.0),
    ("float64", {"data_type": "int16", "rounding": "towards-negative"}, TIES + [100.1, -100.1], 0.0),
    ("float64", {"data_type": "int16", "rounding": "nearest-away"}, TIES + [100.5, -100.5], 0.0),
    ("float64", {"data_type": "int8", "out_of_range": "clamp"}, TIES + [300.0, -300.0, 127.6, -128.6], 0.0),
    ("float32", {"data_type": "uint8", "out_of_range": "wrap", "rounding": "towards-zero"},
     [0.0, 1.9, 255.0, 256.0, 300.7, 511.0, 1000.0, 65.5], 0.0),
    ("float64", {"data_type": "int8", "out_of_range": "clamp",
                 "scalar_map": {"encode": [["NaN", -128]], "decode": [[-128, "NaN"]]}},
     [1.0, float("nan"), -2.5, 1000.0, -1000.0, float("nan"), 5.5, 0.0], 0.0),
    ("float64", {"data_type": "float16"}, [1.0, 1e-8, 65504.0, 0.1, -0.3, 3.14159, float("inf"), float("nan")], 0.0),
    ("float64", {"data_type": "float16", "rounding": "towards-zero", "out_of_range": "clamp"},
     [1.0, 1e6, -1e6, 0.1, -0.3, 3.14159, 65519.0, 2.0 ** -25], 0.0),
    ("float32", {"data_type": "int32", "rounding": "nearest-even"}, [0.5, 1.5, 2.5, 1e9, -1e9, 16777216.0], 0.0),
    ("int32", {"data_type": "int8", "out_of_range": "wrap"}, [0, 127, 128, 255, 256, -129, 1000, -1000], 0),
    ("int64", {"data_type": "uint8", "out_of_range": "clamp"}, [0, -5, 255, 256, 100, -1000, 7, 1 << 40], 0),
]


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    for i, (dt, cfg, vals, fill) in enumerate(CASES):
        what = "%s -> %s" % (dt, json.dumps(cfg))
        d = np.array(vals, dtype=dt)
        n = len(d)
        # zarr-python writes, zarrc reads
        p = os.path.join(WORK, "zp_%d" % i)
        try:
            a = zarr.create_array(p, shape=(n,), chunks=(4,), dtype=dt, filters=[CastValue(**cfg)],
                                  compressors=None, fill_value=fill)
            a[:] = d
            want = a[:].tobytes()
        except Exception as e:  # zarr-python refuses the case: record it, zarrc must still be sane
            check(False, "zarr-python writes %s: %s: %s" % (what, type(e).__name__, e))
            continue
        g = zarrc("get", p, "--raw")
        if check(g.returncode == 0, "zarrc reads zarr-python's %s: %s" % (what, g.stderr.decode().strip())):
            got = np.frombuffer(g.stdout, dtype=dt)
            check(g.stdout == want, "zarrc reads zarr-python's %s: zarrc %s, zarr-python %s"
                  % (what, got.tolist(), np.frombuffer(want, dtype=dt).tolist()))
        # zarrc writes, zarr-python reads; stored chunks compared
        q = os.path.join(WORK, "zc_%d" % i)
        codecs = [{"name": "cast_value", "configuration": cfg}, {"name": "bytes", "configuration": {"endian": "little"}}]
        cr = zarrc("create", q, "--dtype", dt, "--shape", str(n), "--chunks", "4", "--fill-value", json.dumps(fill),
                   "--codecs", json.dumps(codecs))
        pu = zarrc("put", q, "--raw", "-", stdin=d.tobytes())
        ok = check(cr.returncode == 0 and pu.returncode == 0,
                   "zarrc writes %s: %s %s" % (what, cr.stderr.decode().strip(), pu.stderr.decode().strip()))
        if not ok:
            continue
        b = zarr.open_array(q, mode="r")[:]
        check(b.tobytes() == want, "zarr-python reads zarrc's %s: %s vs %s" % (what, b.tolist(),
                                                                              np.frombuffer(want, dtype=dt).tolist()))
        for k in range((n + 3) // 4):
            with open(os.path.join(p, "c", str(k)), "rb") as f1, open(os.path.join(q, "c", str(k)), "rb") as f2:
                x, y = f1.read(), f2.read()
                tdt = np.dtype(cfg["data_type"])
                check(x == y, "%s: chunk %d encodes differently: zarr-python %s, zarrc %s"
                      % (what, k, np.frombuffer(x, tdt).tolist(), np.frombuffer(y, tdt).tolist()))
    # out of range without out_of_range: both refuse to write
    r = os.path.join(WORK, "oor")
    cfg = {"data_type": "int8"}
    a = zarr.create_array(r, shape=(2,), chunks=(2,), dtype="float64", filters=[CastValue(**cfg)],
                          compressors=None, fill_value=0.0)
    try:
        a[:] = np.array([1.0, 1000.0])
        zp_refuses = False
    except Exception as e:
        zp_refuses = True
        print("zarr-python refuses an out-of-range value without out_of_range: %s: %s" % (type(e).__name__, e))
    check(zp_refuses, "zarr-python refuses 1000.0 -> int8 without out_of_range")
    pu = zarrc("put", r, "--json", "-", stdin=b"[1.0, 1000.0]")
    check(pu.returncode == 1, "zarrc refuses 1000.0 -> int8 without out_of_range: %s" % pu.stderr.decode())
    print("peer: zarr-python %s (cast_value)" % zarr.__version__)
    print("%d passed, %d failed" % (CHECKS - len(FAILURES), len(FAILURES)))
    if not FAILURES:
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
