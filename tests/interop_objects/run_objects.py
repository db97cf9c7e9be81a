#!/usr/bin/env python3
"""Object arrays (numpy "|O" with numcodecs json2, msgpack2, vlen-array; pickle refused), both
ways, element by element:

  * zarr-python 2.13 (Debian's /usr/bin/python3, the v2 peer) writes arrays, zarrc reads them
    (whole and with selections); zarrc writes arrays (CLI create + put --json), zarr-python 2.13
    reads them;
  * numcodecs 0.17 (this interpreter: the peer venv) decodes the chunk files zarrc wrote, and
    encodes chunks that zarrc then reads;
  * pickle: zarrc refuses to read and to create, naming the codec and why;
  * zarr-python 3.4 cannot open any of these (it has no data type for them): checked, so that
    docs/compatibility.md stays true when it learns to.

usage: run_objects.py ZARRC WORKDIR
"""
import json
import math
import os
import shutil
import subprocess
import sys

import numcodecs
import numpy as np

ZARRC, WORK = sys.argv[1], sys.argv[2]
V2PY = os.environ.get("ZARRC_V2_PYTHON") or "/usr/bin/python3"
checks = 0
failures = []


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def zarrc(*args, stdin=None, ok=True):
    p = subprocess.run([ZARRC, *args], input=stdin, capture_output=True, text=True)
    if ok and p.returncode != 0:
        failures.append(f"zarrc {' '.join(args)} failed: {p.stderr.strip()}")
        print("FAIL:", failures[-1])
    return p


