#!/usr/bin/env python3
"""Interop with zarrs 0.23.14 (tests/interop_zarrs/src/bin/zarrc-zarrs-optional.rs) for its
experimental optional (nullable) data type and `zarrs.optional` codec.

usage: run_optional.py ZARRC WORKDIR

zarrs writes each case (inner types uint8, int16, float64, bool, float8_e4m3 and 2-D int32;
mask through packbits or bytes(+zstd), data through bytes or bytes+zstd; fill null and [v];
chunks with no present value), zarrc reads it element by element (`get --json`: null for a
missing element) whole and through a selection; zarrc writes the same case (create --codecs +
put --json with nulls), zarrs reads it element by element. The same both ways for optional
string and bytes arrays (data through vlen-utf8 / vlen-bytes, zarrs.vlen_v2, zarrs.vlen, +zstd;
empty values next to nulls, an all-null chunk, ragged edge chunks, 2-D, fill null / ["text"] /
[[bytes]], inside sharding_indexed, zarrc's default codecs), where zarrc's chunks must also be
byte-identical to zarrs' for the same values and codecs.
"""
import base64
import json
import os
import struct
import subprocess
import sys

import zarrs_common as zc
from zarrs_common import check

ZARRC = WORK = None  # from the command line (main)
PACKBITS = {"name": "packbits", "configuration": {"padding_encoding": "none"}}
LE = {"name": "bytes", "configuration": {"endian": "little"}}
ZSTD = {"name": "zstd", "configuration": {"level": 3, "checksum": False}}

# inner type, JSON values (None = missing), packing of one present value, fill JSON
INNER = {
    "uint8": ([0, None, 2, 3, None, 255, None, 7, 8, None], lambda v: struct.pack("<B", v), None),
    "int16": ([-1, None, 300, None, None, None, -32768, 32767, None, 5], lambda v: struct.pack("<h", v), [7]),
    "float64": ([1.5, None, -0.0, 1e300, None, 2.25, None, None, 3.0, None], lambda v: struct.pack("<d", v), None),
    "bool": ([True, None, False, True, None, None, False, None, True, True], lambda v: struct.pack("<?", v), [False]),
    "float8_e4m3": ([1.0, None, -2.0, 240.0, None, 0.5, None, None, 0.25, None], None, None),
}
E4M3 = {1.0: 0x38, -2.0: 0xC0, 240.0: 0x77, 0.5: 0x30, 0.25: 0x28}  # IEEE-like E4M3 (max 240)


def packed(inner, v):
    if inner == "float8_e4m3":
        return bytes([E4M3[v]])
    return INNER[inner][1](v)


CODECS = {
    "packbits_bytes": {"mask_codecs": [PACKBITS], "data_codecs": [LE]},
    "bytes_zstd": {"mask_codecs": [{"name": "bytes"}, ZSTD], "data_codecs": [LE, ZSTD]},
}


def metadata(inner, shape, chunks, cfg, fill, codecs=None):
    return {"zarr_format": 3, "node_type": "array", "shape": shape,
            "data_type": {"name": "zarrs.optional", "configuration": {"name": inner, "configuration": {}}},
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill, "codecs": codecs or [{"name": "zarrs.optional", "configuration": cfg}],
            "attributes": {}}


def zarrc_get(node, select=None):
    return zc.zarrc_data(ZARRC, node, select)


# ---- optional string and bytes ----

# string values as JSON (None = missing); "" next to null; chunks of 4: [a, -, "", héllo],
# [-, 😀, "", -], the edge chunk [-, -] holds no present value
STR_VALS = ["a", None, "", "héllo", None, "😀", "", None, None, None]
# bytes values (base64 in zarrc's JSON); the second chunk of 4 holds no present value
BYTES_VALS = [b"\x00", None, b"", b"\xff" * 5, None, None, None, None, b"ab", None]
UTF8 = {"name": "vlen-utf8", "configuration": {}}
VBYTES = {"name": "vlen-bytes", "configuration": {}}
VLEN_V2 = {"name": "zarrs.vlen_v2", "configuration": {}}
ZVLEN = {"name": "zarrs.vlen", "configuration": {"data_codecs": [{"name": "bytes"}], "index_codecs": [LE],
                                                 "index_data_type": "uint32", "index_location": "start"}}


def opt(mask, data):
    return {"name": "zarrs.optional", "configuration": {"mask_codecs": mask, "data_codecs": data}}


