"""Interop between zarrc and zarr-python 3.4 (and zarrs-python's codec pipeline), both ways.

usage: PEER_PYTHON run_zp3.py MODE ZARRC WORKDIR

MODE
  v3      format 3: zarr-python writes, zarrc reads; zarrc writes, zarr-python reads. Every data
          type and codec zarr-python 3.4 has (numcodecs.* included), fill values (NaN payloads,
          64-bit extremes), chunk key encodings, dimension names, attributes, write_empty_chunks
          both ways, 0-d / zero-size arrays, ragged edge chunks, sharding (index start/end,
          nested).
  v2      format 2 the same way (zarr-python 3.4 writes v2 differently from 2.13).
  zarrs   zarr-python with the zarrs codec pipeline (strict: no fallback to zarr-python's
          codecs) reads what zarrc writes, and zarrc reads what it writes.
  groups  hierarchies: groups, attributes and v3/v2 consolidated metadata as zarr-python
          writes and reads them.

PEER_PYTHON is the venv of tests/peers/requirements.txt (`make check` creates it; without it
the test fails). The default run samples the large matrices; ZARRC_PEERS_FULL=1 (`make
check-full`) runs every case.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib as P  # noqa: E402

MODES = ("v3", "v2", "zarrs", "groups")
if len(sys.argv) != 4 or sys.argv[1] not in MODES:
    print(__doc__)
    sys.exit(2)
MODE = sys.argv[1]
TALLY = P.start("interop zarr-python 3.4 (%s)" % MODE)

import numcodecs  # noqa: E402
import numpy as np  # noqa: E402
import zarr  # noqa: E402

H, C, Case = P.H, P.C, P.Case

ZARRS_CONFIG = {"codec_pipeline.path": "zarrs.ZarrsCodecPipeline", "codec_pipeline.strict": True}


# ------------------------------------------------------------------------------------------
# Codecs (v3 spelling)
# ------------------------------------------------------------------------------------------

def b(endian="little"):
    return {"name": "bytes", "configuration": {"endian": endian}}


def zstd(level=3, checksum=False):
    return {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}


def blosc(cname, shuffle, typesize, clevel=5, blocksize=0):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": clevel,
                                               "shuffle": shuffle, "typesize": typesize,
                                               "blocksize": blocksize}}


def gzip(level=5):
    return {"name": "gzip", "configuration": {"level": level}}


def transpose(order):
    return {"name": "transpose", "configuration": {"order": list(order)}}


def nc(name, **conf):
    return {"name": "numcodecs." + name, "configuration": conf}


def shard(inner_shape, codecs, location="end", index_codecs=None):
    return {"name": "sharding_indexed",
            "configuration": {"chunk_shape": list(inner_shape), "codecs": codecs,
                              "index_codecs": index_codecs or [b(), CRC32C],
                              "index_location": location}}


CRC32C = {"name": "crc32c"}
VLEN_UTF8 = {"name": "vlen-utf8"}
VLEN_BYTES = {"name": "vlen-bytes"}

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float16", "float32", "float64"]
ITEM = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "float16": 2, "int32": 4,
        "uint32": 4, "float32": 4, "int64": 8, "uint64": 8, "float64": 8, "complex64": 8,
        "complex128": 16}
TYPESTR = {"bool": "|b1", "int8": "|i1", "uint8": "|u1", "int16": "<i2", "uint16": "<u2",
           "int32": "<i4", "uint32": "<u4", "int64": "<i8", "uint64": "<u8", "float16": "<f2",
           "float32": "<f4", "float64": "<f8", "complex64": "<c8", "complex128": "<c16"}


def dt64(unit, scale=1, kind="datetime64"):
    return {"name": "numpy." + kind, "configuration": {"unit": unit, "scale_factor": scale}}


FIXED_SPECIALS = [
    ({"name": "fixed_length_utf32", "configuration": {"length_bytes": 12}}, "ab"),
    ({"name": "null_terminated_bytes", "configuration": {"length_bytes": 5}}, "eno="),
    ({"name": "raw_bytes", "configuration": {"length_bytes": 3}}, "AQID"),
]
TIME_TYPES = [(dt64("ns"), 0), (dt64("ms", 10), -5), (dt64("D"), "NaT"), (dt64("s", 7), 86400),
              (dt64("us", kind="timedelta64"), 17), (dt64("h", 3, "timedelta64"), "NaT"),
              (dt64("ps", kind="timedelta64"), -1)]
VLEN = [("string", VLEN_UTF8, "n/a"), ("variable_length_bytes", VLEN_BYTES, "eHk=")]

SHAPE, CHUNKS = [13, 7], [5, 3]            # ragged edge chunks in both dimensions


def default_fill(dtype):
    n = dtype["name"] if isinstance(dtype, dict) else dtype
    return {"bool": True, "float16": -1.5, "float32": "NaN", "float64": "-Infinity",
            "complex64": [1.5, "NaN"], "complex128": ["Infinity", -0.0]}.get(n, 42)


# ------------------------------------------------------------------------------------------
# The format 3 matrix
# ------------------------------------------------------------------------------------------

def v3_cases():
    cases = []

    def add(name, dtype, codecs, fill=None, shape=SHAPE, chunks=CHUNKS, **kw):
        cases.append(Case(name, dtype, shape, chunks, codecs,
                          default_fill(dtype) if fill is None else fill, **kw))

    numeric = ["bool"] + INTS + FLOATS + ["complex64", "complex128"]
    # every data type: plain, big-endian with holes (missing chunks), compressed, 0-d
    for i, dt in enumerate(numeric):
        add("dt/%s/le" % dt, dt, [b()], core=True, phase=i, attributes={"dtype": dt})
        add("dt/%s/be_holes" % dt, dt, [b("big"), zstd()], region="2:9,1:5", core=True,
            phase=i + 1)
        add("dt/%s/blosc" % dt, dt, [b(), blosc("lz4", "shuffle", ITEM[dt])], phase=i + 2)
        # (complex fills without NaN here: zarr-python drops a chunk whose values have a NaN
        # part where the fill has one, see docs/compatibility.md)
        add("dt/%s/scalar" % dt, dt, [b("big")], [1.5, -2.0] if dt.startswith("complex") else
            None, shape=[], chunks=[], phase=i)
    for dtype, fill in FIXED_SPECIALS:
        n = dtype["name"]
        add("dt/%s/le" % n, dtype, [b()], fill, core=True)
        add("dt/%s/be_holes_zstd" % n, dtype, [b("big"), zstd()], fill, region="4:13,0:6",
            core=True, phase=2)
    for k, (dtype, fill) in enumerate(TIME_TYPES):
        tag = "%s_%s%d" % (dtype["name"][6:], dtype["configuration"]["unit"],
                           dtype["configuration"]["scale_factor"])
        add("dt/%s/le" % tag, dtype, [b()], fill, core=k < 3, phase=k)
        add("dt/%s/be_holes" % tag, dtype, [b("big"), gzip(1)], fill, region="0:5,2:7",
            core=k < 3, phase=k + 1)
    for n, ser, fill in VLEN:
        add("dt/%s/plain" % n, n, [ser], fill, core=True)
        add("dt/%s/zstd_holes" % n, n, [ser, zstd()], fill, region="3:11,2:6", core=True,
            phase=3)
        add("dt/%s/gzip_crc32c" % n, n, [ser, gzip(), CRC32C], fill, phase=5)
        # zarr-python 3.4 cannot write a 0-d variable_length_bytes array (TypeError)
        add("dt/%s/scalar" % n, n, [ser], fill, shape=[], chunks=[],
            only="zarrc" if n == "variable_length_bytes" else None)
        add("dt/%s/sharded" % n, n, [shard([2, 2], [ser, zstd(1)])], fill, shape=[7, 5],
            chunks=[4, 4], region="0:6,1:5", phase=7)

    # codecs, over a few data types
    for dt in ["int16", "float32", "uint64"]:
        isz = ITEM[dt]
        for cname in ["lz4", "lz4hc", "blosclz", "zstd", "zlib"]:
            for sh in ["noshuffle", "shuffle", "bitshuffle"]:
                add("codec/blosc/%s_%s_%s" % (dt, cname, sh), dt,
                    [b(), blosc(cname, sh, isz, clevel=3)], core=(cname == "lz4"))
        add("codec/blosc/%s_blocksize" % dt, dt, [b("big"), blosc("zstd", "shuffle", isz, 9, 16)])
        for level in [0, 1, 9]:
            add("codec/gzip/%s_%d" % (dt, level), dt, [b("big"), gzip(level)], core=level == 1)
        for level, cs in [(0, False), (3, True), (-1, True), (19, False)]:
            add("codec/zstd/%s_%d_%s" % (dt, level, cs), dt, [b(), zstd(level, cs)],
                core=cs and level == 3)
        add("codec/crc32c/%s" % dt, dt, [b(), CRC32C], core=True)
        add("codec/crc32c/%s_zstd_crc" % dt, dt, [b("big"), zstd(), CRC32C])
        add("codec/transpose/%s_10" % dt, dt, [transpose([1, 0]), b(), zstd()], core=True)
        for perm in ([2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0]):
            add("codec/transpose/%s_%s" % (dt, "".join(map(str, perm))), dt,
                [transpose(perm), b("big" if perm[0] == 1 else "little"), gzip(1)],
                shape=[5, 6, 7], chunks=[2, 4, 3], region="1:5,0:5,2:7")
        # numcodecs.* (the v3 spelling of the v2 codecs)
        for cname, conf in [("zlib", {"level": 1}), ("gzip", {"level": 3}), ("bz2", {"level": 1}),
                            ("lzma", {"preset": 1}), ("lz4", {"acceleration": 1}),
                            ("zstd", {"level": 2}), ("adler32", {}), ("crc32", {}),
                            ("crc32c", {}), ("fletcher32", {}),
                            ("blosc", {"cname": "zstd", "clevel": 3, "shuffle": 2,
                                       "blocksize": 0})]:
            add("codec/numcodecs/%s_%s" % (dt, cname), dt, [b(), nc(cname, **conf)],
                core=dt == "int16")
        add("codec/numcodecs/%s_jenkins_lookup3" % dt, dt, [b(), nc("jenkins_lookup3")],
            core=dt == "int16", refused={"zarrc": "numcodecs.jenkins_lookup3"})
        add("codec/numcodecs/%s_shuffle" % dt, dt, [b(), nc("shuffle", elementsize=isz), zstd()],
            core=dt == "int16")
        add("codec/numcodecs/%s_delta" % dt, dt, [nc("delta", dtype=TYPESTR[dt]), b(), zstd()],
            lossy=dt.startswith("float"), core=dt == "int16")
    # (values within int32 after scaling: out-of-range values are encoded differently by
    # numcodecs, zarrs and zarrc)
    add("codec/numcodecs/float64_fixedscaleoffset", "float64",
        [nc("fixedscaleoffset", offset=1000, scale=10, dtype="<f8", astype="<i4"), b()], 0.0,
        lossy=True, core=True, data=np.linspace(-5e4, 5e4, 91).reshape(SHAPE))
    add("codec/numcodecs/float32_quantize", "float32",
        [nc("quantize", digits=3, dtype="<f4"), b(), zstd()], 0.0, lossy=True, core=True)
    add("codec/numcodecs/float64_bitround", "float64", [nc("bitround", keepbits=9), b()], 0.0,
        lossy=True)
    add("codec/numcodecs/float64_astype", "float64",
        [nc("astype", encode_dtype="<f4", decode_dtype="<f8"), b()], 0.0, lossy=True)
    add("codec/numcodecs/bool_packbits", "bool", [nc("packbits"), b(), gzip()], False, core=True)
    # zarr-python knows only "numcodecs.bitround" (zarrc writes that name)
    add("codec/bitround/float32", "float32", [{"name": "bitround",
                                               "configuration": {"keepbits": 6}}, b(), zstd()],
        0.0, lossy=True, refused={"zarr-python": "bitround"})

    # sharding
    for loc in ["end", "start"]:
        for tag, inner in [("bytes", [b()]), ("zstd", [b("big"), zstd(1, True)]),
                           ("blosc", [b(), blosc("lz4", "bitshuffle", 4)]),
                           ("transpose_gzip", [transpose([1, 0]), b(), gzip(1)]),
                           ("crc32c", [b(), CRC32C])]:
            add("shard/%s/int32_%s" % (loc, tag), "int32", [shard([4, 3], inner, loc)],
                -1, shape=[13, 11], chunks=[8, 6], region="1:12,2:10", core=tag == "zstd")
        add("shard/%s/float64_sparse" % loc, "float64", [shard([2, 3], [b(), zstd()], loc)],
            "NaN", shape=[13, 11], chunks=[8, 6], region="3:5,4:8", core=True)
        add("shard/%s/uint16_index_nocrc" % loc, "uint16",
            [shard([2, 2, 4], [b()], loc, index_codecs=[b("big")])], 7, shape=[5, 6, 7],
            chunks=[4, 4, 4], region="1:3,:,2:5")
        add("shard/%s/nested" % loc, "int16",
            [shard([4, 4], [shard([2, 2], [b(), zstd()], loc)], loc)], 5, shape=[17, 9],
            chunks=[8, 8], region="0:15,1:9", core=True)
        add("shard/%s/compressed_shard" % loc, "uint8", [shard([3, 3], [b()], loc), gzip()], 0,
            shape=[10, 10], chunks=[6, 6])
        add("shard/%s/transpose_outside" % loc, "int32",
            [transpose([1, 0]), shard([3, 2], [b(), zstd()], loc)], 3, shape=[9, 8],
            chunks=[4, 6], region="2:9,0:5", core=True,
            refused={"zarr-python": "sharding_indexed"})  # inner chunks vs untransposed shard

    # fill values: NaN payloads, signed zero, infinities, 64-bit extremes, complex, NaT
    for dt, fills in [("float16", ["0x7e01", "0xfc00", -0.0, 65504.0]),
                      ("float32", ["0x7fc00001", "0xffc00000", "-Infinity", -0.0, 1e-45]),
                      ("float64", ["0x7ff8000000000001", "NaN", "Infinity", -0.0,
                                   1.7976931348623157e308]),
                      ("int64", [-9223372036854775808, 9223372036854775807]),
                      ("uint64", [18446744073709551615, 9223372036854775808]),
                      ("int8", [-128]), ("uint32", [4294967295]),
                      ("complex64", [["NaN", "Infinity"], ["0x7fc00001", -0.0]]),
                      ("complex128", [[-0.0, "-Infinity"]]), ("bool", [False])]:
        for k, f in enumerate(fills):
            add("fill/%s_%d" % (dt, k), dt, [b()], f, region="0:5,0:3", core=True)
    add("fill/datetime_nat", dt64("ns"), [b()], "NaT", region="6:13,0:7", core=True)

    # chunk key encodings, dimension names, attributes
    for enc, sep in [("default", "/"), ("default", "."), ("v2", "."), ("v2", "/")]:
        for dt in ["uint8", "float64"]:
            ke = {"name": enc, "configuration": {"separator": sep}}
            add("keys/%s_%s_%s" % (dt, enc, "dot" if sep == "." else "slash"), dt, [b()],
                region="5:13,3:7", key_encoding=ke if (enc, sep) != ("default", "/") else None,
                separator=sep if enc == "default" else None, core=True)
    add("keys/scalar_v2", "int32", [b()], 1, shape=[], chunks=[],
        key_encoding={"name": "v2", "configuration": {"separator": "."}}, core=True)
    add("meta/dimension_names", "int16", [b()], dimension_names=["y", "x"], core=True)
    add("meta/dimension_names_partial", "int16", [b()], dimension_names=[None, "x"], core=True)
    add("meta/attributes", "float32", [b()], attributes={
        "units": "m/s", "n": 3, "nested": {"list": [1, 2.5, None], "t": True},
        "unicode": "naïve – 世界 🚀", "big": 18446744073709551615, "neg": -9223372036854775808},
        core=True)

    # write_empty_chunks both ways (every written value equals the fill value)
    for we in [True, False]:
        for dt, fill in [("int32", 7), ("float32", "NaN"), ("string", "")]:
            codecs = [VLEN_UTF8] if dt == "string" else [b(), zstd()]
            c = Case("empty/%s_%s" % (dt, "write" if we else "skip"), dt, [8, 6], [4, 3],
                     codecs, fill, region="0:8,0:3", write_empty=we, core=True)
            c._data = np.full([8, 3], c.fill_scalar(), dtype=c.np_dtype())
            c.chunks_stored = 2 if we else 0
            cases.append(c)

    # zero-size and odd shapes
    add("shape/zero_size", "int32", [b()], 0, shape=[0, 5], chunks=[2, 2], core=True)
    add("shape/zero_size_sharded", "float32", [shard([2, 2], [b()])], 0.0, shape=[4, 0],
        chunks=[4, 4], core=True)
    add("shape/1d_holes", "int64", [b(), zstd()], -3, shape=[100], chunks=[7],
        region="20:45", core=True)
    add("shape/chunk_larger_than_array", "uint16", [b(), gzip()], 1, shape=[3, 2],
        chunks=[10, 10], core=True)
    add("shape/4d", "float64", [b(), blosc("zstd", "shuffle", 8)], shape=[3, 4, 2, 5],
        chunks=[2, 3, 2, 2], region="1:3,0:4,:,1:5")
    return cases


# ------------------------------------------------------------------------------------------
# The format 2 matrix
# ------------------------------------------------------------------------------------------

def v2_cases():
    cases = []

    def add(name, dtype, fill=0, compressor=None, filters=None, order="C", shape=SHAPE,
            chunks=CHUNKS, **kw):
        cases.append(Case(name, dtype, shape, chunks, None, fill, fmt=2, compressor=compressor,
                          filters=filters, order=order, **kw))

    zs = {"id": "zstd", "level": 1}
    for i, t in enumerate(["|b1", "|i1", "<i2", ">i2", "<i4", ">u4", "<i8", ">u8", "<f2", ">f2",
                           "<f4", ">f4", "<f8", ">f8", "<c8", ">c16", "|S5", "<U3", ">U3", "|V4",
                           "<M8[ns]", ">M8[10ms]", "<m8[s]", ">m8[D]", "<M8", "<m8"]):
        # (generic-unit "<M8"/"<m8" little-endian only: numpy's astype does not byte-swap a
        # big-endian generic datetime, so the peer's own read-back of ">M8" is wrong)
        fill = {"b": True, "f": "NaN", "c": ["NaN", 1.5], "S": "eno=", "U": "ab",
                "V": "AQIDBA==", "M": -9223372036854775808, "m": 5}.get(t[1], 42)
        tag = t.replace("<", "le_").replace(">", "be_").replace("|", "").replace("[", "_") \
            .replace("]", "")
        add("dt/%s/plain" % tag, t, fill, core=True, phase=i)
        add("dt/%s/zstd_F_holes" % tag, t, fill, compressor=zs, order="F", region="2:9,1:5",
            core=True, phase=i + 1)
    for kind, fill in [("str", "n/a"), ("bytes", "eHk=")]:
        vl = [{"id": "vlen-utf8" if kind == "str" else "vlen-bytes"}]
        add("dt/%s/plain" % kind, kind, fill, filters=vl, core=True)
        add("dt/%s/zstd_holes" % kind, kind, fill, compressor=zs, filters=vl, region="3:11,2:6",
            core=True)
    for cname in ["lz4", "lz4hc", "blosclz", "zstd", "zlib"]:
        for sh in [0, 1, 2]:
            for t in ["<i4", ">f8"]:
                add("codec/blosc/%s_%s_%d" % (t[1:], cname, sh), t, 3,
                    {"id": "blosc", "cname": cname, "clevel": 5, "shuffle": sh, "blocksize": 0},
                    core=cname == "lz4")
    for comp in [{"id": "zlib", "level": 1}, {"id": "gzip", "level": 5}, {"id": "bz2", "level": 1},
                 {"id": "lzma", "preset": 1}, {"id": "lz4", "acceleration": 1},
                 {"id": "zstd", "level": 3, "checksum": True}, {"id": "adler32"},
                 {"id": "crc32"}, {"id": "crc32c"}, {"id": "fletcher32"}]:
        for t in ["<u2", ">i8"]:
            add("codec/%s/%s" % (comp["id"], t[1:]), t, 9, comp, core=t == "<u2")
    for name, t, filters, lossy in [
            ("delta", "<i4", [{"id": "delta", "dtype": "<i4"}], False),
            ("shuffle", ">i4", [{"id": "shuffle", "elementsize": 4}], False),
            ("fixedscaleoffset", "<f8", [{"id": "fixedscaleoffset", "offset": 0, "scale": 100,
                                          "dtype": "<f8", "astype": "<i4"}], True),
            # (the data is scaled out of int32 in places: zarr-python and zarrc wrap alike)
            ("quantize", "<f4", [{"id": "quantize", "digits": 2, "dtype": "<f4"}], True),
            ("astype", "<f8", [{"id": "astype", "encode_dtype": "<f4", "decode_dtype": "<f8"}],
             True),
            ("packbits", "|b1", [{"id": "packbits"}], False),
            ("bitround", "<f4", [{"id": "bitround", "keepbits": 5}], True),
            ("crc32_delta", "<i2", [{"id": "delta", "dtype": "<i2"}, {"id": "crc32"}], False)]:
        add("filter/%s" % name, t, 0, zs, filters, lossy=lossy, core=True)
    add("filter/empty_list", "<i2", 0, zs, [], core=True)
    for sep in [".", "/"]:
        add("keys/%s" % ("dot" if sep == "." else "slash"), "<i2", 5, region="5:13,3:7",
            separator=sep, core=True)
    for t, fills in [("<f8", ["Infinity", "-Infinity", -0.0]), ("<u8", [18446744073709551615]),
                     ("<i8", [-9223372036854775808]), ("<f4", [3.25])]:
        for k, f in enumerate(fills):
            add("fill/%s_%d" % (t[1:], k), t, f, region="0:5,0:3", core=True)
    add("fill/null", "<i4", None, region="0:5,0:3", core=True, only="peer")
    add("shape/scalar", "<f8", 2.5, shape=[], chunks=[], core=True)
    add("shape/zero_size", "<i4", 0, shape=[0, 3], chunks=[2, 2], core=True)
    add("meta/attributes", ">i2", 0, attributes={"a": [1, 2], "u": "ü"}, core=True)
    return cases


# ------------------------------------------------------------------------------------------
# zarr-python's side
# ------------------------------------------------------------------------------------------

def zp_create(c, path):
    kw = dict(shape=c.shape, chunks=c.chunks, dtype=c.zdtype(), zarr_format=c.fmt,
              fill_value=None if c.fill is None else c.fill_scalar(),
              attributes=c.attributes or {}, overwrite=True)
    if c.fmt == 3:
        filters, serializer, compressors = c.split_codecs()
        kw.update(filters=filters, serializer=serializer, compressors=compressors,
                  dimension_names=c.dimension_names)
        if c.key_encoding:
            kw["chunk_key_encoding"] = c.key_encoding
        elif c.separator:
            kw["chunk_key_encoding"] = {"name": "default",
                                        "configuration": {"separator": c.separator}}
    else:
        kw.update(compressors=numcodecs.get_codec(dict(c.compressor)) if c.compressor else None,
                  filters=[numcodecs.get_codec(dict(f)) for f in c.filters] if c.filters else None,
                  order=c.order)
        if c.separator:
            kw["chunk_key_encoding"] = {"name": "v2", "separator": c.separator}
    if c.write_empty is not None:
        kw["config"] = {"write_empty_chunks": c.write_empty}
    return zarr.create_array(store=path, **kw)


def zp_write(c, path):
    a = zp_create(c, path)
    d = c.data()
    a[c.region_index()] = d if d.ndim or not c.kind else d[()]


def zp_read(path):
    return np.asarray(zarr.open_array(path, mode="r")[...])


def stored_chunks(node):
    n = 0
    for d, _, files in os.walk(node):
        n += sum(1 for f in files if f not in ("zarr.json", ".zarray", ".zattrs", ".zgroup"))
    return n


def check_meta(where, c, node):
    """zarr-python's view of the metadata of a zarrc-written array."""
    a = zarr.open_array(node, mode="r")
    probs = []
    if list(a.shape) != c.shape:
        probs.append("shape %s" % (a.shape,))
    if c.attributes is not None and dict(a.attrs) != c.attributes:
        probs.append("attributes %s, expected %s" % (dict(a.attrs), c.attributes))
    if c.fmt == 3 and c.dimension_names is not None and \
            list(a.metadata.dimension_names or []) != c.dimension_names:
        probs.append("dimension_names %s" % (a.metadata.dimension_names,))
    if c.fill is not None and not c.kind:
        want = np.asarray(c.fill_scalar(), dtype=c.np_dtype())
        got = np.asarray(a.metadata.fill_value, dtype=c.np_dtype())
        if c.nan_payload_fill and c.dtype_name == "float16":
            pass  # zarr-python parses it as the canonical NaN (see peer_reads)
        elif P.le_bytes(want) != P.le_bytes(got):
            probs.append("fill_value %r (bits %s), expected %r (bits %s)" % (
                got, P.le_bytes(got).hex(), want, P.le_bytes(want).hex()))
    return probs