def same(a, b):
    """JSON-model equality; NaN equals NaN; 1 and 1.0 differ (different Python objects)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def cli_floats(vals):
    """Typed float elements as the CLI prints floats: NaN and infinities as strings."""
    def one(x):
        x = float(x)
        return "NaN" if math.isnan(x) else ("Infinity" if x == math.inf else "-Infinity" if x == -math.inf else x)
    return [one(x) for x in vals]


def get(node, select=None):
    args = ["get", node, "--json"] + (["--select", select] if select else [])
    p = zarrc(*args)
    return json.loads(p.stdout) if p.returncode == 0 else None


# Elements: every JSON kind, unicode, escapes, big and negative integers, nesting, NaN.
VALUES = ["a", "é€😀", 'q"\\/\n\t', 0, -1, 127, 128, -33, 65535, 2**32, -2**31 - 1, 2**63 - 1, 2**64 - 1,
          -2**63, 1.5, -0.0, 1e300, 1.0, float("nan"), float("inf"), True, False, None, [], {},
          [1, [2, [3, {"k": None}]]], {"b": 1, "a": [True, "x"]}, "", "x" * 300]
VLEN = {"<i4": [[1, -2, 3], [], [2**31 - 1, -2**31], [7]],
        ">f8": [[1.5, -0.0], [float("nan"), float("inf")], [], [1e-300]],
        "|u1": [[0, 255], [], [1], [2, 3, 4, 5]],
        "<u8": [[2**64 - 1, 0], [1], [], []]}

V2_WRITER = r'''
import json, sys, numpy as np, numcodecs, zarr
work, spec = sys.argv[1], json.loads(sys.argv[2])
def obj(vals, shape):
    a = np.empty(len(vals), dtype=object)
    for i, v in enumerate(vals):
        a[i] = v
    return a.reshape(shape)
for name, kind, vals, shape, chunks, comp in spec["json"]:
    codec = numcodecs.JSON() if kind == "json2" else numcodecs.MsgPack()
    z = zarr.open_array(f"{work}/{name}", mode="w", shape=shape, chunks=chunks, dtype=object,
                        object_codec=codec, compressor=numcodecs.get_codec(comp) if comp else None)
    z[...] = obj(vals, shape)
for name, dt, vals, chunks in spec["vlen"]:
    z = zarr.open_array(f"{work}/{name}", mode="w", shape=(len(vals),), chunks=chunks, dtype=object,
                        object_codec=numcodecs.VLenArray(dt), fill_value=None)
    for i, v in enumerate(vals):
        z[i] = np.array(v, dtype=dt)
z = zarr.open_array(f"{work}/pickled", mode="w", shape=(2,), dtype=object, object_codec=numcodecs.Pickle())
z[:] = ["a", "b"]
z = zarr.open_array(f"{work}/bigint", mode="w", shape=(2,), dtype=object, object_codec=numcodecs.JSON())
z[:] = [2**70, "x"]
# order F: zarr-python 2 reads these back as the flat element list reshaped in F order (not
# what was written); zarrc must read what zarr-python 2 reads
seen = {}
for name, codec in (("jsonF", numcodecs.JSON()), ("mpF", numcodecs.MsgPack())):
    z = zarr.open_array(f"{work}/{name}", mode="w", shape=(3, 5), chunks=(2, 3), dtype=object,
                        object_codec=codec, order="F")
    z[...] = obj(list(range(15)), (3, 5))
    seen[name] = z[...].reshape(-1).tolist()
print(json.dumps(seen))
'''

V2_READER = r'''
import json, sys, numpy as np, zarr
out = {}
for name in sys.argv[2:]:
    z = zarr.open_array(f"{sys.argv[1]}/{name}", mode="r")
    a = z[...]
    flat = a.reshape(-1)
    out[name] = {"shape": list(a.shape), "filters": [f.get_config()["id"] for f in (z.filters or [])],
                 "data": [v.tolist() if isinstance(v, np.ndarray) else v for v in flat],
                 "dtypes": [str(v.dtype) if isinstance(v, np.ndarray) else None for v in flat]}
print(json.dumps(out))
'''


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    z2 = os.path.join(WORK, "by_zarr2")
    zc = os.path.join(WORK, "by_zarrc")
    os.makedirs(z2)
    os.makedirs(zc)
    blosc = {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 1, "blocksize": 0}
    n = len(VALUES)
    two_d = VALUES[:24]
    spec = {"json": [["json1", "json2", VALUES, [n], [4], blosc],
                     ["mp1", "msgpack2", VALUES, [n], [5], None],
                     ["json2d", "json2", two_d, [6, 4], [4, 3], None],
                     ["mp2d", "msgpack2", two_d, [4, 6], [3, 4], blosc]],
            "vlen": [[f"va_{i}", dt, vals, [3]] for i, (dt, vals) in enumerate(VLEN.items())]}

    # ---- zarr-python 2.13 writes, zarrc reads ----
    p = subprocess.run([V2PY, "-c", V2_WRITER, z2, json.dumps(spec)], capture_output=True, text=True)
    check(p.returncode == 0, f"zarr-python 2.13 writes object arrays: {p.stderr[-800:]}")
    for name, vals in (json.loads(p.stdout) if p.returncode == 0 else {}).items():
        got = get(os.path.join(z2, name))
        check(got is not None and got["data"] == vals, f"zarrc reads zarr-python 2.13's order-F {name} as it does: {got and got['data']} != {vals}")
    for name, kind, vals, shape, chunks, comp in spec["json"]:
        got = get(os.path.join(z2, name))
        check(got is not None and got["shape"] == shape and got["dtype"] == "object", f"{name}: shape/dtype {got and got['shape']}")
        if got:
            for i, (g, w) in enumerate(zip(got["data"], vals)):
                check(same(g, w), f"zarrc reads zarr-python 2.13's {name}[{i}]: {g!r} != {w!r}")
            check(len(got["data"]) == len(vals), f"{name}: element count")
    # selections across chunk boundaries
    sel = get(os.path.join(z2, "json1"), "3:11")
    check(sel is not None and all(same(g, w) for g, w in zip(sel["data"], VALUES[3:11])) and len(sel["data"]) == 8,
          "zarrc reads json1[3:11]")
    sel = get(os.path.join(z2, "mp2d"), "1:3,2:5")
    want = [two_d[r * 6 + c] for r in range(1, 3) for c in range(2, 5)]
    check(sel is not None and sel["shape"] == [2, 3] and all(same(g, w) for g, w in zip(sel["data"], want)),
          "zarrc reads mp2d[1:3,2:5]")
    for name, dt, vals, chunks in spec["vlen"]:
        got = get(os.path.join(z2, name))
        check(got is not None and len(got["data"]) == len(vals), f"{name}: elements")
        for i, (g, w) in enumerate(zip(got["data"] if got else [], vals)):
            check(same(g, cli_floats(w) if dt[1] == "f" else w), f"zarrc reads zarr-python 2.13's {name} ({dt})[{i}]: {g} != {w}")
    p = zarrc("get", os.path.join(z2, "pickled"), "--json", ok=False)
    check(p.returncode != 0 and "pickle" in p.stderr and "unsafe" in p.stderr and "not portable" in p.stderr,
          f"reading a pickle array is refused naming the codec and why: {p.stderr.strip()}")
    p = zarrc("get", os.path.join(z2, "bigint"), "--json", ok=False)
    check(p.returncode != 0 and "does not fit 64 bits" in p.stderr,
          f"an integer beyond 64 bits (Python's json2) is refused, not read wrong: {p.stderr.strip()}")
    p = zarrc("info", os.path.join(z2, "pickled"), ok=False)
    check(p.returncode == 0 and "pickle" in p.stdout + p.stderr, "zarrc info still describes a pickle array")

    # ---- zarrc writes, zarr-python 2.13 and numcodecs 0.17 read ----
    made = []
    for name, kind, vals, shape, chunks, comp in spec["json"]:
        node = os.path.join(zc, name)
        args = ["create", node, "--format", "2", "--dtype", "|O", "--shape", ",".join(map(str, shape)),
                "--chunks", ",".join(map(str, chunks)), "--filters", json.dumps([{"id": kind}]),
                "--compressor", json.dumps(comp)]
        zarrc(*args)
        text = json.dumps(vals, allow_nan=True)
        zarrc("put", node, "--json", "-", stdin=text)
        made.append(name)
    for name, kind in (("jsonF", "json2"), ("mpF", "msgpack2")):
        node = os.path.join(zc, name)
        zarrc("create", node, "--format", "2", "--dtype", "|O", "--shape", "3,5", "--chunks", "2,3", "--order", "F",
              "--filters", json.dumps([{"id": kind}]), "--compressor", "null")
        zarrc("put", node, "--json", "-", stdin=json.dumps(two_d[:15]))
        made.append(name)
    for name, dt, vals, chunks in spec["vlen"]:
        node = os.path.join(zc, name)
        zarrc("create", node, "--format", "2", "--dtype", "|O", "--shape", str(len(vals)), "--chunks",
              ",".join(map(str, chunks)), "--filters", json.dumps([{"id": "vlen-array", "dtype": dt}]),
              "--compressor", "null")
        zarrc("put", node, "--json", "-", stdin=json.dumps(vals))
        made.append(name)
    p = subprocess.run([V2PY, "-c", V2_READER, zc, *made], capture_output=True, text=True)
    check(p.returncode == 0, f"zarr-python 2.13 reads zarrc's object arrays: {p.stderr[-800:]}")
    seen = json.loads(p.stdout) if p.returncode == 0 else {}
    for name, kind, vals, shape, chunks, comp in spec["json"]:
        r = seen.get(name, {})
        check(r.get("shape") == shape and r.get("filters") == [kind], f"zarr-python 2.13: {name} shape/filters {r.get('shape')}")
        for i, (g, w) in enumerate(zip(r.get("data", []), vals)):
            check(same(g, w), f"zarr-python 2.13 reads zarrc's {name}[{i}]: {g!r} != {w!r}")
    for name in ("jsonF", "mpF"):
        r = seen.get(name, {})
        check(r.get("shape") == [3, 5] and len(r.get("data", [])) == 15 and all(same(g, w) for g, w in zip(r["data"], two_d[:15])),
              f"zarr-python 2.13 reads zarrc's order-F {name}: {r.get('data')}")
    for name, dt, vals, chunks in spec["vlen"]:
        r = seen.get(name, {})
        for i, (g, w) in enumerate(zip(r.get("data", []), vals)):
            check(same(g, [float(x) for x in w] if dt[1] == "f" else w), f"zarr-python 2.13 reads zarrc's {name}[{i}]")
            check(np.dtype(r["dtypes"][i]) == np.dtype(dt), f"zarr-python 2.13: {name}[{i}] has dtype {r['dtypes'][i]}")
        check(len(r.get("data", [])) == len(vals), f"zarr-python 2.13: {name} element count")

    # numcodecs 0.17 decodes zarrc's chunk files (no compressor: the file is the codec's bytes)
    def chunk_elems(name, key):
        with open(os.path.join(zc, name, key), "rb") as f:
            return f.read()
    raw = chunk_elems("mp1", "1")
    dec = numcodecs.MsgPack().decode(raw)
    check(all(same(g, w) for g, w in zip(dec.tolist(), VALUES[5:10])) and dec.shape == (5,),
          "numcodecs 0.17 MsgPack decodes zarrc's chunk mp1/1")
    raw = chunk_elems("json2d", "1.0")
    dec = numcodecs.JSON().decode(raw)
    want = [[two_d[r * 4 + c] for c in range(3)] for r in range(4, 6)]
    check(dec.shape == (4, 3) and all(same(dec[r, c], want[r][c]) for r in range(2) for c in range(3)),
          "numcodecs 0.17 JSON decodes zarrc's edge chunk json2d/1.0")
    for i, (dt, vals) in enumerate(VLEN.items()):
        dec = numcodecs.VLenArray(dt).decode(chunk_elems(f"va_{i}", "0"))
        check(len(dec) == 3 and all(d.dtype == np.dtype(dt) and same(d.tolist(), w if dt[1] != "f" else [float(x) for x in w])
                                    for d, w in zip(dec, vals[:3])),
              f"numcodecs 0.17 VLenArray({dt}) decodes zarrc's chunk va_{i}/0")

    # numcodecs 0.17 encodes chunks, zarrc reads them
    node = os.path.join(zc, "nc_json")
    zarrc("create", node, "--format", "2", "--dtype", "|O", "--shape", "6", "--chunks", "3", "--filters",
          '[{"id":"json2"}]', "--compressor", "null")
    node2 = os.path.join(zc, "nc_mp")
    zarrc("create", node2, "--format", "2", "--dtype", "|O", "--shape", "6", "--chunks", "3", "--filters",
          '[{"id":"msgpack2"}]', "--compressor", "null")
    node3 = os.path.join(zc, "nc_va")
    zarrc("create", node3, "--format", "2", "--dtype", "|O", "--shape", "6", "--chunks", "3", "--filters",
          '[{"id":"vlen-array","dtype":"<i2"}]', "--compressor", "null")
    elems = [{"z": [1, 2], "a": None}, "ü", 3.25, None, [True], -7]
    arrays = [np.array([1, -2], "<i2"), np.array([], "<i2"), np.array([32767], "<i2"), np.array([5, 6, 7], "<i2"),
              np.array([-32768], "<i2"), np.array([0], "<i2")]
    for k in range(2):
        part = np.empty(3, dtype=object)
        part[:] = elems[3 * k:3 * k + 3]
        with open(os.path.join(node, str(k)), "wb") as f:
            f.write(numcodecs.JSON().encode(part))
        with open(os.path.join(node2, str(k)), "wb") as f:
            f.write(numcodecs.MsgPack().encode(part))
        part = np.empty(3, dtype=object)
        for j in range(3):
            part[j] = arrays[3 * k + j]
        with open(os.path.join(node3, str(k)), "wb") as f:
            f.write(numcodecs.VLenArray("<i2").encode(part))
    for nd in (node, node2):
        got = get(nd)
        check(got is not None and all(same(g, w) for g, w in zip(got["data"], elems)) and len(got["data"]) == 6,
              f"zarrc reads numcodecs 0.17's chunks of {os.path.basename(nd)}: {got and got['data']}")
    got = get(node3)
    check(got is not None and got["data"] == [a.tolist() for a in arrays],
          f"zarrc reads numcodecs 0.17's vlen-array chunks: {got and got['data']}")

    # ---- pickle refused on create; v3 object arrays refused ----
    p = zarrc("create", os.path.join(zc, "pk"), "--format", "2", "--dtype", "|O", "--shape", "3", "--filters",
              '[{"id":"pickle","protocol":5}]', ok=False)
    check(p.returncode != 0 and "pickle" in p.stderr and "unsafe" in p.stderr and not os.path.exists(os.path.join(zc, "pk", ".zarray")),
          f"creating a pickle array is refused: {p.stderr.strip()}")
    p = zarrc("create", os.path.join(zc, "v3obj"), "--dtype", "|O", "--shape", "3", "--codecs",
              '[{"name":"numcodecs.json2","configuration":{}}]', ok=False)
    check(p.returncode != 0 and "v2" in p.stderr, f"a v3 object array is refused: {p.stderr.strip()}")
    # bad input is refused, nothing half-written
    p = zarrc("put", os.path.join(zc, "json1"), "--json", "-", stdin=json.dumps([2**64] + VALUES[1:]), ok=False)
    check(p.returncode != 0 and "does not fit 64 bits" in p.stderr, f"put of 2**64 is refused: {p.stderr.strip()}")
    p = zarrc("put", os.path.join(zc, "va_0"), "--json", "-", stdin='[[1.5],[],[],[]]', ok=False)
    check(p.returncode != 0 and "integer" in p.stderr, f"a float in an <i4 vlen-array element is refused: {p.stderr.strip()}")

    # ---- zarr-python 3.4 has no data type for these arrays ----
    try:
        import zarr
        for name in ("json1", "mp1", "va_0"):
            try:
                zarr.open_array(os.path.join(z2, name), mode="r")[...]
                check(False, f"zarr-python {zarr.__version__} now reads {name}: update docs/compatibility.md and this test")
            except ValueError as e:
                check("No Zarr data type found" in str(e), f"zarr-python 3.4 refuses {name}: {e}")
        # hdmf-zarr's legacy reference datasets (|O json2 elements {"source", "path", ...},
        # attribute zarr_dtype "object"): the same refusal; zarrc resolves them (refs.nwb)
        leg = os.path.join(WORK, "legacy_refs")
        v2py = os.environ.get("ZARRC_V2_PYTHON") or "/usr/bin/python3"
        q = subprocess.run([v2py, "-c", f"""