def shard(inner_chunks, codecs):
    return {"name": "sharding_indexed", "configuration": {
        "chunk_shape": inner_chunks, "codecs": codecs,
        "index_codecs": [LE, {"name": "crc32c", "configuration": {}}], "index_location": "end"}}


def vjson(inner, v):
    """A value as zarrc's JSON shows it (bytes as base64)."""
    if v is None or inner == "string":
        return v
    return base64.b64encode(v).decode()


def vhex(inner, v):
    return None if v is None else (v.encode() if inner == "string" else v).hex()


def vlen_case_list():
    c = []
    for dname, data in (("utf8", [UTF8]), ("utf8_zstd", [UTF8, ZSTD]), ("vlen_v2", [VLEN_V2]),
                        ("zarrs_vlen", [ZVLEN])):
        c.append((f"string_{dname}", "string", [10], [4], [opt([PACKBITS], data)], None, STR_VALS))
    for dname, data in (("vbytes", [VBYTES]), ("vlen_v2", [VLEN_V2])):
        c.append((f"bytes_{dname}", "bytes", [10], [4], [opt([PACKBITS], data)], None, BYTES_VALS))
    c.append(("string_mask_bytes_zstd", "string", [10], [4], [opt([{"name": "bytes"}, ZSTD], [VLEN_V2])], None,
              STR_VALS))
    # fill ["text"]: a present fill value; a chunk of only that value is not stored
    fv = ["zz", None, "zz", "", "zz", "zz", "zz", "zz", None, "q"]
    c.append(("string_fill_text", "string", [10], [4], [opt([PACKBITS], [UTF8])], ["zz"], fv))
    c.append(("bytes_fill_bytes", "bytes", [10], [4], [opt([PACKBITS], [VBYTES])], [[0, 255]],
              [b"\x00\xff", None, b"", b"\x00\xff"] + [b"\x00\xff"] * 4 + [None, b"x"]))
    # 2-D with ragged edge chunks
    v2 = [None if i % 4 == 1 else ("" if i % 5 == 0 else "s%d" % i) for i in range(15)]
    c.append(("string_2d", "string", [3, 5], [2, 2], [opt([PACKBITS], [UTF8])], None, v2))
    # sharded: shards of 4, inner chunks of 2 (the edge shard [8:10] is one all-null inner chunk)
    c.append(("string_sharded", "string", [10], [4], [shard([2], [opt([PACKBITS], [UTF8])])], None, STR_VALS))
    c.append(("bytes_sharded_v2", "bytes", [10], [4], [shard([2], [opt([PACKBITS], [VLEN_V2])])], None, BYTES_VALS))
    return c


def chunk_files(node):
    out = {}
    for root, _, files in os.walk(os.path.join(node, "c")):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                out[os.path.relpath(os.path.join(root, f), node)] = fh.read()
    return out


