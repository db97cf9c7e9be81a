#!/usr/bin/python3
"""zarr-python 2.13 writes a matrix of v2 arrays and dumps what it reads back as expected values.

Usage: /usr/bin/python3 gen_zarrpy.py WORKDIR

Writes WORKDIR/zp.zarr (a group hierarchy: dtypes/, codecs/, filters/, layout/, nested groups),
WORKDIR/expected/<array>.json (the `zarrc get --json` form of zarr-python's read of each array,
plus selections checked against NumPy slicing) and WORKDIR/manifest.json, which
check_zarrc_reads.py consumes.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import v2common as C  # noqa: E402

zarr = C.require_peer()
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from numcodecs import (BZ2, CRC32, LZ4, LZMA, Adler32, AsType, BitRound, Blosc, Delta,  # noqa: E402
                       FixedScaleOffset, GZip, PackBits, Quantize, Shuffle, VLenBytes, VLenUTF8,
                       Zlib, Zstd)

# dtype spelling, object kind ('str'/'bytes' for |O)
DTYPES = [("|b1", None), ("|i1", None), ("<i2", None), ("<i4", None), ("<i8", None),
          (">i2", None), (">i4", None), (">i8", None), ("|u1", None), ("<u2", None),
          ("<u4", None), ("<u8", None), (">u4", None), ("<f2", None), ("<f4", None),
          ("<f8", None), (">f4", None), (">f8", None), ("<c8", None), ("<c16", None),
          ("|S5", None), ("<U3", None), (">U3", None), ("|V4", None), ("<M8[ns]", None),
          ("<M8[s]", None), ("<m8[ms]", None), ("|O", "str"), ("|O", "bytes")]

BLOSC = [(("blosc_%s_sh%d" % (c, s)), Blosc(cname=c, clevel=9 if c == "lz4hc" else 5, shuffle=s))
         for c in ("lz4", "lz4hc", "zstd", "zlib", "blosclz") for s in (0, 1, 2)]
OTHER = [("zlib", Zlib(level=6)), ("gzip", GZip(level=5)), ("bz2", BZ2(level=9)),
         ("lzma", LZMA(preset=3)), ("zstd", Zstd(level=3)), ("lz4", LZ4(acceleration=1)),
         ("zstd_neg", Zstd(level=-2)), ("zlib0", Zlib(level=0)),
         ("adler32", Adler32()), ("crc32", CRC32())]
ALL_COMP = BLOSC + OTHER


def tag_of(dt, kind):
    if kind:
        return "O_" + kind
    return (dt.replace("|", "").replace("<", "le_").replace(">", "be_").replace("[", "_")
            .replace("]", ""))


def special_fill(dt, kind):
    """A non-default fill value per dtype, to check missing chunks read as fill."""
    if kind == "str":
        return "∅"
    if kind == "bytes":
        return None          # zarr 2.13 cannot JSON-encode a bytes fill for VLenBytes
    d = np.dtype(dt)
    if d.kind == "b":
        return True
    if d.kind == "i":
        return int(np.iinfo(d).min) if d.itemsize == 8 else -1
    if d.kind == "u":
        return int(np.iinfo(d).max)
    if d.kind == "f":
        return {"<f2": np.inf, ">f4": -np.inf}.get(dt, np.nan)
    if d.kind == "c":
        return complex(np.nan, 1.5)
    if d.kind == "S":
        return b"ab"
    if d.kind == "U":
        return "xÿ"
    if d.kind == "V":
        return b"\x01\x02\xfe\xff"
    if d.kind == "M":
        return np.datetime64("NaT")
    if d.kind == "m":
        return -5
    raise ValueError(dt)


class Gen:
    def __init__(self, work):
        self.work = work
        self.root_path = os.path.join(work, "zp.zarr")
        self.exp_dir = os.path.join(work, "expected")
        for p in (self.root_path, self.exp_dir):
            if os.path.exists(p):
                shutil.rmtree(p)
        os.makedirs(self.exp_dir)
        self.store = zarr.DirectoryStore(self.root_path)
        self.root = zarr.group(store=self.store)
        self.entries = []

    def add(self, name, dtype, shape, chunks=None, compressor=None, filters=None, order="C",
            sep=".", fill=0, kind=None, write="full", data=None, selections=(), attrs=None,
            object_codec=None):
        kw = dict(shape=shape, chunks=chunks if chunks is not None else True, dtype=dtype,
                  compressor=compressor, filters=filters, order=order, fill_value=fill)
        if sep == "/":
            kw["dimension_separator"] = "/"
        if kind == "str":
            kw["dtype"] = str
        elif kind == "bytes":
            kw["dtype"] = object
            kw["object_codec"] = VLenBytes()
        if object_codec is not None:
            kw["object_codec"] = object_codec
        z = self.root.create_dataset(name, **kw)
        if data is None:
            data = C.make_data(dtype, shape, phase=len(self.entries), kind=kind)
        if write == "full":
            z[...] = data
        elif write == "partial":
            # a box strictly inside the array: leaves chunks untouched (missing) and others
            # partially written
            sl = tuple(slice(s // 5, max(s // 5 + 1, (3 * s) // 5)) for s in shape)
            z[sl] = data[sl]
        elif write == "none":
            pass
        elif callable(write):
            write(z, data)
        else:
            raise ValueError(write)
        if attrs:
            z.attrs.update(attrs)
        self.entries.append(dict(name=name, kind=kind, selections=list(selections)))

    def dump_expected(self):
        """Re-open everything from disk with a fresh handle and record what zarr-python reads."""
        r = zarr.open_group(self.root_path, mode="r")
        manifest = []
        for e in self.entries:
            z = r[e["name"]]
            a = np.asarray(z[...])
            doc = C.encode_doc(a, e["kind"])
            sels = []
            for s in e["selections"]:
                sub = np.asarray(a[C.parse_selection(s)])
                sels.append({"sel": s, "expected": C.encode_doc(sub, e["kind"])})
            fname = e["name"].replace("/", "__") + ".json"
            with open(os.path.join(self.exp_dir, fname), "w") as f:
                json.dump({"name": e["name"], "np_dtype": z.dtype.str, "kind": e["kind"],
                           "expected": doc, "selections": sels}, f, ensure_ascii=False)
            with open(os.path.join(self.root_path, e["name"], ".zarray")) as f:
                zarray = json.load(f)
            manifest.append({"name": e["name"], "path": "zp.zarr/" + e["name"],
                             "expected": "expected/" + fname, "zarray": zarray})
        return manifest


def build(work):
    g = Gen(work)

    # ---- every dtype, three layouts each ------------------------------------------------------
    for i, (dt, kind) in enumerate(DTYPES):
        tag = tag_of(dt, kind)
        fixed = kind is None
        g.add("dtypes/%s_none" % tag, dt, (7, 9), (3, 4), kind=kind, fill=None if kind else 0,
              selections=["1:6:2,::4", "3", "6,8"] if i % 4 == 0 else [])
        cname, comp = ALL_COMP[(i * 3) % len(ALL_COMP)]
        g.add("dtypes/%s_%s_F_slash" % (tag, cname), dt, (10, 7), (4, 3), compressor=comp,
              order="F", sep="/", fill=special_fill(dt, kind), kind=kind,
              write="full" if kind == "bytes" else "partial",
              selections=["1:9:2,::3", "3", ":,6"] if i % 5 == 1 else [])
        cname, comp = ALL_COMP[(i * 5 + 7) % len(ALL_COMP)]
        filters = None
        if fixed and i % 3 == 0:
            filters = [Shuffle(elementsize=np.dtype(dt).itemsize)]
            cname = "shuffle_" + cname
        g.add("dtypes/%s_%s_3d" % (tag, cname), dt, (4, 5, 6), (2, 3, 4), compressor=comp,
              filters=filters, sep="/" if i % 2 else ".", kind=kind, fill=None if kind else 0,
              selections=["1,::2,1:5:2", "::3", "3,4,5", "2:2"] if i % 6 == 2 else [])

    # ---- every compressor with two dtypes ------------------------------------------------------
    cyc = [("<i4", None), (">f8", None), ("<u2", None), ("<c8", None), ("|S5", None),
           ("<f4", None), (">i8", None), ("|u1", None), ("<U3", None), ("<f2", None),
           (">u4", None), ("|b1", None), ("<M8[s]", None), ("|O", "str"), ("<c16", None),
           ("|i1", None), (">U3", None), ("<u8", None), ("|V4", None), ("|O", "bytes"),
           (">i2", None)]
    for j, (cname, comp) in enumerate(ALL_COMP):
        for k in range(2):
            dt, kind = cyc[(2 * j + k) % len(cyc)]
            g.add("codecs/%s__%s" % (cname, tag_of(dt, kind)), dt, (13, 17), (5, 6),
                  compressor=comp, order="CF"[k], sep="./"[(j + k) % 2], kind=kind,
                  fill=None if kind else 0)

    # ---- filters ------------------------------------------------------------------------------
    sh = (13, 17)
    ch = (5, 6)
    n = sh[0] * sh[1]
    small_steps = (np.cumsum((np.arange(n) * 7919) % 11 - 5) + 100).reshape(sh)
    g.add("filters/delta_i4_zlib", "<i4", sh, ch, filters=[Delta(dtype="<i4")],
          compressor=Zlib(1))
    g.add("filters/delta_be_i2_blosc", ">i2", sh, ch, filters=[Delta(dtype=">i2")],
          compressor=Blosc("zstd", 3, Blosc.SHUFFLE), order="F")
    g.add("filters/delta_i8_astype_i2", "<i8", sh, ch, filters=[Delta(dtype="<i8", astype="<i2")],
          compressor=None, data=small_steps.astype("<i8"))
    g.add("filters/delta_u1", "|u1", sh, ch, filters=[Delta(dtype="|u1")], compressor=Zstd(1),
          sep="/")
    g.add("filters/delta_f8", "<f8", sh, ch, filters=[Delta(dtype="<f8")], compressor=None,
          data=(np.arange(n) * 0.25 - 3).reshape(sh))
    g.add("filters/shuffle_f4_zlib", "<f4", sh, ch, filters=[Shuffle(elementsize=4)],
          compressor=Zlib(5))
    g.add("filters/shuffle_c16_none", "<c16", sh, ch, filters=[Shuffle(elementsize=16)],
          compressor=None, order="F")
    g.add("filters/shuffle_S5_lz4", "|S5", sh, ch, filters=[Shuffle(elementsize=5)],
          compressor=LZ4())
    fso_data = (1000 + (np.arange(n) % 97) * 0.1 + 0.04).reshape(sh)
    g.add("filters/fixedscaleoffset_f8_u2", "<f8", sh, ch,
          filters=[FixedScaleOffset(offset=1000, scale=10, dtype="<f8", astype="<u2")],
          compressor=Zstd(3), data=fso_data, selections=["2:11:3,5"])
    g.add("filters/fixedscaleoffset_f4_i1", "<f4", sh, ch,
          filters=[FixedScaleOffset(offset=0, scale=100, dtype="<f4", astype="|i1")],
          compressor=None, data=((np.arange(n) % 241 - 120) / 100.0).reshape(sh), order="F")
    g.add("filters/fixedscaleoffset_i8_u1", "<i8", sh, ch,
          filters=[FixedScaleOffset(offset=-300, scale=1, dtype="<i8", astype="|u1")],
          compressor=Blosc("lz4", 5, Blosc.NOSHUFFLE),
          data=(np.arange(n) % 250 - 300).reshape(sh))
    g.add("filters/quantize_f8_3", "<f8", sh, ch, filters=[Quantize(digits=3, dtype="<f8")],
          compressor=Blosc("lz4", 5, Blosc.SHUFFLE))
    g.add("filters/quantize_f4_astype_f2", "<f4", sh, ch,
          filters=[Quantize(digits=2, dtype="<f4", astype="<f2")], compressor=Zlib(1),
          data=((np.arange(n) - 100) * 0.01234).reshape(sh))
    g.add("filters/astype_f8_as_f4", "<f8", sh, ch,
          filters=[AsType(encode_dtype="<f4", decode_dtype="<f8")], compressor=GZip(1))
    g.add("filters/astype_i8_as_i2", "<i8", sh, ch,
          filters=[AsType(encode_dtype="<i2", decode_dtype="<i8")], compressor=None,
          data=small_steps.astype("<i8"), sep="/")
    g.add("filters/packbits_b1_zlib", "|b1", sh, ch, filters=[PackBits()], compressor=Zlib(1))
    g.add("filters/packbits_b1_F_none", "|b1", (9, 11), (4, 5), filters=[PackBits()],
          compressor=None, order="F", write="partial", fill=True)
    g.add("filters/bitround_f4_7", "<f4", sh, ch, filters=[BitRound(keepbits=7)],
          compressor=Zstd(3))
    g.add("filters/bitround_f8_20", "<f8", sh, ch, filters=[BitRound(keepbits=20)],
          compressor=None, order="F")
    g.add("filters/bitround_f2_3", "<f2", sh, ch, filters=[BitRound(keepbits=3)],
          compressor=Blosc("zstd", 3, Blosc.BITSHUFFLE))
    g.add("filters/adler32_filter_zlib", "<i4", sh, ch, filters=[Adler32()], compressor=Zlib(1))
    g.add("filters/crc32_filter_blosc", "<u8", sh, ch, filters=[Shuffle(elementsize=8), CRC32()],
          compressor=Blosc("lz4", 5, Blosc.NOSHUFFLE))
    g.add("filters/crc32_U3", "<U3", sh, ch, filters=[CRC32()], compressor=None)
    g.add("filters/chain_delta_shuffle_adler_zstd", "<i4", sh, ch,
          filters=[Delta(dtype="<i4"), Shuffle(elementsize=4), Adler32()], compressor=Zstd(5),
          order="F", sep="/")
    g.add("filters/chain_astype_quantize", "<f8", sh, ch,
          filters=[AsType(encode_dtype="<f4", decode_dtype="<f8"),
                   Quantize(digits=2, dtype="<f4")], compressor=None,
          data=((np.arange(n) - 50) * 0.0731).reshape(sh))
    g.add("filters/vlen_utf8_crc32", "|O", sh, ch, kind="str", filters=[CRC32()],
          object_codec=VLenUTF8(), compressor=Zstd(1), fill=None)

    # ---- layout: order, separators, fill values, missing chunks, 0-d, zero-size ----------------
    g.add("layout/order_F_3d_u2", "<u2", (5, 6, 7), (2, 3, 4), order="F",
          selections=["1,::2,1:7:3", ":,5,:", "4,5,6"])
    g.add("layout/order_F_4d_i2_slash", "<i2", (3, 4, 2, 5), (2, 3, 2, 2), order="F", sep="/",
          compressor=Blosc("lz4", 5, Blosc.SHUFFLE), selections=["1,1:4:2,:,::2", "2,3,1,4"])
    g.add("layout/order_F_c16_slash", "<c16", (6, 5), (4, 4), order="F", sep="/",
          compressor=Zstd(3))
    g.add("layout/fill_nan_partial", "<f8", (20, 30), (7, 8), fill=np.nan, compressor=Zlib(1),
          write=lambda z, d: z.__setitem__((slice(0, 7), slice(0, 8)), d[0:7, 0:8]),
          selections=["5:9,6:10", "19"])
    g.add("layout/fill_42_empty", "<i2", (20, 30), (7, 8), fill=42, write="none")
    g.add("layout/fill_negzero_f4", ">f4", (5,), (2,), fill=-0.0, write="none")
    g.add("layout/fill_inf_f4", "<f4", (5,), (2,), fill=np.inf,
          write=lambda z, d: z.__setitem__(slice(2, 4), [1.5, -2.5]))
    g.add("layout/fill_neg_inf_f8", ">f8", (5,), (2,), fill=-np.inf, write="none")
    g.add("layout/fill_u8_max", "<u8", (6, 6), (4, 4), fill=2 ** 64 - 1, write="partial")
    g.add("layout/fill_i8_min", ">i8", (6, 6), (4, 4), fill=-2 ** 63, write="partial")
    g.add("layout/fill_S3_ab", "|S3", (7,), (3,), fill=b"ab", write="partial")
    g.add("layout/fill_U4", ">U4", (7,), (3,), fill="ñ😀", write="partial")
    g.add("layout/fill_true_b1", "|b1", (7, 3), (3, 2), fill=True, write="partial")
    g.add("layout/fill_nat_M8", "<M8[ns]", (7,), (3,), fill=np.datetime64("NaT"),
          write="partial")
    g.add("layout/fill_c8_nan", "<c8", (7,), (3,), fill=complex(np.nan, -np.inf),
          write="partial")
    g.add("layout/fill_str_partial", "|O", (7,), (3,), kind="str", fill="fill",
          write="partial")
    g.add("layout/fill_null_full", "<i4", (5, 5), (2, 2), fill=None)
    g.add("layout/scalar_0d_f8", "<f8", (), None, fill=0.0,
          write=lambda z, d: z.__setitem__(Ellipsis, 3.25))
    g.add("layout/scalar_0d_i4_blosc", "<i4", (), None, fill=0,
          compressor=Blosc("zstd", 3, Blosc.SHUFFLE),
          write=lambda z, d: z.__setitem__(Ellipsis, -123456))
    g.add("layout/scalar_0d_U3", "<U3", (), None, fill="",
          write=lambda z, d: z.__setitem__(Ellipsis, "hé!"))
    g.add("layout/scalar_0d_str", "|O", (), None, kind="str", fill="",
          write=lambda z, d: z.__setitem__(Ellipsis, "zero-d ☃"))
    g.add("layout/scalar_0d_unwritten", "<f4", (), None, fill=np.nan, write="none")
    g.add("layout/zero_size_0x5", "<i4", (0, 5), (1, 5), write="none")
    g.add("layout/zero_size_5x0", "<f8", (5, 0), (2, 2), write="none")
    g.add("layout/zero_size_1d_str", "|O", (0,), (3,), kind="str", fill="", write="none")
    g.add("layout/one_d_big_chunk", "<i8", (10,), (100,), compressor=None)
    g.add("layout/chunks_1x1_slash", "<u4", (3, 4), (1, 1), sep="/", compressor=Zlib(1))
    g.add("layout/ragged_1d", "<f8", (1001,), (100,), sep="/",
          compressor=Blosc("lz4", 5, Blosc.SHUFFLE),
          selections=["95:905:10", "1000", "::333", "999:"])
    g.add("layout/chunk_larger_than_shape_2d", "<i2", (3, 5), (8, 8), compressor=Zstd(1))
    g.add("layout/large_f4", "<f4", (200, 300), (64, 64),
          compressor=Blosc("lz4", 5, Blosc.SHUFFLE),
          selections=["10:100:7,::50", "5", "199,299", "::64,1:2", "190:,290:"])
    g.add("layout/overwritten", "<i4", (9, 9), (4, 4), fill=-1,
          write=lambda z, d: (z.__setitem__(Ellipsis, d), z.__setitem__((slice(2, 7), 3), 0),
                              z.__setitem__((8, slice(None)), 77)))

    # ---- attributes and nested groups ---------------------------------------------------------
    g.root.attrs.update(ROOT_ATTRS)
    leaf_parent = g.root.create_group("g1/g2/g3")
    leaf_parent.attrs["depth"] = 3
    g.root["g1"].attrs["depth"] = 1
    g.add("g1/g2/g3/leaf", "<i4", (3,), (2,), compressor=None, attrs=LEAF_ATTRS)

    manifest = g.dump_expected()
    groups = {}
    for grp in ("", "dtypes", "codecs", "filters", "layout", "g1", "g1/g2", "g1/g2/g3"):
        node = g.root[grp] if grp else g.root
        groups[grp] = {"groups": sorted(node.group_keys()), "arrays": sorted(node.array_keys()),
                       "attrs": node.attrs.asdict()}
    with open(os.path.join(work, "manifest.json"), "w") as f:
        json.dump({"arrays": manifest, "groups": groups, "root": "zp.zarr",
                   "attr_arrays": {"g1/g2/g3/leaf": LEAF_ATTRS}}, f, ensure_ascii=False, indent=1)
    return len(manifest)


def nested(depth):
    """An attribute value nested `depth` levels deep (json-c's default limit is 32)."""
    v = 1
    for i in range(depth):
        v = {"level": v} if i % 2 else [v]
    return v


ROOT_ATTRS = {"title": "zarr-python 2.13 zoo", "ünïcødé": "日本語 😀 \u00e9\u0301",
              "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}, "deep": {"a": {"b": []}}},
              "int_big": 2 ** 62 + 1, "neg": -7, "float": 0.1, "tiny": 5e-324, "deep40": nested(40)}
LEAF_ATTRS = {"units": "m/s²", "_ARRAY_DIMENSIONS": ["x"], "valid_range": [-1.5, 1e300],
              "deep38": nested(38)}


def main():
    if len(sys.argv) != 2:
        print("usage: gen_zarrpy.py WORKDIR", file=sys.stderr)
        return 2
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    # overflow in lossy filters (Quantize of float max) is part of what is recorded
    warnings.simplefilter("ignore", RuntimeWarning)
    count = build(work)
    print("zarr-python %s wrote %d v2 arrays under %s" % (zarr.__version__, count,
                                                          os.path.join(work, "zp.zarr")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
