"""Interop between zarrc and tensorstore 0.1.86 (drivers zarr3 and zarr), both ways.

usage: PEER_PYTHON run_ts.py zarr3|zarr ZARRC WORKDIR

tensorstore writes (its own metadata from the case), zarrc reads; zarrc writes, tensorstore
reads: every data type and codec tensorstore supports, fill values (NaN payloads, -0.0, 64-bit
extremes), missing chunks, ragged edges, 0-d arrays, sharding (zarr3). Same rules as
tests/interop_zp3 (see peerlib.py). PEER_PYTHON is the venv of tests/peers/requirements.txt.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop_zp3"))
import peerlib as P  # noqa: E402

if len(sys.argv) != 4 or sys.argv[1] not in ("zarr3", "zarr"):
    print(__doc__)
    sys.exit(2)
DRIVER = sys.argv[1]
TALLY = P.start("interop tensorstore 0.1.86 (driver %s)" % DRIVER)

import numpy as np  # noqa: E402
import tensorstore as ts  # noqa: E402

H, Case = P.H, P.Case
SHAPE, CHUNKS = [13, 7], [5, 3]
NUMERIC = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128"]
ITEM = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "float16": 2, "int32": 4,
        "uint32": 4, "float32": 4, "int64": 8, "uint64": 8, "float64": 8, "complex64": 8,
        "complex128": 16}
FILL = {"bool": True, "float16": "NaN", "float32": "0x7fc00001", "float64": -0.0,
        "complex64": [1.5, "NaN"], "complex128": ["Infinity", -2.0], "int64": -9223372036854775808,
        "uint64": 18446744073709551615}


def b(endian="little"):
    return {"name": "bytes", "configuration": {"endian": endian}}


def zstd(level=3, checksum=False):
    return {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}


def blosc(cname, shuffle, typesize):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": 5, "shuffle": shuffle,
                                               "typesize": typesize, "blocksize": 0}}


def shard(inner, codecs, loc):
    return {"name": "sharding_indexed",
            "configuration": {"chunk_shape": inner, "codecs": codecs,
                              "index_codecs": [b(), {"name": "crc32c"}], "index_location": loc}}


GZIP = {"name": "gzip", "configuration": {"level": 5}}
CRC32C = {"name": "crc32c"}


def zarr3_cases():
    cases = []

    def add(name, dtype, codecs, fill=None, shape=SHAPE, chunks=CHUNKS, **kw):
        cases.append(Case(name, dtype, shape, chunks, codecs,
                          FILL.get(dtype, 42) if fill is None else fill, **kw))

    for i, dt in enumerate(NUMERIC):
        add("dt/%s/le" % dt, dt, [b()], core=True, phase=i)
        add("dt/%s/be_zstd_holes" % dt, dt, [b("big"), zstd()], region="2:9,1:5", core=True,
            phase=i + 1)
        add("dt/%s/transpose_gzip" % dt, dt, [{"name": "transpose",
                                               "configuration": {"order": [1, 0]}}, b(), GZIP],
            region="0:13,2:7", phase=i + 2)
        add("dt/%s/blosc_crc32c" % dt, dt, [b(), blosc("lz4", "shuffle", ITEM[dt]), CRC32C],
            phase=i + 3)
        add("dt/%s/scalar" % dt, dt, [b()], [1.5, 2.5] if dt.startswith("complex") else None,
            shape=[], chunks=[])
    for cname in ["lz4", "lz4hc", "blosclz", "zstd", "zlib"]:
        for sh in ["noshuffle", "shuffle", "bitshuffle"]:
            add("codec/blosc_%s_%s" % (cname, sh), "uint16", [b(), blosc(cname, sh, 2)],
                core=cname == "zstd")
    add("codec/zstd_checksum", "int32", [b(), zstd(5, True)], core=True)
    for loc in ["end", "start"]:
        add("shard/%s/zstd" % loc, "int32", [shard([4, 3], [b(), zstd()], loc)], -1,
            shape=[13, 11], chunks=[8, 6], region="1:12,2:10", core=True)
        add("shard/%s/sparse_float64" % loc, "float64", [shard([2, 3], [b("big")], loc)],
            "NaN", shape=[13, 11], chunks=[8, 6], region="3:5,4:8", core=True)
    for enc, sep in [("default", "."), ("v2", "."), ("v2", "/")]:
        add("keys/%s_%s" % (enc, "dot" if sep == "." else "slash"), "int16", [b()],
            region="5:13,3:7", key_encoding={"name": enc, "configuration": {"separator": sep}},
            core=True)
    add("meta/dimension_names", "uint8", [b()], 3, dimension_names=["y", "x"], core=True)
    add("shape/zero_size", "int32", [b()], 0, shape=[0, 4], chunks=[2, 2], core=True)
    return cases


def zarr_cases():
    cases = []

    def add(name, dtype, fill=0, compressor=None, order="C", **kw):
        cases.append(Case(name, dtype, SHAPE if "shape" not in kw else kw.pop("shape"),
                          CHUNKS if "chunks" not in kw else kw.pop("chunks"), None, fill, fmt=2,
                          compressor=compressor, filters=None, order=order, **kw))

    zs = {"id": "zstd", "level": 1}
    # (tensorstore's zarr driver has no U dtype and exposes |S<n> / |V<n> as an extra
    # dimension of bytes: those are exchanged with zarr-python only)
    for i, t in enumerate(["|b1", "|i1", "<i2", ">i2", "<i4", ">u4", "<i8", ">u8", "<f2", ">f4",
                           "<f8", ">f8", "<c8", ">c16"]):
        fill = {"b": True, "f": "NaN", "c": ["NaN", 1.5]}.get(t[1], 42)
        tag = t.replace("<", "le_").replace(">", "be_").replace("|", "")
        add("dt/%s/plain" % tag, t, fill, core=True, phase=i)
        add("dt/%s/zstd_F_holes" % tag, t, fill, zs, order="F", region="2:9,1:5", core=True,
            phase=i + 1)
    for comp in [{"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
                 {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0},
                 {"id": "zlib", "level": 1}, {"id": "bz2", "level": 1},
                 {"id": "zstd", "level": 3}]:
        add("codec/%s_%s" % (comp["id"], comp.get("cname", "")), "<u4", 7, comp, core=True)
    for sep in [".", "/"]:
        add("keys/%s" % ("dot" if sep == "." else "slash"), "<i2", 5, region="5:13,3:7",
            separator=sep, core=True)
    add("shape/scalar", "<f8", 2.5, shape=[], chunks=[], core=True)
    return cases


# ------------------------------------------------------------------------------------------

def kvstore(path):
    return {"driver": "file", "path": path}


def metadata(c):
    if c.fmt == 3:
        m = {"shape": c.shape, "data_type": c.dtype, "fill_value": c.fill, "codecs": c.codecs,
             "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": c.chunks}}}
        if c.key_encoding:
            m["chunk_key_encoding"] = c.key_encoding
        if c.dimension_names:
            m["dimension_names"] = c.dimension_names
        return m
    m = {"shape": c.shape, "chunks": c.chunks, "dtype": c.dtype, "fill_value": c.fill,
         "compressor": c.compressor, "filters": None, "order": c.order}
    if c.separator:
        m["dimension_separator"] = c.separator
    return m


def ts_write(c, path):
    t = ts.open({"driver": DRIVER, "kvstore": kvstore(path), "metadata": metadata(c)},
                create=True, delete_existing=True).result()
    idx, d = c.region_index(), c.data()
    t[idx].write(d).result()


def ts_read(path):
    t = ts.open({"driver": DRIVER, "kvstore": kvstore(path)}, open=True).result()
    return np.asarray(t.read().result())


def main():
    zarrc, work = sys.argv[2], sys.argv[3]
    H.check_zarrc(zarrc)
    work = H.fresh_dir(os.path.abspath(work))
    z = H.Zarrc(zarrc)
    cases = P.sample(zarr3_cases() if DRIVER == "zarr3" else zarr_cases(), "driver " + DRIVER)

    root = H.fresh_dir(os.path.join(work, "ts_wrote"))
    label = "tensorstore->zarrc"
    wrote = []
    for c in cases:
        path = os.path.join(root, c.name)
        try:
            ts_write(c, path)
            got = ts_read(path)
        except Exception as e:
            TALLY.fail("%s %s" % (label, c.describe()), "tensorstore could not write it: %s: %s"
                       % (type(e).__name__, e))
            continue
        if P.peer_readback_ok(TALLY, label, c, got):
            wrote.append(c)
    P.zarrc_check_all(z, wrote, root, TALLY, label)

    root = H.fresh_dir(os.path.join(work, "zarrc_wrote"))
    label = "zarrc->tensorstore"
    for c in P.zarrc_write_all(z, cases, root, work, TALLY, label):
        where = "%s %s" % (label, c.describe())
        try:
            got = ts_read(os.path.join(root, c.name))
        except Exception as e:
            TALLY.fail(where, "tensorstore cannot read it: %s: %s" % (type(e).__name__, e))
            continue
        P.record(TALLY, where, P.compare_arrays("tensorstore vs zarrc's read-back", c,
                                                c._written, got))
    return TALLY.finish()


if __name__ == "__main__":
    sys.exit(main())
