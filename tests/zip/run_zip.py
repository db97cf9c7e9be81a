"""zip store: exchange with zarr-python 3.4's ZipStore both ways, and what a damaged archive gives.

usage: run_zip.py ZARRC TMPDIR
"""
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
import zipfile

import numpy as np
import zarr
import zarr.storage

warnings.simplefilter("ignore")
ZARRC, TMP = sys.argv[1:3]
shutil.rmtree(TMP, ignore_errors=True)
os.makedirs(TMP)
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


def zget(url, *extra):
    r = zarrc("get", url, "--json", *extra)
    return np.array(json.loads(r.stdout)["data"]) if r.returncode == 0 else r.stderr


data = np.arange(12 * 10, dtype="int32").reshape(12, 10) * 3 - 50
sharding = json.dumps([{"name": "sharding_indexed", "configuration": {
    "chunk_shape": [3, 5], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}])

# ---- zarrc writes, zarr-python's ZipStore reads ----
for name, opts in (("v3", ["--chunks", "5,4"]), ("sharded", ["--chunks", "6,10", "--codecs", sharding]),
                   ("v2", ["--format", "2", "--chunks", "5,4"])):
    path = os.path.join(TMP, "zc-%s.zip" % name)
    r = zarrc("create", path, "--dtype", "int32", "--shape", "12,10", *opts)
    check(r.returncode == 0, "zarrc create %s: %s" % (name, r.stderr))
    r = zarrc("put", path, "--json", "-", stdin=json.dumps(data.tolist()))
    check(r.returncode == 0, "zarrc put %s: %s" % (name, r.stderr))
    check(zipfile.ZipFile(path).testzip() is None, "Python's zipfile checks zarrc's %s archive" % name)
    s = zarr.storage.ZipStore(path, mode="r")
    a = zarr.open_array(s, mode="r")
    check(np.array_equal(a[:], data), "zarr-python's ZipStore reads zarrc's %s array" % name)
    check([int(a[i, j]) for i in range(12) for j in range(10)] == data.ravel().tolist(),
          "zarr-python's ZipStore reads zarrc's %s array element by element" % name)
    s.close()
    # Rewrite a region: the archive gets new entries for the rewritten chunks; the last wins.
    r = zarrc("put", path, "--select", "2:4,1:3", "--json", "-", stdin="[[7,7],[7,7]]")
    want = data.copy()
    want[2:4, 1:3] = 7
    s = zarr.storage.ZipStore(path, mode="r")
    check(r.returncode == 0 and np.array_equal(zarr.open_array(s, mode="r")[:], want),
          "rewritten %s chunks: the last entry wins for zarr-python: %s" % (name, r.stderr))
    s.close()
    got = zget(path)
    check(isinstance(got, np.ndarray) and np.array_equal(got.reshape(12, 10), want),
          "zarrc reads its rewritten %s archive: %s" % (name, got if isinstance(got, str) else ""))
check(not [f for f in os.listdir(TMP) if "zarrc-tmp" in f], "no temporary files left: %s" % os.listdir(TMP))

# ---- zarr-python writes, zarrc reads ----
cases = {
    "zp-v3": dict(chunks=(5, 4), zarr_format=3),
    "zp-sharded": dict(chunks=(3, 5), shards=(6, 10), zarr_format=3),
    "zp-v2": dict(chunks=(5, 4), zarr_format=2),
}
for name, kw in cases.items():
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = os.path.join(TMP, "%s-%d.zip" % (name, compression))
        s = zarr.storage.ZipStore(path, mode="w", compression=compression)
        zarr.create_array(s, shape=(12, 10), dtype="int32", **kw)[:] = data
        s.close()
        got = zget(path)
        check(isinstance(got, np.ndarray) and np.array_equal(got.reshape(12, 10), data),
              "zarrc reads zarr-python's %s (%s) array: %s" % (name, "deflate" if compression else "stored",
                                                               got if isinstance(got, str) else ""))
        got = zget("zip:" + path, "--select", "7,1::3")
        check(isinstance(got, np.ndarray) and got.tolist() == data[7, 1::3].tolist(),
              "zarrc reads a selection of zarr-python's %s via zip:PATH: %s" % (name, got))
path = os.path.join(TMP, "zp-group.zip")
s = zarr.storage.ZipStore(path, mode="w")
g = zarr.open_group(s, mode="w")
g.create_group("sub")
g.create_array("arr", shape=(3,), dtype="int8")[:] = [1, 2, 3]
s.close()
r = zarrc("tree", path)
check(r.returncode == 0 and "sub" in r.stdout and "arr" in r.stdout, "zarrc tree of zarr-python's group: %s %s"
      % (r.stdout, r.stderr))

# ---- nodes inside an archive: PATH.zip/NODE and zip:PATH/NODE ----
path = os.path.join(TMP, "zp-nested.zip")
s = zarr.storage.ZipStore(path, mode="w")
g = zarr.open_group(s, mode="w")
sub = g.create_group("g").create_group("sub")
sub.create_array("arr", shape=(12, 10), chunks=(5, 4), dtype="int32")[:] = data
sub.create_array("sharded", shape=(12, 10), chunks=(3, 5), shards=(6, 10), dtype="int32")[:] = data
s.close()
s2 = zarr.storage.ZipStore(os.path.join(TMP, "zp-nested-v2.zip"), mode="w")
zarr.open_group(s2, mode="w", zarr_format=2).create_group("h").create_array(
    "v2", shape=(12, 10), chunks=(5, 4), dtype="int32")[:] = data
s2.close()
for url in (path + "/g/sub/arr", "zip:" + path + "/g/sub/sharded", "zip:" + path + "/g/sub/arr/",
            os.path.join(TMP, "zp-nested-v2.zip") + "/h/v2"):
    got = zget(url)
    check(isinstance(got, np.ndarray) and np.array_equal(got.reshape(12, 10), data),
          "zarrc get of zarr-python's node %s inside a zip: %s" % (url, got if isinstance(got, str) else ""))
    got = zget(url, "--select", "7,1::3")
    check(isinstance(got, np.ndarray) and got.tolist() == data[7, 1::3].tolist(),
          "zarrc get --select of %s: %s" % (url, got))
r = zarrc("ls", path + "/g/sub")
check(r.returncode == 0 and "arr" in r.stdout and "sharded" in r.stdout and "zarr.json" not in r.stdout,
      "zarrc ls of a group inside a zip: %s %s" % (r.stdout, r.stderr))
r = zarrc("ls", "zip:" + path + "/g")
check(r.returncode == 0 and r.stdout.split() and r.stdout.split()[0] == "sub",
      "zarrc ls zip:PATH/g: %s %s" % (r.stdout, r.stderr))
r = zarrc("info", path + "/g/sub/sharded")
check(r.returncode == 0 and "[12, 10]" in r.stdout and "sharding" in r.stdout,
      "zarrc info of an array inside a zip: %s %s" % (r.stdout, r.stderr))
r = zarrc("get", path + "/g/nothing")
check(r.returncode == 1 and "not a Zarr node" in r.stderr, "missing node inside a zip: %s" % r.stderr)
# cp out of, into and between nodes inside archives
out_dir = os.path.join(TMP, "from-zip-node")
dst = os.path.join(TMP, "zc-nested.zip")
for a, b in ((path + "/g/sub/sharded", out_dir), (out_dir, dst + "/top/inner/arr"),
             (dst + "/top/inner/arr", os.path.join(TMP, "zc-copy.zip") + "/x")):
    r = zarrc("cp", a, b, "--quiet")
    check(r.returncode == 0, "zarrc cp %s %s: %s" % (a, b, r.stderr))
got = zget(os.path.join(TMP, "zc-copy.zip") + "/x")
check(isinstance(got, np.ndarray) and np.array_equal(got.reshape(12, 10), data),
      "zip node -> directory -> zip node -> zip node keeps the data: %s" % (got if isinstance(got, str) else ""))
# zarrc writes a group and nodes inside one archive; zarr-python's ZipStore reads them
dst2 = os.path.join(TMP, "zc-tree.zip")
steps = [("create", dst2, "--group"), ("create", dst2 + "/grp", "--group"),
         ("create", dst2 + "/grp/a", "--dtype", "int32", "--shape", "12,10", "--chunks", "5,4"),
         ("create", "zip:" + dst2 + "/grp/b", "--dtype", "int32", "--shape", "12,10", "--chunks", "6,10",
          "--codecs", sharding)]
for st in steps:
    r = zarrc(*st)
    check(r.returncode == 0, "zarrc %s: %s" % (" ".join(st), r.stderr))
for n in ("a", "b"):
    r = zarrc("put", dst2 + "/grp/" + n, "--json", "-", stdin=json.dumps(data.tolist()))
    check(r.returncode == 0, "zarrc put into %s inside a zip: %s" % (n, r.stderr))
r = zarrc("put", dst2 + "/grp/a", "--select", "11,9", "--value", "1234")
want = data.copy()
want[11, 9] = 1234
check(r.returncode == 0, "zarrc put --select into a node inside a zip: %s" % r.stderr)
check(zipfile.ZipFile(dst2).testzip() is None, "Python's zipfile checks zarrc's archive of nodes")
s = zarr.storage.ZipStore(dst2, mode="r")
try:
    g = zarr.open_group(s, mode="r")
    a, b = g["grp/a"], g["grp/b"]
    check(np.array_equal(a[:], want) and np.array_equal(b[:], data),
          "zarr-python's ZipStore reads zarrc's arrays inside a group inside the zip")
    check([int(a[i, j]) for i in range(12) for j in range(10)] == want.ravel().tolist(),
          "... element by element")
    check(sorted(g["grp"].array_keys()) == ["a", "b"], "zarr-python lists the group: %s"
          % sorted(g["grp"].array_keys()))
except Exception as e:
    check(False, "zarr-python reading zarrc's nodes in a zip: %r" % e)
s.close()
# a directory named x.zip is a directory, not an archive
ddir = os.path.join(TMP, "dir.zip")
os.makedirs(ddir)
r = zarrc("create", ddir + "/arr", "--dtype", "int8", "--shape", "3")
check(r.returncode == 0 and os.path.isfile(os.path.join(ddir, "arr", "zarr.json")),
      "a directory named dir.zip holds a node on the filesystem: %s" % r.stderr)

# ---- zip64 end records from Python's zipfile (more than 65535 entries) ----
meta_dir = os.path.join(TMP, "meta70k")
r = zarrc("create", meta_dir, "--dtype", "uint8", "--shape", "70000", "--chunks", "1",
          "--codecs", '[{"name":"bytes"}]')
check(r.returncode == 0, "create 70k metadata: %s" % r.stderr)
path = os.path.join(TMP, "zip64.zip")
with zipfile.ZipFile(path, "w") as zf:
    zf.write(os.path.join(meta_dir, "zarr.json"), "zarr.json")
    for i in range(70000):
        zf.writestr("c/%d" % i, bytes([i % 251]))
raw = open(path, "rb").read()
check(raw.find(b"PK\x06\x06") > 0, "Python wrote a zip64 end record")
got = zget(path, "--select", "65530:65540")
check(isinstance(got, np.ndarray) and got.tolist() == [i % 251 for i in range(65530, 65540)],
      "zarrc reads a zip64 archive of 70001 entries: %s" % got)

# ---- damaged archives ----
src = open(os.path.join(TMP, "zc-v3.zip"), "rb").read()
for name, blob in (("truncated", src[: len(src) // 2]), ("empty", b""), ("garbage", b"PK" + b"\x00" * 100),
                   ("bad-cd", src[:-60] + b"\xff" * 38 + src[-22:])):
    path = os.path.join(TMP, "bad-%s.zip" % name)
    open(path, "wb").write(blob)
    r = zarrc("get", path)
    check(r.returncode == 1 and "zip archive" in r.stderr and "Traceback" not in r.stderr,
          "damaged archive (%s) gives a clear error: rc=%d %s" % (name, r.returncode, r.stderr))

print("zip: %d checks, %d failed, %.1f s" % (CHECKS, len(FAILS), time.time() - t0))
sys.exit(1 if FAILS else 0)
