"""Struct (record) arrays between zarrc and its peers, element by element and field by field.

usage: run_struct.py ZARRC OUTDIR [EXAMPLE_USER_DTYPE]

  zarrc writes (create --dtype <v2 list | v3 struct>, put --json of record objects, part of the
  array left to the fill value)  ->  zarr-python 3.4 reads whole records (the forms it reads),
  tensorstore reads each field ("field" in the spec; its zarr driver for v2, zarr3 for v3
  without nesting), zarr-python 2.13 (/usr/bin/python3) reads the v2 forms.
  The peers write  ->  zarrc reads whole records (get --json) and each field (get --field).
With EXAMPLE_USER_DTYPE (examples/user_dtype.c): that program writes an "example.point3" array
(a user-defined type: 3 x float32); zarr-python 3.4 refuses the unknown name, and opens it as raw
bytes once a copy of its zarr.json names the type {"name": "raw_bytes", "configuration":
{"length_bytes": 12}} (fill value as Base64 of the 12 fill bytes); the points must match.
Every comparison is bit for bit on the records' bytes in native order (NaN, -0.0, int64
extremes). Forms zarr-python 3.4 cannot read (nested v2, sub-array fields) are read by the other
peers; what zarr-python 3.4 does with them is printed (docs/compatibility.md).
"""
import json
import math
import os
import shutil
import subprocess
import sys
import warnings

try:  # numcodecs 0.17.1 cannot parse zfpy's version "1.0.1.post0" (fixed in the pins on main)
    import importlib.metadata as _md
    _v = _md.version

    def _version(name):
        v = _v(name)
        return v.split(".post")[0] if name == "zfpy" else v
    _md.version = _version
except Exception:  # pragma: no cover
    pass

import numpy as np  # noqa: E402
import tensorstore as ts  # noqa: E402
import zarr  # noqa: E402

warnings.simplefilter("ignore")
ZARRC, OUT = sys.argv[1], sys.argv[2]
checks = failures = 0


def check(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what)


