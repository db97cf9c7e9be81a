#!/usr/bin/env python3
"""Interop with zarrs (the Rust crate, tests/interop_zarrs/src/bin/zarrc-zarrs-vlen.rs) for its
variable-length codecs on string and bytes arrays: `zarrs.vlen` (index and data through their
own codec chains, index at the start or the end, uint32 or uint64 offsets, the first draft's
configuration without index_location) and `zarrs.vlen_v2` (the v2 vlen-utf8 / vlen-bytes
layout under zarrs' own name, alone, followed by zstd, inside sharding_indexed, and spelled by
its URL alias).

usage: run_vlen.py ZARRC WORKDIR

zarrs writes each case, zarrc reads it element by element (whole and a selection across chunks);
zarrc writes the same case (create --codecs + put --json), zarrs reads it element by element.
For zarrs.vlen_v2 zarrc's chunks must be byte-identical to zarrs' and to vlen-utf8 / vlen-bytes
chunks of the same values. The program is built with cargo (zarrs_common.py: same cache and
pinned Cargo.lock as run_zarrs.py's).
"""
import base64
import json
import os
import subprocess
import sys

import zarrs_common as zc
from zarrs_common import check

ZARRC = WORK = None  # from the command line (main)


STRINGS = ["", "a", "héllo wörld", "😀" * 3, "x" * 1000, "tab\tnew\nline", "end", "", "z" * 17, "ω"]
BLOBS = [b"", b"\x00\x01\x02", b"\xff" * 40, b"abc", bytes(range(256)), b"", b"q", b"\x00", b"last", b"!"]

LE = {"name": "bytes", "configuration": {"endian": "little"}}
ZSTD = {"name": "zstd", "configuration": {"level": 3, "checksum": False}}


def vlen(index_type, location=None, index_extra=(), data_extra=()):
    cfg = {"data_codecs": [{"name": "bytes"}, *data_extra], "index_codecs": [LE, *index_extra],
           "index_data_type": index_type}
    if location:
        cfg["index_location"] = location
    return {"name": "zarrs.vlen", "configuration": cfg}


VLEN_V2 = {"name": "zarrs.vlen_v2", "configuration": {}}


def shard(inner_chunks, codecs):
    return {"name": "sharding_indexed", "configuration": {
        "chunk_shape": inner_chunks, "codecs": codecs,
        "index_codecs": [LE, {"name": "crc32c", "configuration": {}}], "index_location": "end"}}


CODECS = {
    "vlen_u32_start": [vlen("uint32", "start")],
    "vlen_u64_end_zstd": [vlen("uint64", "end", [ZSTD], [ZSTD])],
    "vlen_v0_draft": [vlen("uint32")],
    "vlen_then_zstd": [vlen("uint64", "end"), ZSTD],
    "vlen_v2": [VLEN_V2],
    "vlen_v2_zstd": [VLEN_V2, ZSTD],
    "vlen_v2_sharded": None,  # per shape, below
    "vlen_v2_url": [{"name": "https://codec.zarrs.dev/array_to_bytes/vlen_v2"}],
}
# zarrs.vlen_v2 chunks are the v2 vlen-utf8 / vlen-bytes bytes: the same values under those
# codecs give the same chunks (zarrc writes them; compared byte for byte below)
V2_SAME = {"string": "vlen-utf8", "bytes": "vlen-bytes"}
# (zarrs 0.23.14 refuses its documented v3 `numcodecs.vlen-array` on string and bytes arrays
# — "codec numcodecs.vlen-array is not supported" — so that spelling has no peer case here.)


def metadata(dtype, shape, chunks, codecs):
    return {"zarr_format": 3, "node_type": "array", "shape": shape, "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": "" if dtype == "string" else [], "codecs": codecs, "attributes": {}}


def elements_of(dtype):
    return [s.encode() for s in STRINGS] if dtype == "string" else BLOBS


def as_json(dtype, e):
    return e.decode() if dtype == "string" else base64.b64encode(e).decode()


def zarrc_elements(node, select=None):
    return zc.zarrc_data(ZARRC, node, select)


def chunk_files(node):
    out = {}
    for root, _, files in os.walk(os.path.join(node, "c")):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                out[os.path.relpath(os.path.join(root, f), node)] = fh.read()
    return out


