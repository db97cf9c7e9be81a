#!/usr/bin/python3
"""v3 interop between zarrc and zarrita 0.7.5 (the v3 peer), both directions.

usage: run_interop_v3.py ZARRC SHARED_DIR WORKDIR

A. zarrita writes (dtypes x codec pipelines x chunk key encodings x ragged edges x missing
   chunks x 0-d), zarrc reads: `zarrc get --json` must equal what zarrita reads back, element by
   element (NaN == NaN), and what the test meant to write.
B. zarrc writes (`zarrc create --format 3` + `zarrc put --json [--select]`), zarrita reads:
   zarrita's values must equal the intended array (fill value where nothing was written).
C. Groups with attributes, both directions.

Needs Node 20 and zarrita in tests/peers/node_modules (`make check` installs it); if either is
missing the test FAILS with that advice. SHARED_DIR is not needed here.
"""
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "conformance"))
import zarrc_harness as H  # noqa: E402

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]
NUMERIC = [d for d in DTYPES if d != "bool"]
ITEMSIZE = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
            "float32": 4, "int64": 8, "uint64": 8, "float64": 8}
NP = {"bool": np.bool_, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
      "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
      "float32": np.float32, "float64": np.float64}
V2STR = {"bool": "|b1", "int8": "|i1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
         "uint8": "|u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8", "float32": "<f4",
         "float64": "<f8"}

SHAPE2, CHUNKS2 = [13, 7], [5, 3]        # ragged in both dimensions
SHAPE3, CHUNKS3 = [5, 6, 7], [2, 4, 3]


# ------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------

def gen_values(dtype, n, seed=0):
    """Deterministic values covering each type's extremes (JSON-style: NaN etc. as strings)."""
    x = (seed * 7919 + 12345) & 0xFFFFFFFF
    out = []
    if dtype == "bool":
        for i in range(n):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            out.append(bool((x >> 7) & 1))
        return out
    if dtype in ("float32", "float64"):
        specials = ["NaN", "Infinity", "-Infinity", -0.0, 0.0, 1.5, -2.25,
                    float(np.finfo(NP[dtype]).max), float(np.finfo(NP[dtype]).tiny),
                    float(np.finfo(NP[dtype]).smallest_subnormal)]
        for i in range(n):
            if i < len(specials) and seed % 2 == 0:
                out.append(specials[i])
                continue
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            v = (x % 200001 - 100000) / 64.0 + i * 0.001
            out.append(float(NP[dtype](v)))
        return out
    info = np.iinfo(NP[dtype])
    lo, hi = int(info.min), int(info.max)
    specials = [lo, hi, 0, 1, lo + 1, hi - 1] + ([-1] if lo < 0 else [])
    for i in range(n):
        if i < len(specials) and seed % 2 == 0:
            out.append(specials[i])
            continue
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out.append(lo + (x % (hi - lo + 1)))
    return out


def wire(dtype, v):
    """Value as zarrita_peer.mjs wants it (64-bit ints as strings, -0.0 as "-0")."""
    if dtype in ("int64", "uint64"):
        return str(v)
    if dtype.startswith("float") and isinstance(v, float):
        if v == 0.0 and math.copysign(1.0, v) < 0:
            return "-0"
    return v


def prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def sel_string(sel):
    return ",".join("%d:%d" % (a, b) for a, b in sel)


def scatter(full, shape, sel, values):
    idx, _ = H.selection_indices(shape, sel)
    assert len(idx) == len(values)
    for i, v in zip(idx, values):
        full[i] = v


# ------------------------------------------------------------------------------------------
# Codec pipelines (v3 spelling)
# ------------------------------------------------------------------------------------------

def b(endian="little"):
    return {"name": "bytes", "configuration": {"endian": endian}}


def blosc(cname, shuffle, typesize, clevel=5):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": clevel,
                                               "shuffle": shuffle, "typesize": typesize,
                                               "blocksize": 0}}


def zstd(level=3, checksum=False):
    return {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}


def transpose(order):
    return {"name": "transpose", "configuration": {"order": order}}


def delta(dtype, spelling="v2"):
    return {"name": "numcodecs.delta",
            "configuration": {"dtype": V2STR[dtype] if spelling == "v2" else dtype}}


def nshuffle(dtype):
    return {"name": "numcodecs.shuffle", "configuration": {"elementsize": ITEMSIZE[dtype]}}