def refusal(c, peers):
    """The documented refusal tokens of these peers for the case (None: no refusal)."""
    toks = []
    for p in peers:
        r = c.refused.get(p)
        toks += [r] if isinstance(r, str) else (r or [])
    return toks or None


def peer_writes(cases, root, label, config=None, peers=("zarr-python",)):
    """The peer writes every case; returns those whose read-back is right."""
    ok = []
    for c in cases:
        path = os.path.join(root, c.name)
        why = refusal(c, peers)
        try:
            with zarr.config.set(config or {}):
                zp_write(c, path)
                got = zp_read(path)
        except Exception as e:  # the peer cannot write this case: a failure, reported
            if why:
                TALLY.ok()
                continue
            TALLY.fail("%s %s" % (label, c.describe()),
                       "the peer could not write it: %s: %s" % (type(e).__name__, e))
            continue
        if why:
            TALLY.fail("%s %s" % (label, c.describe()), "the peer wrote it, but it is "
                       "documented to refuse it (%s): update docs/compatibility.md" % why)
            continue
        bits = True
        if c.nan_payload_fill and c.fmt == 3:
            # zarr-python 3.4 writes such a fill value as "NaN" (docs/compatibility.md): the
            # stored document must say so (else this exception is stale), and missing chunks
            # then read as the canonical NaN
            with open(os.path.join(path, "zarr.json")) as f:
                stored = json.load(f)["fill_value"]
            want = ["NaN" if isinstance(p, str) and p.startswith("0x") else p
                    for p in (c.fill if isinstance(c.fill, list) else [c.fill])]
            if not TALLY.check(stored == (want if isinstance(c.fill, list) else want[0]),
                               "%s %s" % (label, c.describe()),
                               "zarr-python wrote fill_value %s: update the NaN payload note "
                               "in docs/compatibility.md" % json.dumps(stored)):
                continue
            bits = False
        if P.peer_readback_ok(TALLY, label, c, got, bits):
            ok.append(c)
    return ok