import zarr, numcodecs, numpy as np
g = zarr.open_group({leg!r}, mode="w"); g.create_group("t")
v = np.empty(1, dtype=object); v[0] = {{"source": ".", "path": "/t", "object_id": "o", "source_object_id": "r"}}
r = g.create_dataset("refs", shape=(1,), dtype=object, object_codec=numcodecs.JSON()); r[:] = v
r.attrs["zarr_dtype"] = "object"
"""], capture_output=True, text=True)
        check(q.returncode == 0, f"zarr-python 2.13 writes a legacy reference array: {q.stderr[-300:]}")
        try:
            zarr.open_array(os.path.join(leg, "refs"), mode="r")[...]
            check(False, "zarr-python 3.4 now reads hdmf-zarr's legacy reference arrays: update docs/compatibility.md")
        except ValueError as e:
            check("No Zarr data type found" in str(e), f"zarr-python 3.4 refuses the legacy reference array: {e}")
        p = zarrc("refs", "--json", os.path.join(leg, "refs"))
        check(p.returncode == 0 and json.loads(p.stdout)[0]["target"] == "/t", "zarrc resolves it")
        # v3 spellings numcodecs.json2 / numcodecs.msgpack2 / numcodecs.vlen-array: zarr-python
        # 3.4 has no implementation of any (numcodecs.zarr3 0.17.1 registers none of them)
        for cname, cfg in (("numcodecs.json2", {}), ("numcodecs.msgpack2", {}),
                           ("numcodecs.vlen-array", {"dtype": "<i4"})):
            d = os.path.join(WORK, "v3_" + cname)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "zarr.json"), "w") as f:
                json.dump({"zarr_format": 3, "node_type": "array", "shape": [2], "data_type": "string",
                           "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
                           "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                           "fill_value": "", "codecs": [{"name": cname, "configuration": cfg}]}, f)
            try:
                zarr.open_array(d, mode="r")[...]
                check(False, f"zarr-python 3.4 now reads v3 {cname}: update docs/compatibility.md and this test")
            except Exception as e:
                check(type(e).__name__ == "UnknownCodecError" and cname in str(e),
                      f"zarr-python 3.4 refuses v3 {cname}: {type(e).__name__}: {str(e)[:120]}")
            p = zarrc("get", "--json", d, ok=False)
            if cname == "numcodecs.vlen-array":  # zarrs' spelling of the vlen-bytes layout
                check(p.returncode == 0 and json.loads(p.stdout)["data"] == ["", ""], f"zarrc reads v3 {cname}")
            else:
                check(p.returncode != 0 and "needs a v2 object (|O) array" in p.stderr,
                      f"zarrc refuses v3 {cname} on a string array: {p.stderr.strip()}")
    except ImportError as e:
        check(False, f"zarr-python 3.4 is missing from the peer venv: {e}")

    print(f"object arrays: {checks} checks, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
