#!/usr/bin/env python3
"""The metadata `zarrc verify` calls peer_incompatible is what real peers refuse, and what it
passes they open: run by the pinned peer venv (tensorstore 0.1.86, zarr-python 3.4.2).

usage: verify_peers.py ZARRC TMPDIR
For each case zarrc writes an array, the test edits its metadata, then checks (1) zarrc verify's
verdict (exit status and the problem kind) and (2) that tensorstore refuses exactly the flagged
documents (and zarr-python 3 the v3 fill_value null), and opens the unflagged ones."""
import json
import os
import shutil
import subprocess
import sys

import tensorstore as ts
import zarr

ZARRC, TMP = sys.argv[1], sys.argv[2]
FAILURES, CHECKS = [], 0


def check(cond, msg):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, flush=True)


def zarrc(*args):
    return subprocess.run([ZARRC, *map(str, args)], capture_output=True, text=True, timeout=60)


def edit(path, fn):
    with open(path) as f:
        m = json.load(f)
    fn(m)
    with open(path, "w") as f:
        json.dump(m, f)


def ts_opens(path, driver):
    try:
        ts.open({"driver": driver, "kvstore": {"driver": "file", "path": path}}).result().read().result()
        return True, ""
    except Exception as e:  # tensorstore raises ValueError with its status text
        return False, str(e)


def zp_opens(path):
    try:
        zarr.open_array(path, mode="r")[...]
        return True, ""
    except Exception as e:
        return False, f"{type(e).__name__}: {e}"


shutil.rmtree(TMP, ignore_errors=True)
os.makedirs(TMP)
cases = [
    # name, format, create args, metadata edit, flagged?
    ("zstd_checksum", 2, ["--compressor", '{"id": "zstd", "level": 1}'],
     lambda m: m["compressor"].__setitem__("checksum", False), True),
    ("zstd_plain", 2, ["--compressor", '{"id": "zstd", "level": 1}'], lambda m: None, False),
    ("fill_null", 3, [], lambda m: m.__setitem__("fill_value", None), True),
    ("fill_nan", 3, [], lambda m: m.__setitem__("fill_value", "NaN"), False),
]
for name, fmt, extra, fn, flagged in cases:
    node = os.path.join(TMP, name)
    p = zarrc("create", node, "--format", fmt, "--dtype", "float32", "--shape", "4", "--chunks", "2", *extra)
    check(p.returncode == 0, f"{name}: create: {p.stderr}")
    zarrc("put", node, "--value", "1.5")
    edit(os.path.join(node, ".zarray" if fmt == 2 else "zarr.json"), fn)
    p = zarrc("verify", node, "--json")
    rep = json.loads(p.stdout) if p.stdout else {}
    kinds = [q["kind"] for q in rep.get("problems", [])]
    check(p.returncode == (1 if flagged else 0) and kinds == (["peer_incompatible"] if flagged else []),
          f"{name}: zarrc verify exit {p.returncode}, problems {kinds}")
    ok, why = ts_opens(node, "zarr" if fmt == 2 else "zarr3")
    check(ok != flagged, f"{name}: tensorstore {'opened' if ok else 'refused'} it ({why[:160]})")
    if fmt == 3:
        ok, why = zp_opens(node)
        check(ok != flagged, f"{name}: zarr-python {zarr.__version__} {'opened' if ok else 'refused'} it ({why[:160]})")
    print(f"{name}: verify {'flags' if flagged else 'passes'} it; tensorstore agrees", flush=True)
print(f"{CHECKS} checks, {len(FAILURES)} failures")
if not FAILURES:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if FAILURES else 0)
