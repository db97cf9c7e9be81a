"""Resize and append cost as the number of declared chunks grows: zarrc vs zarr-python 3.4.

usage: <peer venv python> bench/bench_extend.py ZARRC [WORKDIR]

For N = 10^3 .. 10^6 declared chunks (a 2-d int32 array with chunks [1, 1000]... arranged so
the grid has N chunks) with 100 chunks stored:
  - shrink to half along axis 0, then grow back (resize), and
  - append one row along axis 0,
by zarrc (the CLI, so each number includes starting a process, ~2 ms) and by zarr-python 3.4
(`Array.resize`, `Array.append`) on the same machine in the same run. Not a timed test: it prints
milliseconds and the ratio zarr-python / zarrc. The same array layout is written for both, each
side on its own copy.
"""
import os
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np
import zarr

warnings.simplefilter("ignore")
ZARRC = sys.argv[1]
WORK = sys.argv[2] if len(sys.argv) > 2 else "/tmp/zarrc-bench-extend"
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "120"))


def ms(f):
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1e3


def make(path, nchunks):
    shutil.rmtree(path, ignore_errors=True)
    rows = nchunks // 10
    a = zarr.create_array(path, shape=(rows, 10 * 4), chunks=(1, 4), dtype="int32", fill_value=0,
                          compressors=None)
    rng = np.random.default_rng(1)
    for r in rng.choice(rows, 100, replace=False):
        a[int(r), 0:4] = 7
    return rows


def main():
    os.makedirs(WORK, exist_ok=True)
    print("| declared chunks | op | zarrc ms | zarr-python 3.4 ms | zarr-python / zarrc |")
    print("|---:|---|---:|---:|---:|")
    for n in (10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6):
        pz, pp = os.path.join(WORK, "z%d" % n), os.path.join(WORK, "p%d" % n)
        rows = make(pz, n)
        shutil.rmtree(pp, ignore_errors=True)
        shutil.copytree(pz, pp)
        half = "%d,40" % (rows // 2)
        tz = ms(lambda: subprocess.run([ZARRC, "resize", pz, "--shape", half], check=True))
        tz += ms(lambda: subprocess.run([ZARRC, "resize", pz, "--shape", "%d,40" % rows], check=True))
        a = zarr.open_array(pp, mode="r+")
        t0 = time.perf_counter()
        a.resize((rows // 2, 40))
        a.resize((rows, 40))
        tp = (time.perf_counter() - t0) * 1e3
        print("| %d | shrink to half + grow back | %.1f | %.1f | %.1fx |" % (n, tz, tp, tp / tz), flush=True)
        row = b"[[" + b",".join(b"1" for _ in range(40)) + b"]]"
        tz = ms(lambda: subprocess.run([ZARRC, "append", pz, "--axis", "0", "--json", "-"], input=row, check=True))
        a = zarr.open_array(pp, mode="r+")
        tp = ms(lambda: a.append(np.ones((1, 40), dtype="int32"), axis=0))
        print("| %d | append one row | %.1f | %.1f | %.1fx |" % (n, tz, tp, tp / tz), flush=True)
        # both sides agree afterwards
        same = np.array_equal(zarr.open_array(pz, mode="r")[...], zarr.open_array(pp, mode="r")[...])
        print("|  | contents equal afterwards | %s |  |  |" % same, flush=True)
        shutil.rmtree(pz, ignore_errors=True)
        shutil.rmtree(pp, ignore_errors=True)


main()