def vlen_cases(prog):
    cases = vlen_case_list()
    # zarrs writes, zarrc reads (whole, a selection across chunks, metadata)
    spec = [{"dir": os.path.join(WORK, "by_zarrs", name), "metadata": metadata(inner, sh, ch, None, fill, codecs),
             "elements": [vhex(inner, v) for v in vals]} for name, inner, sh, ch, codecs, fill, vals in cases]
    wrote = zc.run_cases(prog, "write", spec, os.path.join(WORK, "write_vlen.json"))
    for (name, inner, sh, ch, codecs, fill, vals), s in zip(cases, spec):
        if not check(wrote.get(s["dir"]) == "ok", f"zarrs writes {name}: {wrote.get(s['dir'])}"):
            continue
        want = [vjson(inner, v) for v in vals]
        got = zarrc_get(s["dir"])
        check(got == want, f"zarrc reads zarrs' {name}: {str(got)[:300]} != {want}")
        if len(sh) == 1:
            got = zarrc_get(s["dir"], "3:9")
            check(got == want[3:9], f"zarrc reads zarrs' {name}[3:9]: {got} != {want[3:9]}")
        else:
            got = zarrc_get(s["dir"], "1:3,2:5")
            w = [want[r * 5 + c] for r in range(1, 3) for c in range(2, 5)]
            check(got == w, f"zarrc reads zarrs' {name}[1:3,2:5]: {got} != {w}")
        r = subprocess.run([ZARRC, "info", s["dir"], "--json"], capture_output=True, text=True)
        # zarrc spells a bytes fill as base64 (["AP8="]), zarrs as a list of byte values ([[0, 255]])
        same = [fill, [vjson(inner, bytes(fill[0]))]] if inner == "bytes" and fill else [fill]
        check(r.returncode == 0 and json.loads(r.stdout).get("fill_value") in same,
              f"zarrc info {name}: fill {r.stdout[:600]} {r.stderr[:200]} not in {same}")
    # unwritten chunks read as the fill value: ["text"] = present, null = missing
    for fill, want in ((["zz"], ["zz"] * 3), (None, [None] * 3)):
        node = os.path.join(WORK, "by_zarrs", f"string_empty_{'null' if fill is None else 'text'}")
        os.makedirs(node, exist_ok=True)
        with open(os.path.join(node, "zarr.json"), "w") as f:
            json.dump(metadata("string", [3], [2], None, fill, [opt([PACKBITS], [UTF8])]), f)
        got = zarrc_get(node)
        check(got == want, f"zarrc reads unwritten optional string chunks with fill {fill}: {got}")

    # zarrc writes the same, zarrs reads; zarrc's chunks equal zarrs'
    back = []
    for name, inner, sh, ch, codecs, fill, vals in cases:
        node = os.path.join(WORK, "by_zarrc", name)
        dtype = json.dumps({"name": "zarrs.optional", "configuration": {"name": inner, "configuration": {}}})
        args = [ZARRC, "create", node, "--dtype", dtype, "--shape", ",".join(map(str, sh)), "--chunks",
                ",".join(map(str, ch)), "--codecs", json.dumps(codecs)]
        if fill is not None:
            args += ["--fill-value", json.dumps(fill)]
        r = subprocess.run(args, capture_output=True, text=True)
        if not check(r.returncode == 0, f"zarrc create {name}: {r.stderr.strip()}"):
            continue
        r = subprocess.run([ZARRC, "put", node, "--json", "-"], input=json.dumps([vjson(inner, v) for v in vals]),
                           capture_output=True, text=True)
        if check(r.returncode == 0, f"zarrc put {name}: {r.stderr.strip()}"):
            back.append((name, inner, vals, node))
        mine, theirs = chunk_files(node), chunk_files(os.path.join(WORK, "by_zarrs", name))
        check(sorted(mine) == sorted(theirs), f"zarrc stores the chunks zarrs stores for {name}: {sorted(mine)} "
              f"!= {sorted(theirs)}")
        same = [k for k in mine if theirs.get(k) == mine[k]]
        check(len(same) == len(mine), f"zarrc's chunks of {name} are byte-identical to zarrs': only {same} of "
              f"{sorted(mine)}")
    # zarrc's default codecs for optional string and bytes (mask packbits, data vlen-utf8 / vlen-bytes)
    for inner, vals in (("string", STR_VALS), ("bytes", BYTES_VALS)):
        node = os.path.join(WORK, "by_zarrc", f"{inner}_default_codecs")
        dtype = json.dumps({"name": "zarrs.optional", "configuration": {"name": inner}})
        r = subprocess.run([ZARRC, "create", node, "--dtype", dtype, "--shape", "10", "--chunks", "4"],
                           capture_output=True, text=True)
        if check(r.returncode == 0, f"zarrc create {inner}_default_codecs: {r.stderr}"):
            r = subprocess.run([ZARRC, "put", node, "--json", "-"], input=json.dumps([vjson(inner, v) for v in vals]),
                               capture_output=True, text=True)
            if check(r.returncode == 0, f"zarrc put {inner}_default_codecs: {r.stderr}"):
                back.append((f"{inner}_default_codecs", inner, vals, node))
    read = zc.run_cases(prog, "read", [{"dir": node} for *_, node in back], os.path.join(WORK, "read_vlen.json"))
    for name, inner, vals, node in back:
        want = [vhex(inner, v) for v in vals]
        if "sharded" in name:
            # zarrs 0.23.14 writes optional arrays inside sharding_indexed (its chunks are the ones
            # compared above) but reads neither its own nor zarrc's: its sharding codec refuses the
            # optional data type. If it starts reading them this fails, to upgrade the proof.
            theirs = os.path.join(WORK, "by_zarrs", name)
            again = zc.run_cases(prog, "read", [{"dir": theirs}], os.path.join(WORK, "read_own.json"))
            for got in (read.get(node), again.get(theirs)):
                check(isinstance(got, str) and "Unsupported data type zarrs.optional for codec sharding_indexed"
                      in got, f"zarrs 0.23.14 refuses to read sharded optional {name}: {str(got)[:300]}")
            continue
        check(read.get(node) == want, f"zarrs reads zarrc's {name}: {str(read.get(node))[:300]} != {want}")
    # a write that leaves a chunk all null erases it (fill null), and "" stays distinct from null
    node = os.path.join(WORK, "by_zarrc", "string_utf8")
    r = subprocess.run([ZARRC, "put", node, "--select", "0:4", "--json", "-"], input='[null, null, null, null]',
                       capture_output=True, text=True)
    check(r.returncode == 0 and not os.path.exists(os.path.join(node, "c", "0")),
          f"an all-null chunk is erased: {r.stderr} {os.listdir(os.path.join(node, 'c'))}")
    r = subprocess.run([ZARRC, "put", node, "--select", "0:4", "--json", "-"], input='["", "", "", ""]',
                       capture_output=True, text=True)
    got = zarrc_get(node, "0:4")
    check(r.returncode == 0 and got == ["", "", "", ""] and os.path.exists(os.path.join(node, "c", "0")),
          f"empty strings are not null: {got} {r.stderr}")
    read = zc.run_cases(prog, "read", [{"dir": node}], os.path.join(WORK, "read_vlen2.json"))
    check(read.get(node, [None])[:5] == ["", "", "", "", None], f"zarrs reads \"\" vs null: {read.get(node)}")
    # a value of the wrong kind is refused, not stored
    r = subprocess.run([ZARRC, "put", node, "--select", "0:1", "--json", "-"], input='[1]',
                       capture_output=True, text=True)
    check(r.returncode != 0, f"a number is not an optional string value: {r.returncode}")