def peer_reads(cases, root, label, config=None, peers=("zarr-python",)):
    for c in cases:
        node = os.path.join(root, c.name)
        where = "%s %s" % (label, c.describe())
        why = refusal(c, peers)
        if why:  # a refused codec zarrc writes under another (accepted) name is no refusal
            with open(os.path.join(node, "zarr.json")) as f:
                text = f.read()
            why = next((t for t in why if '"%s"' % t in text), None)
        try:
            with zarr.config.set(config or {}):
                got = zp_read(node)
                probs = check_meta(where, c, node)
        except Exception as e:
            if why:
                TALLY.ok()
            else:
                TALLY.fail(where, "the peer cannot read it: %s: %s" % (type(e).__name__, e))
            continue
        if why:
            TALLY.fail(where, "the peer read it, but it is documented to refuse it (%s): "
                       "update docs/compatibility.md" % why)
            continue
        # zarr-python 3.4 parses a float16 fill given as a hex pattern into the canonical NaN
        # (docs/compatibility.md), so missing chunks lose the payload there
        # and zarrs reads every such fill as the canonical NaN
        bits = not (c.nan_payload_fill and (c.dtype_name == "float16" or "zarrs" in peers))
        fails = P.compare_arrays("peer vs zarrc's read-back", c, c._written, got, bits) + probs
        P.record(TALLY, where, fails)