def run(*args, stdin=None):
    p = subprocess.run([ZARRC, *args], input=stdin, capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("zarrc %s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def to_json(v, dt):
    """One element of dtype dt as zarrc's JSON (records as objects)."""
    if dt.names:
        return {n: to_json(v[n], dt.fields[n][0]) for n in dt.names}
    if dt.subdtype:
        return [to_json(x, dt.subdtype[0]) for x in np.asarray(v).ravel()]
    if dt.kind == "f":
        f = float(v)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return f
    if dt.kind == "b":
        return bool(v)
    return int(v)


def from_json(v, dt):
    if dt.names:
        return tuple(from_json(v[n], dt.fields[n][0]) for n in dt.names)
    if dt.subdtype:
        base, shape = dt.subdtype
        return np.array([from_json(x, base) for x in v], dtype=base).reshape(shape)
    if isinstance(v, str):
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[v]
    return v


def native(a):
    return np.ascontiguousarray(a).astype(a.dtype.newbyteorder("="))


def same_bytes(a, b):
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    # compare field by field in native order (a record dtype's byte orders may differ)
    if a.dtype.names:
        return a.shape == b.shape and all(same_bytes(a[n], b[n]) for n in a.dtype.names)
    return a.shape == b.shape and native(a).tobytes() == native(b.astype(a.dtype)).tobytes()


def records(dt, n, seed):
    rng = np.random.default_rng(seed)
    a = np.zeros(n, dtype=dt)
    raw = rng.integers(0, 256, size=n * dt.itemsize, dtype=np.uint8)
    a = np.frombuffer(raw.tobytes(), dtype=dt).copy()

    def tame(arr):  # NaN payloads of random bits: keep them canonical (JSON says "NaN")
        for name in arr.dtype.names:
            f = arr[name]
            if f.dtype.names:
                tame(f)
            elif f.dtype.kind == "f" or (f.dtype.subdtype and f.dtype.subdtype[0].kind == "f"):
                f[np.isnan(f)] = np.nan
                arr[name] = f
            elif f.dtype.kind == "b":
                arr[name] = f.view(np.uint8) & 1 if f.dtype.itemsize == 1 else f
    tame(a)
    first = a.dtype.names[0]
    if a.dtype[first].kind == "i" and a.dtype[first].itemsize == 8:
        a[first][0], a[first][1] = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    for name in a.dtype.names:
        if a.dtype[name].kind == "f":
            a[name][2], a[name][3] = -0.0, np.inf
    return a


def fill_of(dt, a):
    """The fill value of an array: the last record of `a`, as a NumPy scalar."""
    return a[-1]


# (name, numpy dtype, format, zarrc dtype spelling, v3 endian, zp3 reads it, tensorstore reads it)
STRUCT_V3 = lambda fields: json.dumps({"name": "struct", "configuration": {"fields": fields}})
CASES = [
    ("v3_flat", np.dtype([("t", "<i8"), ("v", "<f4"), ("ok", "|b1")]), 3,
     STRUCT_V3([{"name": "t", "data_type": "int64"}, {"name": "v", "data_type": "float32"},
                {"name": "ok", "data_type": "bool"}]), "little", True, True),
    ("v3_big", np.dtype([("t", ">i8"), ("v", ">f8")]), 3,
     STRUCT_V3([{"name": "t", "data_type": "int64"}, {"name": "v", "data_type": "float64"}]), "big", True, True),
    ("v3_nested", np.dtype([("id", "<u2"), ("p", [("x", "<f4"), ("y", "<f8")])]), 3,
     STRUCT_V3([{"name": "id", "data_type": "uint16"}, {"name": "p", "data_type": {"name": "struct", "configuration": {
         "fields": [{"name": "x", "data_type": "float32"}, {"name": "y", "data_type": "float64"}]}}}]),
     "little", True, False),
    ("v2_mixed", np.dtype([("t", "<i8"), ("v", ">f4"), ("c", "|u1")]), 2,
     '[["t","<i8"],["v",">f4"],["c","|u1"]]', None, True, True),
    ("v2_nested", np.dtype([("a", "<i4"), ("p", [("x", ">f8"), ("b", "|i1")])]), 2,
     '[["a","<i4"],["p",[["x",">f8"],["b","|i1"]]]]', None, None, False),
    ("v2_subarray", np.dtype([("t", "<i8"), ("v", "<f4", (2, 3))]), 2,
     '[["t","<i8"],["v","<f4",[2,3]]]', None, None, True),
]
N, WRITTEN = 6, 4  # elements 4 and 5 stay at the fill value


def zp3_read(path):
    return zarr.open_array(path, mode="r")[...]


def zp2_read(path, fields):
    """zarr-python 2.13 (Debian's python3): the whole array as .npy bytes, and each field."""
    code = ("import sys, zarr, numpy as np, io\n"
            "a = zarr.open_array(sys.argv[1], mode='r')[...]\n"
            "b = io.BytesIO(); np.save(b, a); sys.stdout.buffer.write(b.getvalue())\n")
    p = subprocess.run(["/usr/bin/python3", "-c", code, path], capture_output=True)
    if p.returncode:
        raise RuntimeError(p.stderr.decode())
    import io
    return np.load(io.BytesIO(p.stdout))


def ts_field(path, fmt, field):
    return ts.open({"driver": "zarr3" if fmt == 3 else "zarr", "kvstore": {"driver": "file", "path": path},
                    "field": field}, open=True, read=True).result().read().result()


def zarrc_read(path, dt):
    out = json.loads(run("get", path, "--json"))
    return np.array([from_json(r, dt) for r in out["data"]], dtype=dt).reshape(out["shape"])


def zarrc_field(path, name, dt):
    out = json.loads(run("get", path, "--field", name))
    fdt = dt.fields[name][0]
    base = fdt.subdtype[0] if fdt.subdtype else fdt
    if fdt.names:
        return np.array([from_json(r, fdt) for r in out["data"]], dtype=fdt)
    return np.array([from_json(x, base) for x in out["data"]], dtype=base).reshape(out["shape"])


def zarrc_writes(name, dt, fmt, spelling, endian, zp3, ts_ok):
    path = os.path.join(OUT, "zarrc_" + name)
    a = records(dt, N, sum(name.encode()))
    fill = a[-1]
    want = a.copy()
    want[WRITTEN:] = fill
    args = ["create", path, "--format", str(fmt), "--dtype", spelling, "--shape", str(N), "--chunks", "4",
            "--fill-value", json.dumps(to_json(fill, dt) if fmt == 3 else
                                       __import__("base64").b64encode(np.array(fill, dtype=dt).tobytes()).decode())]
    if fmt == 3:
        args += ["--codecs", json.dumps([{"name": "bytes", "configuration": {"endian": endian}}])]
    else:
        args += ["--compressor", "null"]
    run(*args)
    run("put", path, "--select", "0:%d" % WRITTEN, "--json", "-",
        stdin=json.dumps([to_json(x, dt) for x in a[:WRITTEN]]))
    check(same_bytes(zarrc_read(path, dt), want), "%s: zarrc reads back its own records" % name)
    if zp3:
        got = zp3_read(path)
        check(same_bytes(got.astype(dt), want), "%s: zarr-python 3.4 reads zarrc's records" % name)
    elif zp3 is None:
        try:
            got = zp3_read(path)
            ok = same_bytes(got.astype(dt), want)
            print("note: %s: zarr-python 3.4 reads zarrc's array (%s)" % (name, "equal" if ok else "DIFFERENT"))
        except Exception as e:
            print("note: %s: zarr-python 3.4 cannot read it: %s" % (name, str(e).splitlines()[0][:120]))
    if ts_ok:
        for f in dt.names:
            got = ts_field(path, fmt, f)
            check(same_bytes(got, want[f]), "%s: tensorstore reads field %s of zarrc's array" % (name, f))
    if fmt == 2:
        got = zp2_read(path, dt.names)
        check(same_bytes(got.astype(dt), want), "%s: zarr-python 2.13 reads zarrc's records" % name)


def peer_writes(name, dt, fmt, spelling, endian, zp3, ts_ok):
    a = records(dt, N, sum(name.encode()) + 1)
    fill = a[-1]
    want = a.copy()
    want[WRITTEN:] = fill
    written = []
    if zp3 or (fmt == 2 and zp3 is None and name == "v2_nested"):
        path = os.path.join(OUT, "zp3_" + name)
        kw = {}
        if fmt == 3:
            kw["serializer"] = zarr.codecs.BytesCodec(endian=endian)
        z = zarr.create_array(path, shape=(N,), chunks=(4,), dtype=dt, zarr_format=fmt, compressors=None,
                              fill_value=fill, **kw)
        z[:WRITTEN] = a[:WRITTEN]
        written.append(("zarr-python 3.4", path))
    if fmt == 2:
        path = os.path.join(OUT, "zp2_" + name)
        code = ("import sys, zarr, numpy as np, json\n"
                "def tup(d): return [tuple([x[0], tup(x[1]) if isinstance(x[1], list) else x[1]]"
                " + ([tuple(x[2])] if len(x) > 2 else [])) for x in d]\n"
                "dt = np.dtype(tup(json.loads(sys.argv[2])))\n"
                "a = np.frombuffer(bytes.fromhex(sys.argv[3]), dtype=dt)\n"
                # zarr 2.13 cannot take a structured fill beside NumPy 2 (it compares it with 0): no
                # fill value (null), every element written
                "z = zarr.open_array(sys.argv[1], mode='w', shape=(%d,), chunks=(4,), dtype=dt, compressor=None,"
                " fill_value=None)\n"
                "z[:] = a\n" % N)
        descr = json.dumps([list(x) if len(x) == 2 else [x[0], x[1], list(x[2])] for x in
                            _descr(dt)])
        p = subprocess.run(["/usr/bin/python3", "-c", code, path, descr, a.tobytes().hex()], capture_output=True)
        check(p.returncode == 0, "%s: zarr-python 2.13 writes: %s" % (name, p.stderr.decode()[-300:]))
        if p.returncode == 0:
            written.append(("zarr-python 2.13", path))
    if ts_ok and not any(dt[f].names for f in dt.names):
        path = os.path.join(OUT, "ts_" + name)
        meta = ({"dtype": json.loads(spelling), "shape": [N], "chunks": [4], "compressor": None,
                 "fill_value": __import__("base64").b64encode(np.array(fill, dtype=dt).tobytes()).decode()}
                if fmt == 2 else
                {"data_type": json.loads(spelling), "shape": [N], "fill_value": to_json(fill, dt),
                 "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}},
                 "codecs": [{"name": "bytes", "configuration": {"endian": endian}}]})
        for i, f in enumerate(dt.names):
            t = ts.open({"driver": "zarr3" if fmt == 3 else "zarr", "kvstore": {"driver": "file", "path": path},
                         "field": f, "metadata": meta}, create=i == 0, open=i > 0,
                        delete_existing=i == 0).result()
            t[:WRITTEN] = a[f][:WRITTEN]
        written.append(("tensorstore", path))
    full = want
    for who, path in written:
        want = a if who == "zarr-python 2.13" else full
        check(same_bytes(zarrc_read(path, dt), want), "%s: zarrc reads %s's records" % (name, who))
        for f in dt.names:
            check(same_bytes(zarrc_field(path, f, dt), want[f]), "%s: zarrc reads field %s of %s's array" %
                  (name, f, who))


def _descr(dt):
    out = []
    for n in dt.names:
        fdt = dt.fields[n][0]
        if fdt.names:
            out.append([n, _descr(fdt)])
        elif fdt.subdtype:
            out.append([n, fdt.subdtype[0].str, list(fdt.subdtype[1])])
        else:
            out.append([n, fdt.str])
    return out


def user_dtype(example):
    base = os.path.join(OUT, "user")
    p = subprocess.run([example, base], capture_output=True, text=True)
    check(p.returncode == 0, "user_dtype example: %s" % p.stderr.strip())
    if p.returncode:
        return
    path = os.path.join(base, "points")
    try:
        zarr.open_array(path, mode="r")
        check(False, "zarr-python 3.4 opened an unknown data type")
    except Exception as e:
        print("note: zarr-python 3.4 on example.point3: %s" % str(e).splitlines()[0][:100])
    raw = os.path.join(OUT, "user_raw")
    shutil.copytree(path, raw)
    meta = json.load(open(os.path.join(raw, "zarr.json")))
    check(meta["data_type"] == "example.point3" and meta["fill_value"] == [0, 0, -1], "user dtype metadata")
    meta["data_type"] = {"name": "raw_bytes", "configuration": {"length_bytes": 12}}
    meta["fill_value"] = __import__("base64").b64encode(np.array([0, 0, -1], "<f4").tobytes()).decode()
    json.dump(meta, open(os.path.join(raw, "zarr.json"), "w"))
    got = zarr.open_array(raw, mode="r")[...]
    pts = np.frombuffer(got.tobytes(), "<f4").reshape(5, 3)
    want = np.array([[1, 2, 3], [-1.5, 0.25, 8], [np.nan, 0, 0], [1e-3, 1e3, -0.0], [0, 0, -1]], "<f4")
    check(got.dtype.itemsize == 12 and pts.tobytes() == want.tobytes(),
          "zarr-python 3.4 reads the example.point3 array as raw bytes: %r" % (pts,))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    print("zarr-python %s, tensorstore, numpy %s" % (zarr.__version__, np.__version__))
    for case in CASES:
        for fn in (zarrc_writes, peer_writes):
            try:
                fn(*case)
            except Exception as e:
                check(False, "%s (%s): %s" % (case[0], fn.__name__, e))
    if len(sys.argv) > 3:
        try:
            user_dtype(sys.argv[3])
        except Exception as e:
            check(False, "user_dtype: %s" % e)
    print("interop_struct: %d checks, %d failures" % (checks, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