def main():
    global ZARRC, WORK
    ZARRC, WORK = zc.args()
    prog = zc.build("zarrc-zarrs-optional")
    cases = []
    for inner, (vals, _, fill) in INNER.items():
        for cname, cfg in CODECS.items():
            cases.append((f"{inner}_{cname}", inner, [10], [4], cfg, fill, vals))
    # 2-D, ragged edge chunks, a chunk with no present value, fill [v]
    vals2 = [None] * 6 + [i * 10 if i % 3 else None for i in range(6, 24)]
    cases.append(("int32_2d", "int32", [4, 6], [3, 4], CODECS["packbits_bytes"], [-5], vals2))
    INNER.setdefault("int32", (vals2, lambda v: struct.pack("<i", v), [-5]))

    # zarrs writes, zarrc reads
    spec = [{"dir": os.path.join(WORK, "by_zarrs", name), "metadata": metadata(inner, sh, ch, cfg, fill),
             "elements": [None if v is None else packed(inner, v).hex() for v in vals]}
            for name, inner, sh, ch, cfg, fill, vals in cases]
    with open(os.path.join(WORK, "write.json"), "w") as f:
        json.dump(spec, f)
    r = subprocess.run([prog, "write", os.path.join(WORK, "write.json")], capture_output=True, text=True)
    check(r.returncode == 0, f"zarrs write: {r.stderr[-2000:]}")
    wrote = json.loads(r.stdout) if r.returncode == 0 else {}
    for (name, inner, sh, ch, cfg, fill, vals), s in zip(cases, spec):
        if not check(wrote.get(s["dir"]) == "ok", f"zarrs writes {name}: {wrote.get(s['dir'])}"):
            continue
        got = zarrc_get(s["dir"])
        check(got == vals, f"zarrc reads zarrs' {name}: {str(got)[:300]} != {vals}")
        if len(sh) == 1:
            got = zarrc_get(s["dir"], "3:9")
            check(got == vals[3:9], f"zarrc reads zarrs' {name}[3:9]: {got}")
        else:
            got = zarrc_get(s["dir"], "1:3,2:6")
            want = [vals[r * 6 + c] for r in range(1, 3) for c in range(2, 6)]
            check(got == want, f"zarrc reads zarrs' {name}[1:3,2:6]: {got} != {want}")
        with open(os.path.join(s["dir"], "zarr.json")) as f:
            meta = json.load(f)
        check(meta["fill_value"] == fill, f"zarrs writes fill {fill} for {name}: {meta['fill_value']}")
        r = subprocess.run([ZARRC, "info", s["dir"], "--json"], capture_output=True, text=True)
        check(r.returncode == 0 and json.loads(r.stdout).get("fill_value", "absent") in (fill, "absent"),
              f"zarrc info {name}: {r.stdout[:200]} {r.stderr[:200]}")
    # an unwritten chunk reads as the fill value: [v] = present everywhere, null = missing
    for fill, want in (([-5], [-5] * 4), (None, [None] * 4)):
        node = os.path.join(WORK, "by_zarrs", f"empty_{'null' if fill is None else 'v'}")
        s = {"dir": node, "metadata": metadata("int32", [4], [2], CODECS["packbits_bytes"], fill), "elements": []}
        os.makedirs(node, exist_ok=True)
        with open(os.path.join(node, "zarr.json"), "w") as f:
            json.dump(s["metadata"], f)
        got = zarrc_get(node)
        check(got == want, f"zarrc reads unwritten chunks with fill {fill}: {got}")

    # zarrc writes, zarrs reads
    back = []
    for name, inner, sh, ch, cfg, fill, vals in cases:
        node = os.path.join(WORK, "by_zarrc", name)
        dtype = json.dumps({"name": "zarrs.optional", "configuration": {"name": inner, "configuration": {}}})
        args = [ZARRC, "create", node, "--dtype", dtype, "--shape", ",".join(map(str, sh)), "--chunks",
                ",".join(map(str, ch)), "--codecs", json.dumps([{"name": "zarrs.optional", "configuration": cfg}])]
        if fill is not None:
            args += ["--fill-value", json.dumps(fill)]
        r = subprocess.run(args, capture_output=True, text=True)
        if not check(r.returncode == 0, f"zarrc create {name}: {r.stderr.strip()}"):
            continue
        r = subprocess.run([ZARRC, "put", node, "--json", "-"], input=json.dumps(vals), capture_output=True, text=True)
        if check(r.returncode == 0, f"zarrc put {name}: {r.stderr.strip()}"):
            back.append((name, inner, vals, node))
        with open(os.path.join(node, "zarr.json")) as f:
            meta = json.load(f)
        check(meta["data_type"] == {"name": "zarrs.optional", "configuration": {"name": inner, "configuration": {}}}
              and meta["fill_value"] == fill and meta["codecs"][0]["name"] == "zarrs.optional",
              f"zarrc's metadata for {name}: {meta['data_type']} {meta['fill_value']}")
    # zarrc's default codecs for an optional array (no --codecs)
    node = os.path.join(WORK, "by_zarrc", "default_codecs")
    r = subprocess.run([ZARRC, "create", node, "--dtype", '{"name":"zarrs.optional","configuration":{"name":"uint16"}}',
                        "--shape", "5", "--chunks", "2"], capture_output=True, text=True)
    if check(r.returncode == 0, f"zarrc create default_codecs: {r.stderr}"):
        r = subprocess.run([ZARRC, "put", node, "--json", "-"], input="[1, null, 65535, null, 4]",
                           capture_output=True, text=True)
        if check(r.returncode == 0, f"zarrc put default_codecs: {r.stderr}"):
            INNER["uint16"] = ([1, None, 65535, None, 4], lambda v: struct.pack("<H", v), None)
            back.append(("default_codecs", "uint16", [1, None, 65535, None, 4], node))
    with open(os.path.join(WORK, "read.json"), "w") as f:
        json.dump([{"dir": node} for *_, node in back], f)
    r = subprocess.run([prog, "read", os.path.join(WORK, "read.json")], capture_output=True, text=True)
    check(r.returncode == 0, f"zarrs read: {r.stderr[-2000:]}")
    read = json.loads(r.stdout) if r.returncode == 0 else {}
    for name, inner, vals, node in back:
        want = [None if v is None else packed(inner, v).hex() for v in vals]
        check(read.get(node) == want, f"zarrs reads zarrc's {name}: {str(read.get(node))[:300]} != {want}")

    vlen_cases(prog)

    # corrupt: a header whose lengths pass the chunk is refused, not read wrong
    node = os.path.join(WORK, "by_zarrc", "uint8_packbits_bytes")
    chunk = os.path.join(node, "c", "0")
    with open(chunk, "r+b") as f:
        b = bytearray(f.read())
        b[0] = 0xff
        f.seek(0)
        f.write(b)
    got = zarrc_get(node)
    check(isinstance(got, str) and "zarrs.optional" in got, f"a corrupt zarrs.optional header is refused: {got}")

    return zc.finish("zarrs optional")


if __name__ == "__main__":
    sys.exit(main())
