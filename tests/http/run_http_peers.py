"""Peers read zarrc's arrays over HTTP from nginx (127.0.0.1, started and stopped here):
tensorstore 0.1.86's http kvstore (zarr3 and zarr drivers) and zarrita 0.7.5's FetchStore
(@zarrita/storage, under node, with suffix range requests), element by element.

usage: run_http_peers.py ZARRC TMPDIR   (run by the peer venv's python: tensorstore, numpy)

Arrays: v3 (zstd), v3 sharded (index at the end, read through suffix ranges), v2 (blosc), an
array with a partial edge chunk and a missing chunk (fill value). Exit 1 on any failed check.
"""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nginx  # noqa: E402

ZARRC, TMP = sys.argv[1:3]
shutil.rmtree(TMP, ignore_errors=True)
ROOT = os.path.join(TMP, "www")
os.makedirs(ROOT)
CHECKS, FAILS = 0, []
t0 = time.time()


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, flush=True)


def zarrc(*args, stdin=None):
    return subprocess.run([ZARRC] + list(args), input=stdin, capture_output=True, text=True, timeout=120)


import numpy as np  # noqa: E402
import tensorstore as ts  # noqa: E402

data = (np.arange(9 * 11, dtype="int32").reshape(9, 11) * 13 - 400)
sharding = json.dumps([{"name": "sharding_indexed", "configuration": {
    "chunk_shape": [3, 4], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                      {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
    "index_location": "end"}}])
cases = [("v3", 3, ["--chunks", "4,5"]), ("sharded", 3, ["--chunks", "6,8", "--codecs", sharding]),
         ("v2", 2, ["--format", "2", "--chunks", "4,5"])]
for name, fmt, opts in cases:
    p = os.path.join(ROOT, name)
    r = zarrc("create", p, "--dtype", "int32", "--shape", "9,11", *opts)
    r2 = zarrc("put", p, "--json", "-", stdin=json.dumps(data.tolist()))
    check(r.returncode == 0 and r2.returncode == 0, "setup %s: %s %s" % (name, r.stderr, r2.stderr))
# a missing chunk reads as the fill value
sparse = np.full((9, 11), 7, dtype="int32")
sparse[0:4, 0:5] = data[0:4, 0:5]
p = os.path.join(ROOT, "sparse")
r = zarrc("create", p, "--dtype", "int32", "--shape", "9,11", "--chunks", "4,5", "--fill-value", "7")
r2 = zarrc("put", p, "--select", "0:4,0:5", "--json", "-", stdin=json.dumps(data[0:4, 0:5].tolist()))
check(r.returncode == 0 and r2.returncode == 0, "setup sparse: %s %s" % (r.stderr, r2.stderr))
cases.append(("sparse", 3, []))
want = {"v3": data, "sharded": data, "v2": data, "sparse": sparse}

base, stop = nginx.start(ROOT, os.path.join(TMP, "nginx"))
try:
    # ---- tensorstore's http kvstore ----
    for name, fmt, _ in cases:
        spec = {"driver": "zarr3" if fmt == 3 else "zarr",
                "kvstore": {"driver": "http", "base_url": "%s/%s/" % (base, name)}}
        try:
            a = ts.open(spec, read=True).result()
            whole = a.read().result()
            check(np.array_equal(whole, want[name]), "tensorstore http reads zarrc's %s array whole" % name)
            got = np.array([[int(a[i, j].read().result()) for j in range(11)] for i in range(9)])
            check(np.array_equal(got, want[name]), "tensorstore http reads zarrc's %s element by element" % name)
        except Exception as e:
            check(False, "tensorstore http reading %s: %r" % (name, e))
    # ---- zarrita's FetchStore ----
    out = os.path.join(TMP, "zarrita.json")
    env = dict(os.environ, ZARRC_PEERS_DIR=os.path.join(HERE, "..", "peers"))
    r = subprocess.run(["node", os.path.join(HERE, "zarrita_fetch.mjs"), base, out] + [c[0] for c in cases],
                       capture_output=True, text=True, timeout=120, env=env)
    check(r.returncode == 0, "node zarrita_fetch.mjs exited %d: %s (run make check: npm install --prefix "
          "tests/peers)" % (r.returncode, r.stderr[-2000:]))
    res = json.load(open(out)) if r.returncode == 0 else {}
    for name, _, _ in cases:
        got = res.get(name, {"error": "no result"})
        if "error" in got:
            check(False, "zarrita FetchStore reading %s: %s" % (name, got["error"][:500]))
            continue
        check(got["shape"] == [9, 11] and got["whole"] == want[name].ravel().tolist(),
              "zarrita FetchStore reads zarrc's %s array whole" % name)
        check(got["elements"] == want[name].ravel().tolist(),
              "zarrita FetchStore reads zarrc's %s element by element" % name)
finally:
    stop()
print("http peers: %d checks, %d failed, %.1f s" % (CHECKS, len(FAILS), time.time() - t0))
sys.exit(1 if FAILS else 0)
