#!/usr/bin/python3
"""zarrc writes a matrix of v2 arrays for zarr-python 2.13 to read (then check_zarrpy_reads.py).

Usage: /usr/bin/python3 zarrc_write.py ZARRC WORKDIR

Creates WORKDIR/zc.zarr with `zarrc create` (v2; dtypes x compressors x order x separator, v2
filters, `--codecs` in v3 spelling mapped onto v2, fill values) and fills it with
`zarrc put --json` (whole arrays, `--select` regions, stdin). WORKDIR/zc_manifest.json records,
per array, the values zarr-python must read, the .zarray members it must find, and the chunk
keys that must not exist. Failures of zarrc itself are recorded there too (and reported by the
checker), so one broken case does not hide the others.
"""
import concurrent.futures
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import v2common as C  # noqa: E402

C.require_peer()
import numpy as np  # noqa: E402
from numcodecs import get_codec  # noqa: E402

# zarrc spelling, NumPy dtype zarr-python must see, object kind
DT2 = [("bool", "|b1", None), ("int8", "|i1", None), ("int16", "<i2", None),
       ("<i4", "<i4", None), (">i8", ">i8", None), ("uint8", "|u1", None), (">u2", ">u2", None),
       ("<u4", "<u4", None), ("uint64", "<u8", None), ("float16", "<f2", None),
       ("<f4", "<f4", None), (">f8", ">f8", None), ("float64", "<f8", None),
       ("complex64", "<c8", None), (">c16", ">c16", None), ("|S7", "|S7", None),
       ("<U4", "<U4", None), (">U2", ">U2", None), ("|V3", "|V3", None),
       ("<M8[ns]", "<M8[ns]", None), ("<m8[s]", "<m8[s]", None), (">M8[D]", ">M8[D]", None),
       ("string", "|O", "str"), ("bytes", "|O", "bytes")]