def check_empty_chunks(cases, root, label, peer_wrote=False):
    for c in cases:
        want = getattr(c, "peer_chunks_stored" if peer_wrote else "chunks_stored", None)
        want = getattr(c, "chunks_stored", None) if want is None else want
        if want is not None:
            n = stored_chunks(os.path.join(root, c.name))
            TALLY.check(n == want, "%s %s" % (label, c.describe()),
                        "%d chunk files stored, expected %d (write_empty_chunks=%s)" % (
                            n, want, c.write_empty))


def zarrc_info_checks(z, cases, root, label):
    """zarrc info --json of peer-written arrays: attributes, dimension names, fill value."""
    for c in cases:
        if c.attributes is None and c.dimension_names is None and not c.name.startswith("fill/"):
            continue
        node = os.path.join(root, c.name)
        where = "%s info %s" % (label, c.describe())
        info, res = z.info_json(node)
        if info is None:
            TALLY.fail(where, res.describe())
            continue
        stored = info.get("metadata", {})
        probs = []
        if c.attributes is not None and info.get("attributes") != c.attributes:
            probs.append("attributes %s" % H.show(info.get("attributes"), 200))
        if c.dimension_names is not None and stored.get("dimension_names") != c.dimension_names:
            probs.append("dimension_names %s" % stored.get("dimension_names"))
        if not c.kind and P.le_bytes(np.asarray(c.scalar_from_json(info.get("fill_value")))) != \
                P.le_bytes(np.asarray(c.scalar_from_json(stored.get("fill_value")))):
            probs.append("fill_value %s, the stored document says %s" % (
                json.dumps(info.get("fill_value")), json.dumps(stored.get("fill_value"))))
        P.record(TALLY, where, probs)