def main():
    global ZARRC, WORK
    ZARRC, WORK = zc.args()
    prog = zc.build("zarrc-zarrs-vlen")
    cases = []
    for dtype in ("string", "bytes"):
        for cname, codecs in CODECS.items():
            for shape, chunks in (([10], [4]), ([2, 5], [2, 3])):
                if cname == "vlen_v2_sharded":  # shards of `chunks`, inner chunks of 2 / 1x3
                    codecs = [shard([2] if len(shape) == 1 else [1, 3], [VLEN_V2])]
                cases.append((f"{dtype}_{cname}_{len(shape)}d", dtype, shape, chunks, codecs))

    # zarrs writes, zarrc reads
    spec = [{"dir": os.path.join(WORK, "by_zarrs", name), "metadata": metadata(dt, sh, ch, co),
             "elements": [e.hex() for e in elements_of(dt)]} for name, dt, sh, ch, co in cases]
    with open(os.path.join(WORK, "write.json"), "w") as f:
        json.dump(spec, f)
    r = subprocess.run([prog, "write", os.path.join(WORK, "write.json")], capture_output=True, text=True)
    check(r.returncode == 0, f"zarrs write: {r.stderr[-2000:]}")
    wrote = json.loads(r.stdout) if r.returncode == 0 else {}
    for (name, dt, sh, ch, co), s in zip(cases, spec):
        if not check(wrote.get(s["dir"]) == "ok", f"zarrs writes {name}: {wrote.get(s['dir'])}"):
            continue
        want = [as_json(dt, e) for e in elements_of(dt)]
        got = zarrc_elements(s["dir"])
        check(got == want, f"zarrc reads zarrs' {name}: {str(got)[:300]}")
        sel = "3:9" if len(sh) == 1 else "0:2,1:4"
        idx = list(range(3, 9)) if len(sh) == 1 else [r * 5 + c for r in range(2) for c in range(1, 4)]
        got = zarrc_elements(s["dir"], sel)
        check(got == [want[i] for i in idx], f"zarrc reads zarrs' {name}[{sel}]: {str(got)[:300]}")

    # zarrc writes, zarrs reads
    back = []
    for name, dt, sh, ch, co in cases:
        node = os.path.join(WORK, "by_zarrc", name)
        r = subprocess.run([ZARRC, "create", node, "--dtype", dt, "--shape", ",".join(map(str, sh)), "--chunks",
                            ",".join(map(str, ch)), "--codecs", json.dumps(co)], capture_output=True, text=True)
        if not check(r.returncode == 0, f"zarrc create {name}: {r.stderr.strip()}"):
            continue
        data = json.dumps([as_json(dt, e) for e in elements_of(dt)])
        r = subprocess.run([ZARRC, "put", node, "--json", "-"], input=data, capture_output=True, text=True)
        if check(r.returncode == 0, f"zarrc put {name}: {r.stderr.strip()}"):
            back.append((name, dt, node))
        with open(os.path.join(node, "zarr.json")) as f:
            meta = json.load(f)
        want_name = "zarrs.vlen_v2" if co[0]["name"].endswith("/vlen_v2") else co[0]["name"]
        check(meta["codecs"][0]["name"] == want_name, f"zarrc writes {name} with {want_name}: {meta['codecs'][0]}")
        if "vlen_v2" in name:
            mine, theirs = chunk_files(node), chunk_files(os.path.join(WORK, "by_zarrs", name))
            check(mine == theirs and mine, f"zarrc's zarrs.vlen_v2 chunks of {name} are byte-identical to zarrs' "
                  f"({sorted(mine)} vs {sorted(theirs)})")
    # zarrs.vlen_v2 = the v2 layout: zarrc's vlen-utf8 / vlen-bytes chunks of the same values are the same bytes
    for dt in ("string", "bytes"):
        for shape, chunks in (([10], [4]), ([2, 5], [2, 3])):
            name = f"{dt}_vlen_v2_{len(shape)}d"
            node = os.path.join(WORK, "by_zarrc", f"{dt}_{V2_SAME[dt]}_{len(shape)}d")
            r = subprocess.run([ZARRC, "create", node, "--dtype", dt, "--shape", ",".join(map(str, shape)),
                                "--chunks", ",".join(map(str, chunks)), "--codecs",
                                json.dumps([{"name": V2_SAME[dt], "configuration": {}}])], capture_output=True, text=True)
            data = json.dumps([as_json(dt, e) for e in elements_of(dt)])
            r2 = subprocess.run([ZARRC, "put", node, "--json", "-"], input=data, capture_output=True, text=True)
            theirs = chunk_files(os.path.join(WORK, "by_zarrs", name))
            check(r.returncode == 0 and r2.returncode == 0 and chunk_files(node) == theirs and theirs,
                  f"zarrs' zarrs.vlen_v2 chunks of {name} equal zarrc's {V2_SAME[dt]} chunks {r.stderr} {r2.stderr}")
    with open(os.path.join(WORK, "read.json"), "w") as f:
        json.dump([{"dir": node} for _, _, node in back], f)
    r = subprocess.run([prog, "read", os.path.join(WORK, "read.json")], capture_output=True, text=True)
    check(r.returncode == 0, f"zarrs read: {r.stderr[-2000:]}")
    read = json.loads(r.stdout) if r.returncode == 0 else {}
    for name, dt, node in back:
        check(read.get(node) == [e.hex() for e in elements_of(dt)], f"zarrs reads zarrc's {name}: {str(read.get(node))[:300]}")

    # a corrupt index is refused, not read wrong
    node = os.path.join(WORK, "by_zarrc", "string_vlen_u32_start_1d", "c", "0")
    with open(node, "r+b") as f:
        b = bytearray(f.read())
        b[8 + 4] = 0xff  # offsets[1] of the first chunk far past the data
        f.seek(0)
        f.write(b)
    got = zarrc_elements(os.path.dirname(os.path.dirname(node)))
    check(isinstance(got, str) and got.startswith("ERROR") and "zarrs.vlen" in got, f"a corrupt zarrs.vlen index is refused: {got}")

    return zc.finish("zarrs vlen")


if __name__ == "__main__":
    sys.exit(main())