COMP2 = [None,
         {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
         {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0},
         {"id": "blosc", "cname": "blosclz", "clevel": 9, "shuffle": 0, "blocksize": 0},
         {"id": "blosc", "cname": "lz4hc", "clevel": 9, "shuffle": 1, "blocksize": 0},
         {"id": "blosc", "cname": "zlib", "clevel": 4, "shuffle": 2, "blocksize": 0},
         {"id": "zlib", "level": 6},
         {"id": "gzip", "level": 5},
         {"id": "bz2", "level": 9},
         {"id": "lzma", "format": 1, "check": -1, "preset": 6, "filters": None},
         {"id": "zstd", "level": 3},
         {"id": "lz4", "acceleration": 1}]


def comp_tag(c):
    if c is None:
        return "none"
    if c["id"] == "blosc":
        return "blosc_%s_sh%d" % (c["cname"], c["shuffle"])
    return c["id"]


def fill_json(np_dtype, kind):
    """A non-default fill value in v2 .zarray JSON form and as a NumPy value."""
    if kind == "str":
        return "∅", "∅"
    if kind == "bytes":
        return None, None
    d = np.dtype(np_dtype)
    if d.kind == "b":
        return True, True
    if d.kind == "i":
        v = int(np.iinfo(d).min)
        return v, v
    if d.kind == "u":
        v = int(np.iinfo(d).max)
        return v, v
    if d.kind == "f":
        return "NaN", np.nan
    if d.kind == "c":
        return ["NaN", -2.5], complex(np.nan, -2.5)
    if d.kind == "S":
        return "YWI=", b"ab"
    if d.kind == "U":
        return "xÿ"[: d.itemsize // 4], "xÿ"[: d.itemsize // 4]
    if d.kind == "V":
        return "AQL/", np.frombuffer(b"\x01\x02\xff", dtype=d)[0]
    if d.kind in "Mm":
        v = int(np.iinfo(np.int64).min)
        return v, np.array([v]).view(d.newbyteorder("="))[0]
    raise ValueError(d)


class Case:
    def __init__(self, name, spelling, np_dtype, shape, chunks, kind=None, create=(),
                 fill=None, writes=None, zarray=None, absent=(), present=(),
                 lossy_filters=None, attrs=None):
        self.name = name
        self.spelling = spelling
        self.np_dtype = np_dtype
        self.shape = tuple(shape)
        self.chunks = tuple(chunks)
        self.kind = kind
        self.create = list(create)
        self.fill = fill            # (json, numpy value) or None
        self.writes = writes        # [(sel or None, numpy data, via_stdin)]
        self.zarray = zarray or {}  # .zarray members zarr-python must find (subset for dicts)
        self.absent = list(absent)  # chunk keys that must not exist
        self.present = list(present)  # chunk keys that must exist
        self.lossy_filters = lossy_filters
        self.attrs = attrs


def default_writes(c, phase, stdin=False):
    data = C.make_data(c.np_dtype, c.shape, phase=phase, kind=c.kind)
    return [(None, data, stdin)]


def build_cases():
    cases = []

    # ---- dtypes x compressors x order x separator ---------------------------------------------
    for i, (sp, npd, kind) in enumerate(DT2):
        tag = C.v3_dtype_name(npd, kind) + "_" + npd.replace("<", "le").replace(">", "be") \
            .replace("|", "").replace("[", "_").replace("]", "")
        comp = COMP2[i % len(COMP2)]
        c = Case("dtypes/%s__%s_C_dot" % (tag, comp_tag(comp)), sp, npd, (9, 11), (4, 5),
                 kind=kind, create=["--compressor", json.dumps(comp)],
                 zarray={"dtype": npd, "order": "C", "compressor": comp, "shape": [9, 11],
                         "chunks": [4, 5], "zarr_format": 2})
        c.writes = default_writes(c, i)
        cases.append(c)

        comp = COMP2[(i * 5 + 3) % len(COMP2)]
        c = Case("dtypes/%s__%s_F_slash_3d" % (tag, comp_tag(comp)), sp, npd, (6, 5, 7),
                 (4, 2, 3), kind=kind,
                 create=["--compressor", json.dumps(comp), "--order", "F", "--separator", "/"],
                 zarray={"dtype": npd, "order": "F", "compressor": comp,
                         "dimension_separator": "/"})
        c.writes = default_writes(c, i + 100, stdin=True)
        cases.append(c)

    # ---- partial writes, fill values, missing chunks ------------------------------------------
    for i, (sp, npd, kind) in enumerate(DT2):
        if kind == "bytes":
            continue
        fj, fv = fill_json(npd, kind)
        sep = "./"[i % 4 // 2]
        shape = (10, 8)
        data = C.make_data(npd, shape, phase=i + 7, kind=kind)
        writes = [("1:3,2:7", data[1:3, 2:7], False),
                  ("5,:", data[5, :], False),
                  ("4:8:3,0:8:4", data[4:8:3, 0:8:4], True),
                  ("9,7", data[9, 7], False)]
        comp = COMP2[(i * 7 + 1) % len(COMP2)]
        c = Case("partial/%s__fill" % C.v3_dtype_name(npd, kind).replace(".", "_") + str(i),
                 sp, npd, shape, (4, 3), kind=kind, fill=(fj, fv),
                 create=["--fill-value", json.dumps(fj, ensure_ascii=False), "--compressor",
                         json.dumps(comp), "--separator", sep, "--order", "CF"[i % 3 == 0]],
                 zarray={"dtype": npd, "fill_value": fj},
                 absent=[sep.join(k) for k in (("2", "0"), ("2", "1"))],
                 present=[sep.join(("0", "1")), sep.join(("1", "0"))])
        c.writes = writes
        cases.append(c)

    # Every chunk missing: zarr-python must read the fill value everywhere.
    c = Case("partial/never_written_f8_neg_inf", ">f8", ">f8", (5, 4), (2, 2), fill=("-Infinity",
             -np.inf), create=["--fill-value", '"-Infinity"'], writes=[],
             zarray={"fill_value": "-Infinity"}, absent=["0.0", "2.1"])
    cases.append(c)
    c = Case("partial/never_written_i2_42", "<i2", "<i2", (5, 4), (2, 2), fill=(42, 42),
             create=["--fill-value", "42", "--separator", "/"], writes=[],
             zarray={"fill_value": 42}, absent=["0/0", "2/1"])
    cases.append(c)
    # Overwrite part of a written chunk (read-modify-write of an existing chunk).
    data = C.make_data("<i4", (6, 6), phase=3)
    patch = np.arange(4, dtype="<i4").reshape(2, 2) * -1000
    c = Case("partial/overwrite_i4", "<i4", "<i4", (6, 6), (4, 4), fill=(7, 7),
             create=["--fill-value", "7", "--compressor", json.dumps(COMP2[1])],
             writes=[(None, data, False), ("3:5,3:5", patch, False)])
    cases.append(c)
    # 0-d and zero-size
    c = Case("layout/scalar_0d_f8", "<f8", "<f8", (), (), fill=(0.0, 0.0),
             create=["--fill-value", "0.0"],
             writes=[(None, np.array(-1.25e-300, dtype="<f8"), False)])
    cases.append(c)
    c = Case("layout/scalar_0d_string", "string", "|O", (), (), kind="str",
             writes=[(None, np.array("zero-d ☃", dtype=object), False)])
    cases.append(c)
    c = Case("layout/zero_size", "<i4", "<i4", (0, 5), (2, 5), fill=(0, 0),
             create=["--fill-value", "0"], writes=[])
    cases.append(c)
    c = Case("layout/ragged_1d_u2", "<u2", "<u2", (1001,), (100,),
             create=["--compressor", json.dumps(COMP2[2])])
    c.writes = default_writes(c, 5)
    cases.append(c)
    c = Case("layout/chunk_larger_than_shape", ">i2", ">i2", (3, 5), (8, 8),
             create=["--compressor", json.dumps(COMP2[10]), "--order", "F"])
    c.writes = default_writes(c, 6)
    cases.append(c)

    # ---- v2 filters ---------------------------------------------------------------------------
    sh, ch = (13, 17), (5, 6)
    n = sh[0] * sh[1]

    def filt(name, sp, filters, comp, data=None, lossy=False, order="C", kind=None):
        c = Case("filters/" + name, sp, sp if kind is None else "|O", sh, ch, kind=kind,
                 create=["--filters", json.dumps(filters), "--compressor", json.dumps(comp),
                         "--order", order],
                 zarray={"filters": filters, "compressor": comp, "order": order},
                 lossy_filters=filters if lossy else None)
        if data is None:
            data = C.make_data(sp, sh, phase=len(name), kind=kind)
        c.writes = [(None, np.asarray(data).astype(sp) if kind is None else data, False)]
        cases.append(c)

    filt("delta_i4_zlib", "<i4", [{"id": "delta", "dtype": "<i4"}], COMP2[6])
    filt("delta_be_i2_F", ">i2", [{"id": "delta", "dtype": ">i2"}], COMP2[2], order="F")
    filt("shuffle_f8_zstd", "<f8", [{"id": "shuffle", "elementsize": 8}], COMP2[10])
    filt("fixedscaleoffset_f8_u2", "<f8",
         [{"id": "fixedscaleoffset", "offset": 1000, "scale": 10, "dtype": "<f8",
           "astype": "<u2"}], COMP2[10],
         data=(1000 + (np.arange(n) % 97) * 0.1 + 0.04).reshape(sh), lossy=True)
    filt("quantize_f8_3", "<f8", [{"id": "quantize", "digits": 3, "dtype": "<f8",
                                   "astype": "<f8"}], COMP2[1],
         data=((np.arange(n) - 100) * 0.123456).reshape(sh), lossy=True)
    filt("astype_f8_as_f4", "<f8", [{"id": "astype", "encode_dtype": "<f4",
                                     "decode_dtype": "<f8"}], None,
         data=((np.arange(n) - 100) * 0.1).reshape(sh), lossy=True)
    filt("packbits_b1", "|b1", [{"id": "packbits"}], COMP2[6])
    filt("packbits_b1_F", "|b1", [{"id": "packbits"}], None, order="F")
    filt("bitround_f4_7", "<f4", [{"id": "bitround", "keepbits": 7}], COMP2[10], lossy=True)
    filt("bitround_f8_20", "<f8", [{"id": "bitround", "keepbits": 20}], None, lossy=True,
         order="F")
    filt("adler32_i4_blosc", "<i4", [{"id": "adler32"}], COMP2[3])
    filt("crc32_u2", "<u2", [{"id": "crc32"}], None)
    filt("chain_delta_shuffle_crc32_zstd", "<i8",
         [{"id": "delta", "dtype": "<i8"}, {"id": "shuffle", "elementsize": 8}, {"id": "crc32"}],
         COMP2[10], order="F")
    filt("vlen_utf8_then_crc32", "string", [{"id": "vlen-utf8"}, {"id": "crc32"}], COMP2[6],
         kind="str")
    c = Case("filters/crc32_as_compressor_S7", "|S7", "|S7", sh, ch,
             create=["--compressor", '{"id":"crc32"}'], zarray={"compressor": {"id": "crc32"}})
    c.writes = default_writes(c, 9)
    cases.append(c)

    # ---- --codecs in v3 spelling for a v2 array -----------------------------------------------
    def v3c(name, sp, npd, shape, chunks, codecs, zarray, kind=None):
        c = Case("v3spelling/" + name, sp, npd, shape, chunks, kind=kind,
                 create=["--codecs", json.dumps(codecs)], zarray=zarray)
        c.writes = default_writes(c, len(name))
        cases.append(c)

    v3c("bytes_big_blosc_bitshuffle_i4", "int32", ">i4", (9, 11), (4, 5),
        [{"name": "bytes", "configuration": {"endian": "big"}},
         {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3,
                                             "shuffle": "bitshuffle", "typesize": 4}}],
        {"dtype": ">i4", "order": "C", "filters": None,
         "compressor": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2}})
    v3c("transpose_zstd_f8", "float64", "<f8", (9, 11), (4, 5),
        [{"name": "transpose", "configuration": {"order": [1, 0]}},
         {"name": "bytes", "configuration": {"endian": "little"}},
         {"name": "zstd", "configuration": {"level": 5, "checksum": False}}],
        {"dtype": "<f8", "order": "F", "compressor": {"id": "zstd", "level": 5}})
    v3c("transpose3d_bytes_big_f4", "float32", ">f4", (4, 5, 6), (3, 2, 4),
        [{"name": "transpose", "configuration": {"order": [2, 1, 0]}},
         {"name": "bytes", "configuration": {"endian": "big"}}],
        {"dtype": ">f4", "order": "F", "compressor": None})
    v3c("bytes_gzip_u2", "uint16", "<u2", (9, 11), (4, 5),
        [{"name": "bytes", "configuration": {"endian": "little"}},
         {"name": "gzip", "configuration": {"level": 6}}],
        {"dtype": "<u2", "compressor": {"id": "gzip", "level": 6}})
    v3c("blosc_lz4_shuffle_c16", "complex128", "<c16", (9, 11), (4, 5),
        [{"name": "bytes", "configuration": {"endian": "little"}},
         {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                             "typesize": 8, "blocksize": 0}}],
        {"dtype": "<c16", "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5,
                                         "shuffle": 1}})
    v3c("vlen_utf8_zstd", "string", "|O", (9, 11), (4, 5),
        [{"name": "vlen-utf8"}, {"name": "zstd", "configuration": {"level": 1}}],
        {"dtype": "|O", "filters": [{"id": "vlen-utf8"}], "compressor": {"id": "zstd",
                                                                       "level": 1}},
        kind="str")
    v3c("numcodecs_delta_zlib_i8", "int64", "<i8", (9, 11), (4, 5),
        [{"name": "numcodecs.delta", "configuration": {"dtype": "<i8"}},
         {"name": "bytes", "configuration": {"endian": "little"}},
         {"name": "numcodecs.zlib", "configuration": {"level": 1}}],
        {"dtype": "<i8", "filters": [{"id": "delta", "dtype": "<i8"}],
         "compressor": {"id": "zlib", "level": 1}})
    # v2 spelling in --codecs: only the data must survive (how the list splits into filters and
    # compressor is zarrc's choice).
    v3c("v2_spelling_list_shuffle_zlib_f4", "<f4", "<f4", (9, 11), (4, 5),
        [{"id": "shuffle", "elementsize": 4}, {"id": "zlib", "level": 1}], {"dtype": "<f4"})
    return cases