LZ4 = {"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}
GZIP = {"name": "gzip", "configuration": {"level": 5}}
ZLIB = {"name": "numcodecs.zlib", "configuration": {"level": 1}}
CRC32C = {"name": "crc32c"}


def fill_for(dtype, variant=0):
    if dtype == "bool":
        return True
    if dtype == "float64":
        return "NaN" if variant == 0 else -1.25
    if dtype == "float32":
        return -1.25 if variant == 0 else "Infinity"
    return 42


# ------------------------------------------------------------------------------------------
# A. zarrita writes, zarrc reads
# ------------------------------------------------------------------------------------------

def zarrita_cases():
    cases = []

    def add(path, dtype, shape, chunks, codecs, fill=None, write_select=None, seed=0, **kw):
        c = {"path": path, "dtype": dtype, "shape": shape, "chunks": chunks, "codecs": codecs}
        if fill is not None:
            c["fill_value"] = wire(dtype, fill)
        wshape = [e - s for s, e in write_select] if write_select else shape
        vals = gen_values(dtype, prod(wshape), seed)
        c["values"] = [wire(dtype, v) for v in vals]
        if write_select:
            c["write_select"] = write_select
        c.update(kw)
        # What the array must contain afterwards.
        expected = [fill if fill is not None else default_of(dtype)] * prod(shape)
        if write_select:
            scatter(expected, shape, sel_string(write_select), vals)
        else:
            expected = vals
        c["_expected"] = expected
        cases.append(c)

    for dt in DTYPES:
        isz = ITEMSIZE[dt]
        add("a/%s/bytes_le" % dt, dt, SHAPE2, CHUNKS2, [b()], fill_for(dt))
        # zarrita 0.7.5 byte-swaps bool in 4-byte groups for endian "big" (a peer bug): bool
        # arrays use "little" wherever the peer encodes or decodes them.
        big = "little" if dt == "bool" else "big"
        add("a/%s/bytes_be_missing" % dt, dt, SHAPE2, CHUNKS2, [b(big)], fill_for(dt),
            write_select=[[0, 9], [0, 7]], seed=1)
        add("a/%s/transpose" % dt, dt, SHAPE2, CHUNKS2, [transpose([1, 0]), b()], fill_for(dt, 1))
        add("a/%s/blosc_lz4" % dt, dt, SHAPE2, CHUNKS2, [b(), blosc("lz4", "shuffle", isz)],
            fill_for(dt))
        add("a/%s/zstd" % dt, dt, SHAPE2, CHUNKS2, [b(), zstd()], fill_for(dt), seed=3)
        add("a/%s/lz4" % dt, dt, SHAPE2, CHUNKS2, [b(), LZ4], fill_for(dt))
        add("a/%s/shuffle_zstd" % dt, dt, SHAPE2, CHUNKS2, [b(), nshuffle(dt), zstd(1)],
            fill_for(dt), seed=5)
        if dt != "bool":
            # float delta is lossy (rounding, inf - inf): compared with zarrita only
            add("a/%s/delta" % dt, dt, SHAPE2, CHUNKS2,
                [delta(dt, "v2" if isz > 1 else "v3"), b(), zstd()], fill_for(dt), seed=1,
                lossy=dt.startswith("float"))
        add("a/%s/gzip" % dt, dt, SHAPE2, CHUNKS2, [b(), GZIP], fill_for(dt),
            write_select=[[5, 13], [3, 7]], seed=2, gzip_zlib_encoders=True)
        add("a/%s/zlib" % dt, dt, SHAPE2, CHUNKS2, [b(big), ZLIB], fill_for(dt, 1),
            gzip_zlib_encoders=True)

    # transpose permutations in 3-D
    for dt in ["int32", "float64", "uint8"]:
        for perm in ([2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0], [0, 1, 2]):
            add("a/t3/%s_%s" % (dt, "".join(map(str, perm))), dt, SHAPE3, CHUNKS3,
                [transpose(perm), b("big" if perm[0] == 1 else "little")], fill_for(dt))
    add("a/t3/float32_201_blosc", "float32", SHAPE3, CHUNKS3,
        [transpose([2, 0, 1]), b("big"), blosc("zstd", "bitshuffle", 4)], fill_for("float32"),
        write_select=[[0, 4], [2, 6], [0, 7]])

    # blosc inner compressors x (v3 string) shuffles; zarrita ignores the shuffle on encode
    for cname in ["lz4", "lz4hc", "blosclz", "zstd", "zlib"]:
        for sh in ["noshuffle", "shuffle", "bitshuffle"]:
            add("a/blosc/int16_%s_%s" % (cname, sh), "int16", SHAPE2, CHUNKS2,
                [b(), blosc(cname, sh, 2)], 42, seed=7)
    # numcodecs.blosc with numeric shuffle: zarrita really shuffles here
    for sh in [0, 1, 2]:
        for dt in ["int32", "float64"]:
            add("a/blosc/nc_%s_shuffle%d" % (dt, sh), dt, SHAPE2, CHUNKS2,
                [b(), {"name": "numcodecs.blosc",
                       "configuration": {"cname": "lz4", "clevel": 5, "shuffle": sh,
                                         "blocksize": 0}}], fill_for(dt), seed=sh)

    # chunk key encodings, with missing chunks
    for dt in ["int16", "float32", "bool"]:
        for enc, sep in [("default", "/"), ("default", "."), ("v2", "."), ("v2", "/")]:
            add("a/keys/%s_%s_%s" % (dt, enc, "dot" if sep == "." else "slash"), dt, SHAPE2,
                CHUNKS2, [b()], fill_for(dt), write_select=[[5, 13], [3, 7]],
                separator=sep, key_encoding=enc)

    # 0-d arrays and 1-D with holes
    for dt in ["int32", "float64", "bool", "uint64"]:
        add("a/scalar/%s" % dt, dt, [], [], [b()], fill_for(dt), seed=1)
    add("a/1d/int64_holes", "int64", [100], [7], [b(), zstd()], -3,
        write_select=[[20, 45]], seed=1)
    add("a/1d/uint32_single_chunk", "uint32", [10], [10], [b(), blosc("lz4", "shuffle", 4)], 0)

    # no fillValue: zarrita writes "fill_value": null (invalid v3; zarrc reads it as 0)
    for dt in ["int32", "float64"]:
        add("a/nullfill/%s" % dt, dt, SHAPE2, CHUNKS2, [b()], None,
            write_select=[[0, 5], [0, 7]])

    for c in cases:
        c.setdefault("attributes", {"case": c["path"]})
    return cases


def default_of(dtype):
    return False if dtype == "bool" else 0.0 if dtype.startswith("float") else 0


# ------------------------------------------------------------------------------------------
# B. zarrc writes, zarrita reads
# ------------------------------------------------------------------------------------------

def zarrc_cases():
    cases = []

    def add(path, dtype, shape, chunks, codecs, fill, puts=None, seed=0, separator=None,
            lossy=False, key_encoding=None):
        """puts: list of (selection string or None, seed)."""
        c = {"path": path, "dtype": dtype, "shape": shape, "chunks": chunks, "codecs": codecs,
             "fill": fill, "separator": separator, "lossy": lossy, "puts": [],
             "key_encoding": key_encoding}
        expected = [fill] * prod(shape)
        for sel, s in (puts if puts is not None else [(None, seed)]):
            if sel is None:
                n = prod(shape)
                vals = gen_str(n, s) if dtype == "string" else gen_values(dtype, n, s)
                expected = list(vals)
            else:
                idx, _ = H.selection_indices(shape, sel)
                vals = gen_str(len(idx), s) if dtype == "string" else gen_values(dtype, len(idx), s)
                for i, v in zip(idx, vals):
                    expected[i] = v
            c["puts"].append((sel, vals))
        c["_expected"] = expected
        cases.append(c)

    for dt in DTYPES:
        isz = ITEMSIZE[dt]
        f = fill_for(dt)
        add("b/%s/bytes_le" % dt, dt, SHAPE2, CHUNKS2, [b()], f)
        big = "little" if dt == "bool" else "big"   # see the zarrita bool note in part A
        add("b/%s/bytes_be_partial" % dt, dt, SHAPE2, CHUNKS2, [b(big)], f,
            puts=[("0:9,:", 1)])
        add("b/%s/transpose" % dt, dt, SHAPE2, CHUNKS2, [transpose([1, 0]), b()], fill_for(dt, 1),
            seed=2)
        add("b/%s/blosc_lz4_shuffle" % dt, dt, SHAPE2, CHUNKS2, [b(), blosc("lz4", "shuffle", isz)],
            f)
        add("b/%s/zstd_checksum" % dt, dt, SHAPE2, CHUNKS2, [b(), zstd(3, True)], f, seed=3)
        add("b/%s/gzip" % dt, dt, SHAPE2, CHUNKS2, [b(), GZIP], f, puts=[("2:13,1:7", 4)])
        add("b/%s/zstd_crc32c" % dt, dt, SHAPE2, CHUNKS2, [b(), zstd(1), CRC32C], f, seed=5)
        add("b/%s/zlib" % dt, dt, SHAPE2, CHUNKS2, [b(big), ZLIB], f, seed=6)
        add("b/%s/lz4" % dt, dt, SHAPE2, CHUNKS2, [b(), LZ4], f, seed=7)
        add("b/%s/shuffle_gzip" % dt, dt, SHAPE2, CHUNKS2, [b(), nshuffle(dt), GZIP], f, seed=8)
        if dt != "bool":
            add("b/%s/delta" % dt, dt, SHAPE2, CHUNKS2, [delta(dt), b(), zstd()], f, seed=9,
                lossy=dt.startswith("float"))

    for cname in ["lz4", "lz4hc", "blosclz", "zstd", "zlib"]:
        for sh in ["noshuffle", "shuffle", "bitshuffle"]:
            add("b/blosc/int32_%s_%s" % (cname, sh), "int32", SHAPE2, CHUNKS2,
                [b(), blosc(cname, sh, 4, clevel=3)], 7, seed=11)
            add("b/blosc/float64_%s_%s" % (cname, sh), "float64", SHAPE2, CHUNKS2,
                [b("big"), blosc(cname, sh, 8, clevel=9)], "NaN", puts=[("4:12,0:5", 12)])

    add("b/zstd/float32_nochecksum", "float32", SHAPE2, CHUNKS2, [b(), zstd(5, False)], 0.0)
    add("b/crc32c/uint16_only", "uint16", SHAPE2, CHUNKS2, [b(), CRC32C], 3)
    add("b/crc32c/int64_gzip_crc", "int64", SHAPE2, CHUNKS2, [b("big"), GZIP, CRC32C], -7)

    for dt in ["int16", "uint64", "float32"]:
        for perm in ([2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0]):
            add("b/t3/%s_%s" % (dt, "".join(map(str, perm))), dt, SHAPE3, CHUNKS3,
                [transpose(perm), b("big" if perm[1] == 2 else "little"), zstd()], fill_for(dt),
                puts=[("1:5,0:5,2:7", 13)])

    for sep in ["/", "."]:
        for dt in ["int8", "float64"]:
            add("b/keys/%s_%s" % (dt, "slash" if sep == "/" else "dot"), dt, SHAPE2, CHUNKS2,
                [b()], fill_for(dt), separator=sep, puts=[("5:13,0:4", 14)])

    # v3 "v2" chunk key encoding: `zarrc create` only makes the default encoding, so the
    # document is switched to "v2" before zarrc writes any chunk
    for sep in [".", "/"]:
        add("b/keys/uint16_v2_%s" % ("slash" if sep == "/" else "dot"), "uint16", SHAPE2,
            CHUNKS2, [b(), zstd()], 9, key_encoding={"name": "v2",
                                                     "configuration": {"separator": sep}},
            puts=[("0:9,2:7", 15)])

    # partial writes: overlapping puts, strided put, integer index put
    add("b/partial/int32_overlap", "int32", SHAPE2, CHUNKS2, [b(), zstd()], -1,
        puts=[("0:8,0:5", 21), ("6:13,2:7", 22), ("7,:", 23)])
    add("b/partial/float64_strided", "float64", SHAPE2, CHUNKS2, [b(), blosc("lz4", "shuffle", 8)],
        "NaN", puts=[("::2,1:6", 24), ("1:13:4,::3", 25)])
    add("b/partial/uint8_corner", "uint8", [100, 3], [9, 2], [b(), GZIP], 255,
        puts=[("90:100,2:3", 26)])

    # 0-d
    for dt in ["int32", "float64", "bool"]:
        add("b/scalar/%s" % dt, dt, [], [], [b()], fill_for(dt), seed=27)

    # bitround (lossy on encode; zarrita's decode is the identity)
    add("b/lossy/float32_bitround", "float32", SHAPE2, CHUNKS2,
        [{"name": "bitround", "configuration": {"keepbits": 6}}, b(), zstd()], 0.0, seed=1,
        lossy=True)

    # sharding (index at the end, which zarrita reads): several inner pipelines, ragged shards
    # and inner chunks, partial writes that leave inner chunks and whole shards empty
    def shard(inner, codecs, loc="end"):
        return {"name": "sharding_indexed",
                "configuration": {"chunk_shape": inner, "codecs": codecs,
                                  "index_codecs": [b(), CRC32C], "index_location": loc}}

    for name, inner in [("bytes", [b()]), ("zstd", [b(), zstd()]),
                        ("blosc", [b(), blosc("lz4", "shuffle", 4)]), ("gzip", [b(), GZIP]),
                        ("transpose_zstd", [transpose([1, 0]), b(), zstd()]),
                        ("big_crc32c", [b("big"), CRC32C])]:
        add("b/shard/int32_%s" % name, "int32", [13, 11], [8, 6], [shard([4, 3], inner)], -1,
            puts=[(None, 31), ("1:9,2:10", 32)])
    add("b/shard/float64_sparse", "float64", [13, 11], [8, 6], [shard([2, 3], [b(), zstd()])],
        "NaN", puts=[("3:5,4:8", 33)])
    add("b/shard/uint16_3d", "uint16", SHAPE3, [4, 4, 4], [shard([2, 2, 4], [b(), zstd(5)])], 0,
        puts=[(None, 34), ("1:3,:,2:5", 35)])
    # (a transpose before sharding_indexed is valid v3, but zarrita 0.7.5 cannot read it: that
    # path is covered by tests/api/test_sharding.c)
    add("b/shard/string", "string", [7, 5], [4, 4], [shard([2, 2], [{"name": "vlen-utf8"}, zstd()])],
        "", seed=37)

    # variable-length strings
    add("b/str/vlen", "string", [9], [4], [{"name": "vlen-utf8"}], "")
    add("b/str/vlen_zstd_2d", "string", [5, 3], [2, 2], [{"name": "vlen-utf8"}, zstd()], "",
        seed=1)
    add("b/str/vlen_gzip_partial", "string", [11], [3], [{"name": "vlen-utf8"}, GZIP], "n/a",
        puts=[("2:7", 2)])
    add("b/str/vlen_crc32c", "string", [6], [6], [{"name": "vlen-utf8"}, CRC32C], "", seed=3)
    return cases


STRINGS = ["", "a", "hello", "héllo wörld", "世界", "🚀🎉", "Ñoño", "tab\tand\nnewline",
           "quote\"back\\slash", "x" * 300, "ünïcödé ✓", "\u0000inner-nul"]


def gen_str(n, seed):
    return [STRINGS[(i * 5 + seed * 3) % len(STRINGS)] + ("" if i % 4 else str(i))
            for i in range(n)]


# ------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------

def run_node(mode, cases_doc, work, tally):
    cases_file = os.path.join(work, "%s_cases.json" % mode)
    out_file = os.path.join(work, "%s_out.json" % mode)
    with open(cases_file, "w") as f:
        json.dump(cases_doc, f)
    p = subprocess.run(["node", os.path.join(HERE, "zarrita_peer.mjs"), mode, cases_file,
                        out_file], capture_output=True, timeout=120)
    if p.returncode == 3:
        print(p.stderr.decode(errors="replace"))
        tally.fail("zarrita", "zarrita 0.7.5 is not installed in tests/peers/node_modules: "
                   "run `make check` (npm install --prefix tests/peers)")
        return None
    if p.returncode != 0:
        tally.fail("zarrita", "node %s exited %d: %s" % (mode, p.returncode,
                                                       p.stderr.decode(errors="replace")[-2000:]))
        return None
    with open(out_file) as f:
        return json.load(f)


def check_get(z, tally, node, where, dtype, shape, expected, select=None):
    doc, err = z.get_json(node, select)
    if err:
        tally.fail(where, err)
        return
    if not isinstance(doc, dict) or "data" not in doc:
        tally.fail(where, "get --json printed no 'data' member: %s" % H.show(doc, 200))
        return
    probs = []
    if doc.get("shape") != shape:
        probs.append("shape: expected %s, got %s" % (shape, doc.get("shape")))
    if doc.get("dtype") != dtype:
        probs.append("dtype: expected %s, got %s" % (dtype, doc.get("dtype")))
    probs += H.compare_values(dtype, expected, doc["data"])
    tally.check(not probs, where, "; ".join(probs))


def part_a(z, work, tally):
    root = os.path.join(work, "from_zarrita")
    H.fresh_dir(root)
    cases = zarrita_cases()
    groups = [{"path": "", "attributes": {"creator": "zarrita", "n": 3, "nested": {"l": [1, 2.5]},
                                          "unicode": "héllo 世界"}},
              {"path": "grp", "attributes": {"description": "sub group", "empty": {}}},
              {"path": "grp/inner", "attributes": {}}]
    cases.append({"path": "grp/arr", "dtype": "int16", "shape": [4], "chunks": [2],
                  "codecs": [b()], "fill_value": 0, "values": [1, 2, 3, 4],
                  "attributes": {"units": "m"}, "_expected": [1, 2, 3, 4]})
    doc = {"root": root, "arrays": [{k: v for k, v in c.items() if not k.startswith("_")}
                                    for c in cases], "groups": groups}
    out = run_node("write", doc, work, tally)
    if out is None:
        return
    for c in cases:
        where = "zarrita->zarrc %s [%s, codecs %s, fill %s]" % (
            c["path"], c["dtype"], json.dumps(c["codecs"]), json.dumps(c.get("fill_value")))
        r = out.get(c["path"], {"error": "no result"})
        if "error" in r:
            tally.fail(where, "peer could not write/read it: %s" % r["error"])
            continue
        # zarrita must agree with itself (else the comparison below proves nothing)
        probs = [] if c.get("lossy") else H.compare_values(c["dtype"], c["_expected"], r["data"])
        if probs:
            tally.fail(where, "zarrita's own read-back differs from what was written: "
                       + "; ".join(probs))
            continue
        node = os.path.join(root, c["path"])
        check_get(z, tally, node, where, c["dtype"], c["shape"], r["data"])
        if c["shape"] == SHAPE2 and c["path"].endswith("bytes_le"):
            for sel in ["2:11,1:6", "4,:", "::3,-1", "12,6"]:
                exp, eshape = H.take(r["data"], SHAPE2, sel)
                check_get(z, tally, node, where + " --select " + sel, c["dtype"], eshape, exp,
                          select=sel)
        info, res = z.info_json(node)
        if info is None:
            tally.fail(where + " info", res.describe())
        else:
            attrs, found = H.find_key(info, "attributes")
            tally.check(found and attrs == c["attributes"], where + " info attributes",
                        "expected %s, got %s" % (c["attributes"], H.show(attrs, 200)))
    for g in groups:
        where = "zarrita->zarrc group '%s'" % g["path"]
        node = os.path.join(root, g["path"]) if g["path"] else root
        info, res = z.info_json(node)
        if info is None:
            tally.fail(where, res.describe())
            continue
        attrs, found = H.find_key(info, "attributes")
        tally.check(found and attrs == g["attributes"], where,
                    "attributes: expected %s, got %s" % (g["attributes"], H.show(attrs, 200)))
    r = z.run("ls", os.path.join(root, "grp"))
    listing = r.out.decode("utf-8", "replace")
    tally.check(r.rc == 0 and "arr" in listing and "inner" in listing, "zarrita->zarrc ls grp",
                "%s; output %r" % (r.describe(), listing[:300]))


def json_value(dtype, v):
    """Value as `zarrc put --json` takes it (get --json form)."""
    return v


def part_b(z, work, tally):
    root = os.path.join(work, "from_zarrc")
    H.fresh_dir(root)
    group_attrs = {"creator": "zarrc", "nested": {"list": [1, 2, 3], "pi": 3.25},
                   "unicode": "naïve – 世界 🚀", "empty": [], "null": None}
    r = z.run("create", root, "--group", "--format", "3", "--attrs", json.dumps(group_attrs))
    if not tally.check(r.rc == 0, "zarrc create root group", r.describe()):
        return
    sub_attrs = {"level": 1}
    r = z.run("create", os.path.join(root, "sub"), "--group", "--format", "3", "--attrs",
              json.dumps(sub_attrs))
    tally.check(r.rc == 0, "zarrc create sub group", r.describe())
    for sub in ["b", "b/str", "b/blosc", "b/zstd", "b/crc32c", "b/t3", "b/keys", "b/partial",
                "b/scalar", "b/lossy"] + ["b/" + d for d in DTYPES]:
        z.run("create", os.path.join(root, sub), "--group", "--format", "3")

    cases = zarrc_cases()
    ok_cases = []
    for c in cases:
        where = "zarrc->zarrita %s [%s, codecs %s, fill %s]" % (
            c["path"], c["dtype"], json.dumps(c["codecs"]), json.dumps(c["fill"]))
        c["_where"] = where
        node = os.path.join(root, c["path"])
        args = ["create", node, "--format", "3", "--dtype", c["dtype"],
                "--shape", ",".join(map(str, c["shape"])),
                "--chunks", ",".join(map(str, c["chunks"])),
                "--fill-value", json.dumps(c["fill"]), "--codecs", json.dumps(c["codecs"]),
                "--attrs", json.dumps({"case": c["path"]})]
        if not c["shape"]:
            args[args.index("--shape") + 1] = ""
            args[args.index("--chunks") + 1] = ""
        if c["separator"]:
            args += ["--separator", c["separator"]]
        r = z.run(*args)
        if r.rc != 0:
            tally.fail(where, "create failed: " + r.describe())
            continue
        if c["key_encoding"]:
            meta_file = os.path.join(node, "zarr.json")
            with open(meta_file) as f:
                meta = json.load(f)
            meta["chunk_key_encoding"] = c["key_encoding"]
            with open(meta_file, "w") as f:
                json.dump(meta, f)
        failed = False
        for k, (sel, vals) in enumerate(c["puts"]):
            data_file = os.path.join(work, "put.json")
            with open(data_file, "w") as f:
                json.dump([json_value(c["dtype"], v) for v in vals], f)
            pargs = ["put", node, "--json", data_file]
            if sel:
                pargs[2:2] = ["--select", sel]
            r = z.run(*pargs)
            if r.rc != 0:
                tally.fail(where, "put #%d failed: %s" % (k, r.describe()))
                failed = True
                break
        if failed:
            continue
        if c["lossy"]:
            doc, err = z.get_json(node)
            if err:
                tally.fail(where, err)
                continue
            c["_expected"] = doc["data"]
        else:
            check_get(z, tally, node, where + " (zarrc read-back)", c["dtype"], c["shape"],
                      c["_expected"])
        ok_cases.append(c)

    doc = {"root": root, "arrays": [{"path": c["path"]} for c in ok_cases],
           "groups": [{"path": ""}, {"path": "sub"}]}
    out = run_node("read", doc, work, tally)
    if out is None:
        return
    for c in ok_cases:
        where = c["_where"]
        r = out.get(c["path"], {"error": "no result"})
        if "error" in r:
            tally.fail(where, "zarrita cannot read it: " + r["error"])
            continue
        probs = []
        if r["shape"] != c["shape"]:
            probs.append("shape: expected %s, zarrita got %s" % (c["shape"], r["shape"]))
        if r["dtype"] != c["dtype"]:
            probs.append("dtype: expected %s, zarrita got %s" % (c["dtype"], r["dtype"]))
        probs += H.compare_values(c["dtype"], c["_expected"], r["data"])
        if r.get("attributes") != {"case": c["path"]}:
            probs.append("attributes: zarrita got %s" % H.show(r.get("attributes"), 120))
        tally.check(not probs, where, "; ".join(probs))
    for path, attrs in [("", group_attrs), ("sub", sub_attrs)]:
        r = out.get(path, {"error": "no result"})
        where = "zarrc->zarrita group '%s'" % path
        if "error" in r:
            tally.fail(where, "zarrita cannot open it: " + r["error"])
        else:
            tally.check(r["attributes"] == attrs, where,
                        "attributes: expected %s, zarrita got %s" % (attrs, r["attributes"]))


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    exe, _shared, work = sys.argv[1:]
    H.check_zarrc(exe)
    tally = H.Tally("interop v3 (zarrita 0.7.5)")
    if not shutil.which("node"):
        tally.fail("node", "Node.js is not installed: run `make check` (it installs the peers)")
        return tally.finish()
    peers = os.environ.get("ZARRC_PEERS_DIR", os.path.join(HERE, "..", "peers"))
    if not os.path.exists(os.path.join(peers, "node_modules", "zarrita", "package.json")):
        tally.fail("zarrita", "zarrita 0.7.5 is not installed in %s/node_modules: run `make "
                   "check` (npm install --prefix tests/peers)" % peers)
        return tally.finish()
    work = H.fresh_dir(work)
    z = H.Zarrc(exe)
    part_a(z, work, tally)
    part_b(z, work, tally)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
