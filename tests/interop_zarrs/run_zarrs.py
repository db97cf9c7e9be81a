#!/usr/bin/env python3
"""Interop with zarrs (the Rust crate, through tests/interop_zarrs/src/main.rs) for the
zarr-extensions data types and codecs that zarr-python cannot express (sub-byte integers,
8/6/4-bit floats, small complex types, the zarr-extensions packbits codec).

usage: run_zarrs.py ZARRC WORKDIR

For every case (data type x codec chain): zarrs writes an array, zarrc reads it back
(raw bytes compared element by element, and the CLI's JSON numbers compared with ml_dtypes'
values of each code); zarrc writes the same array and zarrs reads it back. The zarrs program is
built once into ${XDG_CACHE_HOME:-~/.cache}/zarrc/zarrs-interop (outside the checkout) with
cargo from crates.io (versions pinned in Cargo.toml / Cargo.lock); a failed build FAILS.
"""
import json
import math
import os
import random
import shutil
import subprocess
import sys

import ml_dtypes
import numpy as np

import zarrs_common as zc
from zarrs_common import build, check

ZARRC, WORK = zc.args()


SMALL_FLOATS = ["float8_e4m3", "float8_e5m2", "float8_e3m4", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
                "float8_e5m2fnuz", "float8_e8m0fnu", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn"]
rng = random.Random(17)


def data_for(dtype, n):
    """Raw element bytes (the in-memory layout both libraries use) for n elements."""
    if dtype in ("int2", "int4"):
        lo, hi = (-2, 1) if dtype == "int2" else (-8, 7)
        return np.array([lo + i % (hi - lo + 1) for i in range(n)], np.int8).tobytes()
    if dtype in ("uint2", "uint4"):
        return np.array([i % (4 if dtype == "uint2" else 16) for i in range(n)], np.uint8).tobytes()
    if dtype == "bool":
        return bytes(rng.randrange(2) for _ in range(n))
    if dtype == "uint16":  # bits 2..9 only (the packbits case keeps those)
        return np.array([(rng.randrange(256) << 2) for _ in range(n)], "<u2").tobytes()
    if dtype == "int16":  # [-128, 127] (the packbits case keeps bits 0..7, sign-extended)
        return np.array([rng.randrange(-128, 128) for _ in range(n)], "<i2").tobytes()
    if dtype in ("int8", "uint8", "int32", "int64", "uint32", "uint64"):  # zfp cases: smooth, with extremes
        info = np.iinfo(dtype)
        span = min(int(info.max), 10 ** 6)
        v = [int((math.sin(i / 5) + 1) / 2 * span) + (int(info.min) if info.min < 0 and i % 7 == 0 else 0)
             for i in range(n)]
        v[0], v[-1] = int(info.min), int(info.max) if dtype not in ("uint32", "uint64") else span
        return np.array(v, "<" + np.dtype(dtype).str[1:]).tobytes()
    base = dtype[8:] if dtype.startswith("complex_") else dtype
    comps = 2 if dtype.startswith("complex_") else 1
    if base in SMALL_FLOATS:
        width = 6 if base.startswith("float6") else 4 if base.startswith("float4") else 8
        return bytes((i * 37 + 11) % (1 << width) for i in range(n * comps))  # every code, mixed
    size = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}[base]
    vals = np.array([rng.uniform(-100, 100) for _ in range(n * comps)], np.float64)
    t = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32, "float64": np.float64}[base]
    out = vals.astype(t).tobytes()
    assert len(out) == n * comps * size
    return out


def fill_for(dtype):
    base = dtype[8:] if dtype.startswith("complex_") else dtype
    if dtype in ("int2", "int4", "int16"):
        return -1
    if dtype == "uint16":
        return 4
    if dtype == "bool":
        return True
    if dtype in ("int8", "uint8", "int32", "int64", "uint32", "uint64"):
        return 3
    if dtype in ("uint2", "uint4"):
        return 3
    if base in ("float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn"):
        v = -1.5
    elif base == "float8_e8m0fnu":
        v = "NaN"
    elif base in SMALL_FLOATS:
        v = "NaN"
    else:
        v = 0.5
    return [v, 2.0] if dtype.startswith("complex_") else v