ROOT_ATTRS = {"title": "written by zarrc", "ünïcødé": "日本語 😀 e\u0301",
              "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}},
              "exact_int": 9007199254740993, "neg": -7, "float": 0.1}
ARRAY_ATTRS = {"units": "m/s²", "_ARRAY_DIMENSIONS": ["y", "x"], "scale": 1e-300}
GROUP_ATTRS = {"depth": 2, "name": "g2 ✓"}


def expected_array(c):
    dt = np.dtype(c.np_dtype)
    if c.fill is not None:
        a = np.full(c.shape, c.fill[1], dtype=dt)
    elif c.kind:
        a = np.full(c.shape, "" if c.kind == "str" else b"", dtype=object)
    else:
        a = np.zeros(c.shape, dtype=dt)
    for sel, data, _ in c.writes:
        if sel is None:
            a[...] = data
        else:
            a[C.parse_selection(sel)] = data
    if c.lossy_filters:
        flat = np.ascontiguousarray(a).reshape(-1)
        codecs = [get_codec(dict(f)) for f in c.lossy_filters]
        x = flat
        for cd in codecs:
            x = cd.encode(x)
        for cd in reversed(codecs):
            x = cd.decode(x)
        a = np.asarray(x).astype(dt).reshape(c.shape)
    return a