# ------------------------------------------------------------------------------------------
# Modes
# ------------------------------------------------------------------------------------------

def both_ways(z, work, cases, what, read_config=None, write_config=None, peer="zarr-python"):
    peers = ("zarr-python", peer)
    cases = P.sample(cases, what)
    # peer writes, zarrc reads
    root = H.fresh_dir(os.path.join(work, "peer_wrote"))
    label = "%s->zarrc" % peer
    wrote = peer_writes([c for c in cases if c.only != "zarrc"], root, label, write_config,
                        peers)
    P.zarrc_check_all(z, wrote, root, TALLY, label)
    check_empty_chunks(wrote, root, label, peer_wrote=True)
    zarrc_info_checks(z, wrote, root, label)
    # zarrc writes, peer reads
    root = H.fresh_dir(os.path.join(work, "zarrc_wrote"))
    label = "zarrc->%s" % peer
    wrote = P.zarrc_write_all(z, [c for c in cases if c.only != "peer"], root, work, TALLY,
                              label)
    check_empty_chunks(wrote, root, label)
    peer_reads(wrote, root, label, read_config, peers)


ZARRS_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "float16", "float32", "float64", "complex64", "complex128"}


# Codecs zarrs 0.2.3 refuses in strict mode (it knows blosc, crc32c, gzip, zstd only under
# their v3 names; zarrc writes those names, zarr-python the numcodecs.* ones).
ZARRS_REFUSES = ["numcodecs.adler32", "numcodecs.astype", "numcodecs.bitround", "numcodecs.blosc",
                 "numcodecs.crc32", "numcodecs.crc32c", "numcodecs.delta", "numcodecs.fletcher32",
                 "numcodecs.gzip", "numcodecs.jenkins_lookup3", "numcodecs.lz4", "numcodecs.lzma",
                 "numcodecs.packbits", "numcodecs.quantize", "numcodecs.zstd", "bitround"]


