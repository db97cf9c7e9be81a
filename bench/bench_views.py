"""bench/bench_views.py — reading a concatenation of 12 arrays (a view) vs one array holding the
same data (zarrc), and vs tensorstore's stack driver on the same spec JSON, in one run.

    PEER_PYTHON bench/bench_views.py BENCH_VIEWS_BINARY SCRATCH [--runs N] [--threads N] [--days D]

The data: 12 "month" arrays of 28..31 days x 256 x 256 float32 (zarr v3, zstd level 1, chunks
of D days, default 1; 95.7 MB decoded in all), and one array of 365 x 256 x 256 with the same
values and chunks. With D > 1 the months' last chunks are partial, so the view decodes more
chunks than the single array (up to 12 more): D = 1 compares equal work. The view is the spec tensorstore's ts.concat emits (absolute paths, explicit domains).
Reads: "whole" = everything into one buffer; "chunks" = slabs of D days along time into a
reused buffer (for the single array those are its chunks; for the view they may straddle
months); "layer chunks" = slabs of D days restarting at each month (the layers' chunks).
Medians of N runs (default 5) after one warm-up read (page cache warm). Prints a markdown table.
Targets (issue 12): view >= 0.95 x single array (zarrc); zarrc view >= 1.5 x tensorstore's stack.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import tensorstore as ts

args = sys.argv[1:]
if len(args) < 2:
    print(__doc__)
    sys.exit(2)
BIN, SCRATCH = args[0], os.path.abspath(args[1])
RUNS = int(args[args.index("--runs") + 1]) if "--runs" in args else 5
THREADS = int(args[args.index("--threads") + 1]) if "--threads" in args else os.cpu_count()
os.environ["ZARRC_NUM_THREADS"] = str(THREADS)
MONTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
H = W = 256
T = int(args[args.index("--days") + 1]) if "--days" in args else 1
ctx = ts.Context({"data_copy_concurrency": {"limit": THREADS}, "file_io_concurrency": {"limit": THREADS}})


def create(path, n):
    return ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path},
                    "metadata": {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [T, H, W]}},
                                 "codecs": [{"name": "bytes"}, {"name": "zstd", "configuration": {"level": 1}}]}},
                   create=True, delete_existing=True, dtype=ts.float32, shape=[n, H, W], context=ctx).result()


os.makedirs(SCRATCH, exist_ok=True)
rng = np.random.default_rng(1)
full = (rng.standard_normal([sum(MONTHS), H, W]) * 10).round(1).astype("float32")
one = create(os.path.join(SCRATCH, "year"), sum(MONTHS))
one[...] = full
layers, pos = [], 0
for i, n in enumerate(MONTHS):
    m = create(os.path.join(SCRATCH, "m%02d" % i), n)
    m[...] = full[pos:pos + n]
    pos += n
    layers.append(ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": os.path.join(SCRATCH, "m%02d" % i)}},
                          context=ctx).result())
view = ts.concat(layers, axis=0)
spec = view.spec().to_json()
# Explicit layer domains (what `zarrc view concat` writes): open without layer I/O on both sides.
for l in spec["layers"]:
    t = l["transform"]
    t["input_exclusive_max"] = [b[0] if isinstance(b, list) else b for b in t["input_exclusive_max"]]
SPEC = os.path.join(SCRATCH, "year_view.json")
with open(SPEC, "w") as f:
    json.dump(spec, f)
assert np.array_equal(ts.open(spec, context=ctx).result().read().result(), full)


SEGS = "%d@%s" % (T, ",".join(map(str, MONTHS)))


def zarrc(kind, what, mode):
    win = SEGS if mode == "layer chunks" else str(T)
    out = subprocess.run([BIN, SCRATCH, kind, what, "whole" if mode == "whole" else "chunks", win, str(RUNS)],
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit("bench_views failed: " + out.stderr)
    return json.loads(out.stdout)["seconds"]


def windows(mode):
    out, base = [], 0
    for n in (MONTHS if mode == "layer chunks" else [sum(MONTHS)]):
        out += [(s, min(s + T, base + n)) for s in range(base, base + n, T)]
        base += n
    return out


def tensorstore(mode):
    st = ts.open(spec, context=ctx).result()
    buf = np.empty(full.shape, "float32")
    times = []
    for r in range(RUNS + 1):
        t0 = time.perf_counter()
        if mode == "whole":
            buf[...] = st.read().result()
        else:
            for a, b in windows(mode):
                x = st[a:b].read().result()
        times.append(time.perf_counter() - t0)
    return sorted(times[1:])[RUNS // 2]


MB = full.nbytes / 1e6
rows = []
for mode in ("whole", "chunks", "layer chunks"):
    arr = zarrc("array", "year", "chunks" if mode == "layer chunks" else mode)
    vz = zarrc("view", SPEC, mode)
    tsv = tensorstore(mode)
    rows.append((mode, arr, vz, tsv))
print("| read | zarrc single array MB/s | zarrc view MB/s | tensorstore stack MB/s | view / array | zarrc / tensorstore |")
print("|---|---:|---:|---:|---:|---:|")
for mode, arr, vz, tsv in rows:
    print("| %s | %.0f | %.0f | %.0f | %.2fx | %.2fx |" % (mode, MB / arr, MB / vz, MB / tsv, arr / vz, tsv / vz))
print("\n%d runs (medians), %d threads, %.1f MB decoded (tensorstore 0.1.86)" % (RUNS, THREADS, MB))
print("chunks = slabs of %d days over the year; layer chunks = slabs of %d days restarting at each month "
      "(the layers' chunks; the single array is still read by its own chunks)" % (T, T))