# zarrs 0.23.14 misreads these packbits cases even in arrays it wrote itself (zarrc writes the
# same chunk bytes and reads them as the README says): a partial read of a chunk (the edge chunk)
# does not sign-extend sub-byte signed integers nor shift by first_bit, and signed integers packed
# with last_bit < N-1 are not sign-extended at all.
PB = "packbits"
KNOWN_ZARRS_BUGS = {
    'int2 [{"name": "packbits", "configuration": {"padding_encoding": "%s"}}]' % p: "edge chunk not sign-extended"
    for p in ("none", "first_byte", "last_byte")}
KNOWN_ZARRS_BUGS.update({
    'int4 [{"name": "packbits", "configuration": {"padding_encoding": "%s"}}]' % p: "edge chunk not sign-extended"
    for p in ("none", "first_byte", "last_byte")})
KNOWN_ZARRS_BUGS['uint16 [{"name": "packbits", "configuration": {"first_bit": 2, "last_bit": 9}}]'] = \
    "edge chunk not shifted by first_bit"
KNOWN_ZARRS_BUGS['int16 [{"name": "packbits", "configuration": {"first_bit": null, "last_bit": 7}}]'] = \
    "not sign-extended from last_bit"


def cases():
    ints = ["int2", "uint2", "int4", "uint4"]
    cplx = ["complex_float16", "complex_bfloat16", "complex_float32", "complex_float64", "complex_float8_e4m3",
            "complex_float8_e5m2fnuz", "complex_float8_e8m0fnu", "complex_float6_e2m3fn", "complex_float4_e2m1fn"]
    zstd = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
    out = []
    for dt in ints + SMALL_FLOATS + cplx:
        out.append((dt, [{"name": "bytes"}]))
        out.append((dt, [{"name": "bytes", "configuration": {"endian": "little"}}, zstd]))
    packable = ints + ["float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn", "complex_float6_e2m3fn",
                       "complex_float4_e2m1fn", "bool"]
    for dt in packable:
        for pad in ("none", "first_byte", "last_byte"):
            out.append((dt, [{"name": "packbits", "configuration": {"padding_encoding": pad}}]))
    out.append(("uint4", [{"name": "packbits", "configuration": {"padding_encoding": "last_byte"}}, zstd]))
    # partial bits of wider integers (data chosen to fit the kept bits)
    out.append(("uint16", [{"name": "packbits", "configuration": {"first_bit": 2, "last_bit": 9}}]))
    out.append(("int16", [{"name": "packbits", "configuration": {"first_bit": None, "last_bit": 7}}]))
    out.append(("float32", [{"name": "packbits"}]))
    # array->array: reshape and zarrs.squeeze, on 2-d/3-d arrays (shape, chunks)
    out.append(("int4", [{"name": "reshape", "configuration": {"shape": [[0, 1]]}}, {"name": "bytes"}], (6, 8), (3, 4)))
    out.append(("float8_e4m3", [{"name": "reshape", "configuration": {"shape": [2, -1, 2]}}, {"name": "bytes"}, zstd],
                (6, 8), (4, 4)))
    out.append(("int16", [{"name": "reshape", "configuration": {"shape": [[0], [1, 2]]}},
                          {"name": "bytes", "configuration": {"endian": "big"}}], (4, 3, 5), (2, 3, 5)))
    out.append(("uint2", [{"name": "zarrs.squeeze"}, {"name": "packbits"}], (1, 37), (1, 8)))
    out.append(("float6_e3m2fn", [{"name": "zarrs.squeeze"}, {"name": "bytes"}], (5, 1, 7), (5, 1, 3)))
    # zfp (zarrs' spelling, no header) and numcodecs.zfpy (zfp's header), reversible and lossy:
    # lossy cases are compared with zarrs' own reading of the same array (same zfp decoder)
    rev = {"name": "zfp", "configuration": {"mode": "reversible"}}
    for dt in ("float32", "float64", "int32", "int64", "int8", "uint8", "int16", "uint16", "uint32", "uint64"):
        out.append((dt, [rev], (37,), (8,)))
    out.append(("float64", [rev], (6, 8), (3, 4)))
    out.append(("int32", [rev, zstd], (4, 6, 5), (2, 3, 5)))
    out.append(("float32", [{"name": "zarrs.squeeze"}, rev], (2, 1, 3, 4, 5), (2, 1, 3, 2, 5)))
    out.append(("float64", [{"name": "zfp", "configuration": {"mode": "fixed_rate", "rate": 10.5}}], (6, 8), (3, 4)))
    out.append(("float32", [{"name": "zfp", "configuration": {"mode": "fixed_precision", "precision": 13}}],
                (4, 6, 5), (4, 3, 5)))
    out.append(("float64", [{"name": "zfp", "configuration": {"mode": "fixed_accuracy", "tolerance": 0.05}}],
                (37,), (8,)))
    out.append(("float32", [{"name": "zfp", "configuration": {"mode": "expert", "minbits": 1, "maxbits": 300,
                                                              "maxprec": 19, "minexp": -2}}], (2, 3, 4, 5), (2, 3, 4, 5)))
    out.append(("int64", [{"name": "zfp", "configuration": {"mode": "fixed_precision", "precision": 40}}], (37,), (8,)))
    out.append(("uint16", [{"name": "zfp", "configuration": {"mode": "fixed_rate", "rate": 6}}], (6, 8), (3, 4)))
    out.append(("float64", [{"name": "numcodecs.zfpy", "configuration": {"mode": 5}}], (6, 8), (3, 4)))
    out.append(("float32", [{"name": "numcodecs.zfpy", "configuration": {"mode": 4, "tolerance": 0.01}}], (37,), (8,)))
    out.append(("int32", [{"name": "numcodecs.zfpy", "configuration": {"mode": 3, "precision": 20}}], (6, 8), (3, 4)))
    return [c if len(c) == 4 else c + ((37,), (8,)) for c in out]