def run_case(zc, work, c, tmpdir):
    """Create and fill one array with zarrc; return (manifest entry, zarrc failures)."""
    node = os.path.join(work, "zc.zarr", c.name)
    args = ["create", node, "--format", "2", "--dtype", c.spelling,
            "--shape", ",".join(map(str, c.shape)),
            "--chunks", ",".join(map(str, c.chunks))] + c.create
    if c.attrs:
        args += ["--attrs", json.dumps(c.attrs, ensure_ascii=False)]
    if not c.shape:
        # 0-d arrays: empty shape/chunks lists
        args[args.index("--shape") + 1] = ""
        args[args.index("--chunks") + 1] = ""
    fails = []
    rc, out, err = zc.run(*args)
    if rc != 0:
        fails.append("%s: `%s` exited %d: %s" % (c.name, zc.cmdline(*args), rc, err))
    else:
        for k, (sel, data, via_stdin) in enumerate(c.writes):
            vals = C.encode_values(np.asarray(data), c.kind)
            payload = json.dumps(vals, ensure_ascii=False)
            pargs = ["put", node] + (["--select", sel] if sel is not None else [])
            if via_stdin:
                pargs += ["--json", "-"]
                rc, out, err = zc.run(*pargs, stdin=payload.encode("utf-8"))
            else:
                fn = os.path.join(tmpdir, c.name.replace("/", "__") + ".%d.json" % k)
                with open(fn, "w", encoding="utf-8") as f:
                    f.write(payload)
                pargs += ["--json", fn]
                rc, out, err = zc.run(*pargs)
            if rc != 0:
                fails.append("%s: `%s` exited %d: %s (data: %.200s)" % (
                    c.name, zc.cmdline(*pargs), rc, err, payload))
                break
    exp = expected_array(c)
    entry = {"name": c.name, "path": "zc.zarr/" + c.name, "np_dtype": c.np_dtype,
             "kind": c.kind, "expected": C.encode_doc(exp, c.kind), "zarray": c.zarray,
             "absent": c.absent, "present": c.present, "attrs": c.attrs, "zarrc_failures": fails,
             "commands": [zc.cmdline(*args)]}
    return entry