def codec_names(codecs):
    for c in codecs:
        yield c["name"]
        if c["name"] == "sharding_indexed":
            yield from codec_names(c["configuration"]["codecs"])


def zarrs_cases():
    """The v3 matrix minus what zarrs-python 0.2.3 does not take in strict mode: data types
    NumPy holds as S/U/V/M/m/object (its pipeline refuses them before zarrs sees them).
    Codecs it refuses are checked as refusals; it does not honour write_empty_chunks=True."""
    out = []
    for c in v3_cases():
        if c.dtype_name not in ZARRS_DTYPES:
            continue
        bad = [n for n in codec_names(c.codecs) if n in ZARRS_REFUSES]
        if bad:
            c.refused["zarrs"] = ZARRS_REFUSES
        if c.write_empty:
            c.peer_chunks_stored = 0
        out.append(c)
    return out


def run_groups(z, work):
    import zarr.storage
    # zarr-python writes a hierarchy, consolidates; zarrc lists and reads it
    for fmt in (3, 2):
        root = H.fresh_dir(os.path.join(work, "zp_groups_v%d" % fmt))
        g = zarr.open_group(root, mode="w", zarr_format=fmt, attributes={"title": "zp3", "n": 1})
        sub = g.create_group("sub", attributes={"level": 1})
        sub.create_group("inner")
        a = sub.create_array("arr", shape=(4,), chunks=(2,), dtype="int16", fill_value=0,
                             attributes={"units": "m"})
        a[:] = [1, 2, 3, 4]
        g.create_array("top", shape=(3,), dtype="float32", fill_value=0)
        zarr.consolidate_metadata(root)
        r = z.run("tree", root, "--json")
        where = "zarr-python v%d hierarchy -> zarrc tree" % fmt
        if TALLY.check(r.rc == 0, where, r.describe()):
            text = r.out.decode()
            for name in ["sub", "inner", "arr", "top"]:
                TALLY.check(name in text, where + " lists " + name, text[:500])
        r = z.run("consolidate", root, "--check")
        TALLY.check(r.rc == 0, "zarr-python v%d consolidated metadata -> zarrc consolidate "
                    "--check" % fmt, r.describe())
        doc, err = z.get_json(os.path.join(root, "sub", "arr"))
        TALLY.check(not err and doc["data"] == [1, 2, 3, 4], "zarr-python v%d -> zarrc get "
                    "sub/arr" % fmt, err or str(doc))
        info, res = z.info_json(os.path.join(root, "sub"))
        TALLY.check(info is not None and info.get("attributes") == {"level": 1},
                    "zarr-python v%d -> zarrc info sub" % fmt,
                    res.describe() if info is None else str(info.get("attributes")))
    # zarrc writes a hierarchy and consolidates; zarr-python opens it consolidated
    for fmt in (3, 2):
        root = H.fresh_dir(os.path.join(work, "zarrc_groups_v%d" % fmt))
        steps = [("", ["--group", "--attrs", '{"title": "zarrc"}']),
                 ("sub", ["--group", "--attrs", '{"level": 1}']),
                 ("sub/arr", ["--dtype", "int16", "--shape", "4", "--chunks", "2", "--attrs",
                              '{"units": "m"}']),
                 ("top", ["--dtype", "float32", "--shape", "3"])]
        if not all(TALLY.check(r.rc == 0, "zarrc create v%d %s" % (fmt, path), r.describe())
                   for path, args in steps
                   for r in [z.run("create", os.path.join(root, path), "--format", str(fmt),
                                   "--overwrite", *args)]):
            continue
        r = z.run("consolidate", root)
        if not TALLY.check(r.rc == 0, "zarrc consolidate v%d" % fmt, r.describe()):
            continue
        where = "zarrc v%d hierarchy -> zarr-python open_consolidated" % fmt
        try:
            g = zarr.open_consolidated(root, zarr_format=fmt)
            members = sorted(k for k, _ in g.members(max_depth=None))
            TALLY.check(members == ["sub", "sub/arr", "top"], where, str(members))
            TALLY.check(dict(g["sub"].attrs) == {"level": 1} and
                        dict(g["sub/arr"].attrs) == {"units": "m"} and
                        dict(g.attrs) == {"title": "zarrc"}, where + " attributes",
                        "%s %s" % (dict(g.attrs), dict(g["sub"].attrs)))
            TALLY.check(g.metadata.consolidated_metadata is not None, where + " is consolidated",
                        "zarr-python did not see consolidated metadata")
        except Exception as e:
            TALLY.fail(where, "%s: %s" % (type(e).__name__, e))


def main():
    zarrc, work = sys.argv[2], sys.argv[3]
    H.check_zarrc(zarrc)
    work = H.fresh_dir(os.path.abspath(work))
    z = H.Zarrc(zarrc)
    if MODE == "v3":
        both_ways(z, work, v3_cases(), "format 3")
    elif MODE == "v2":
        both_ways(z, work, v2_cases(), "format 2")
    elif MODE == "zarrs":
        both_ways(z, work, zarrs_cases(), "format 3 through zarrs", read_config=ZARRS_CONFIG,
                  write_config=ZARRS_CONFIG, peer="zarrs")
    else:
        run_groups(z, work)
    return TALLY.finish()


if __name__ == "__main__":
    sys.exit(main())