def lossy(codecs):
    return any(c["name"] in ("zfp", "numcodecs.zfpy") and c["configuration"]["mode"] not in ("reversible", 5)
               for c in codecs)


def metadata(dtype, codecs, shape, chunk):
    # complex bytes codecs need an endian for multi-byte components; zarrs writes one anyway
    codecs = [dict(c, configuration={"endian": "little"}) if c["name"] == "bytes" and "configuration" not in c
              and (dtype.startswith("complex_float") and dtype[13:] in ("16", "32", "64") or "bfloat16" in dtype
                   or dtype in ("uint16", "float32"))
              else c for c in codecs]
    return {"zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunk)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill_for(dtype), "codecs": codecs, "attributes": {}}


def zarrc(*args, stdin=None):
    return subprocess.run([ZARRC] + list(args), input=stdin, capture_output=True)


def small_float_type(dtype):
    base = dtype[8:] if dtype.startswith("complex_") else dtype
    return getattr(ml_dtypes, base) if base in SMALL_FLOATS else None


def json_matches_code(got, code, t):
    """The CLI's JSON for one small-float code: "NaN"/"Infinity" where ml_dtypes decodes the code
    so, else a number that ml_dtypes converts back to exactly that code (shortest round trip)."""
    want = float(np.array([code], np.uint8).view(t).astype(np.float64)[0])
    if isinstance(got, str):
        return (got == "NaN" and math.isnan(want)) or (got == "Infinity" and want == math.inf) or \
               (got == "-Infinity" and want == -math.inf)
    if math.isnan(want) or math.isinf(want):
        return False
    return int(np.array([got], np.float64).astype(t).view(np.uint8)[0]) == code


def flatten(v):
    for e in v:
        if isinstance(e, list):
            yield from flatten(e)
        else:
            yield e


def main():
    binary = build()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    # shapes that leave partial edge chunks: fill values in the encoded edge chunks
    todo = []
    for i, (dt, codecs, shape, chunk) in enumerate(cases()):
        raw = data_for(dt, math.prod(shape))
        todo.append({"dir": os.path.join(WORK, "zarrs_%02d" % i), "zdir": os.path.join(WORK, "zarrc_%02d" % i),
                     "dtype": dt, "codecs": codecs, "shape": shape, "chunk": chunk,
                     "metadata": metadata(dt, codecs, shape, chunk), "data": raw.hex()})
    cases_file = os.path.join(WORK, "cases.json")
    with open(cases_file, "w") as f:
        json.dump(todo, f)
    r = subprocess.run([binary, "write", cases_file], capture_output=True, text=True)
    written = json.loads(r.stdout)
    for c in todo:
        what = "%s %s" % (c["dtype"], json.dumps(c["codecs"]))
        if not check(written[c["dir"]] == "ok", "zarrs could not write %s: %s" % (what, written[c["dir"]])):
            continue
        g = zarrc("get", c["dir"], "--raw")
        if not check(g.returncode == 0, "zarrc read of zarrs' %s failed: %s" % (what, g.stderr.decode())):
            continue
        if lossy(c["codecs"]):
            c["zarrc_read"] = g.stdout.hex()  # compared with zarrs' own reading below
        else:
            check(g.stdout.hex() == c["data"], "zarrc reads zarrs' %s differently:\n  %s\n  %s" %
                  (what, g.stdout.hex(), c["data"]))
        t = small_float_type(c["dtype"])
        if t is not None:
            codes = bytes.fromhex(c["data"])
            j = zarrc("get", c["dir"], "--json")
            got = json.loads(j.stdout)["data"] if j.returncode == 0 else None
            flat = list(flatten(got)) if got else []
            bad = [(g, "0x%02x" % k) for g, k in zip(flat, codes) if not json_matches_code(g, k, t)]
            check(len(flat) == len(codes) and not bad,
                  "zarrc JSON of zarrs' %s does not round-trip through ml_dtypes: %s" % (what, bad[:8]))
        # zarrc writes the same array
        m = c["metadata"]
        cr = zarrc("create", c["zdir"], "--dtype", c["dtype"], "--shape", ",".join(map(str, c["shape"])),
                   "--chunks", ",".join(map(str, c["chunk"])),
                   "--fill-value", json.dumps(m["fill_value"]), "--codecs", json.dumps(m["codecs"]))
        if not check(cr.returncode == 0, "zarrc create %s failed: %s" % (what, cr.stderr.decode())):
            continue
        p = zarrc("put", c["zdir"], "--raw", "-", stdin=bytes.fromhex(c["data"]))
        check(p.returncode == 0, "zarrc write of %s failed: %s" % (what, p.stderr.decode()))
    readable = [dict(dir=c["zdir"]) for c in todo if os.path.exists(os.path.join(c["zdir"], "zarr.json"))]
    with open(cases_file, "w") as f:
        json.dump(readable, f)
    r = subprocess.run([binary, "read", cases_file], capture_output=True, text=True)
    got = json.loads(r.stdout)
    with open(cases_file, "w") as f:
        json.dump([dict(dir=c["dir"]) for c in todo], f)
    own = json.loads(subprocess.run([binary, "read", cases_file], capture_output=True, text=True).stdout)
    known = 0
    for c in todo:
        what = "%s %s" % (c["dtype"], json.dumps(c["codecs"]))
        if c["zdir"] not in got:
            continue
        # zarrc stores the very bytes zarrs stores, chunk for chunk
        chunks = sorted(os.path.relpath(os.path.join(d, f), c["dir"]) for d, _, fs in os.walk(c["dir"])
                        for f in fs if f != "zarr.json")
        for k in chunks:
            p = os.path.join(c["zdir"], k)
            with open(os.path.join(c["dir"], k), "rb") as f1:
                a = f1.read()
            b = open(p, "rb").read() if os.path.exists(p) else None
            check(a == b, "%s: chunk %s differs from zarrs' (%s vs %s)" % (what, k, a.hex()[:60], b and b.hex()[:60]))
        bug = KNOWN_ZARRS_BUGS.get(what)
        if bug:
            # zarrs misreads even its own array here: it must read zarrc's identically, and the
            # bug must still be there (else: update KNOWN_ZARRS_BUGS and docs/compatibility.md)
            known += 1
            check(own.get(c["dir"]) != c["data"], "zarrs now reads %s right: remove it from KNOWN_ZARRS_BUGS "
                  "and docs/compatibility.md (%s)" % (what, bug))
            check(got[c["zdir"]] == own.get(c["dir"]), "zarrs reads zarrc's %s unlike its own" % what)
            continue
        if lossy(c["codecs"]):
            # the same lossy stream decodes to the same values in both libraries
            check(c.get("zarrc_read") == own.get(c["dir"]), "zarrc reads zarrs' lossy %s unlike zarrs" % what)
            check(got[c["zdir"]] == own.get(c["dir"]), "zarrs reads zarrc's lossy %s unlike its own: %s" %
                  (what, got[c["zdir"]][:200]))
            continue
        check(got[c["zdir"]] == c["data"], "zarrs reads zarrc's %s differently: %s" % (what, got[c["zdir"]][:200]))
    print("known zarrs 0.23.14 decoding bugs checked as such (docs/compatibility.md): %d cases" % known)
    print("interop_zarrs: %d cases (zarrs 0.23.14 <-> zarrc)" % len(todo))
    print("%d passed, %d failed" % (zc.CHECKS - len(zc.FAILURES), len(zc.FAILURES)))
    if not zc.FAILURES:
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1 if zc.FAILURES else 0)


if __name__ == "__main__":
    main()