def main():
    if len(sys.argv) != 3:
        print("usage: zarrc_write.py ZARRC WORKDIR", file=sys.stderr)
        return 2
    zc = C.Zarrc(sys.argv[1])
    work = sys.argv[2]
    root = os.path.join(work, "zc.zarr")
    tmpdir = os.path.join(work, "zc_input")
    for p in (root, tmpdir):
        if os.path.exists(p):
            shutil.rmtree(p)
    os.makedirs(tmpdir)

    cases = build_cases()
    cases[0].attrs = ARRAY_ATTRS
    group_fails = []
    groups = {"": ROOT_ATTRS}
    for grp in sorted({c.name.split("/")[0] for c in cases}):
        groups[grp] = {}
    groups["g1"] = {}
    groups["g1/g2"] = GROUP_ATTRS
    for grp, attrs in groups.items():
        args = ["create", os.path.join(root, grp), "--group", "--format", "2"]
        if attrs:
            args += ["--attrs", json.dumps(attrs, ensure_ascii=False)]
        rc, out, err = zc.run(*args)
        if rc != 0:
            group_fails.append("group %r: `%s` exited %d: %s" % (grp, zc.cmdline(*args), rc, err))

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        entries = list(ex.map(lambda c: run_case(zc, work, c, tmpdir), cases))

    arrays_by_group = {}
    for c in cases:
        grp, _, leaf = c.name.rpartition("/")
        arrays_by_group.setdefault(grp, []).append(leaf)
    manifest = {"root": "zc.zarr", "arrays": entries, "group_failures": group_fails,
                "groups": {g: {"attrs": a, "arrays": sorted(arrays_by_group.get(g, [])),
                               "groups": sorted(x.rpartition("/")[2] for x in groups
                                                if x and x.rpartition("/")[0] == g)}
                           for g, a in groups.items()}}
    with open(os.path.join(work, "zc_manifest.json"), "w") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    nfail = sum(1 for e in entries if e["zarrc_failures"]) + len(group_fails)
    print("zarrc wrote %d v2 arrays under %s (%d zarrc commands failed)" % (
        len(entries), root, nfail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
