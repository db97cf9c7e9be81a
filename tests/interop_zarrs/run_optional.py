#!/usr/bin/env python3
"""Interop with zarrs 0.23.14 (tests/interop_zarrs/src/bin/zarrc-zarrs-optional.rs) for its
experimental optional (nullable) data type and `zarrs.optional` codec.

usage: run_optional.py ZARRC WORKDIR

zarrs writes each case (inner types uint8, int16, float64, bool, float8_e4m3 and 2-D int32;
mask through packbits or bytes(+zstd), data through bytes or bytes+zstd; fill null and [v];
chunks with no present value), zarrc reads it element by element (`get --json`: null for a
missing element) whole and through a selection; zarrc writes the same case (create --codecs +
put --json with nulls), zarrs reads it element by element. zarrs refuses an optional string
string array (vlen-utf8 data codecs) is written by zarrs and refused by zarrc naming the reason
(fixed-size inner types only).
"""
import json
import os
import shutil
import struct
import subprocess
import sys

ZARRC, WORK = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zarrc", "zarrs-interop")
CHECKS, FAILURES = 0, []


def check(cond, msg):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def build():
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(CACHE, "target"))
    r = subprocess.run(["cargo", "build", "--release", "--locked", "-j2", "--bin", "zarrc-zarrs-optional",
                        "--manifest-path", os.path.join(HERE, "Cargo.toml")], env=env, capture_output=True, text=True)
    if r.returncode:
        print(r.stderr[-4000:])
        print("FAIL: building the zarrs optional interop program failed (cargo, crates.io)")
        sys.exit(1)
    return os.path.join(CACHE, "target", "release", "zarrc-zarrs-optional")


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


def metadata(inner, shape, chunks, cfg, fill):
    return {"zarr_format": 3, "node_type": "array", "shape": shape,
            "data_type": {"name": "zarrs.optional", "configuration": {"name": inner, "configuration": {}}},
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill, "codecs": [{"name": "zarrs.optional", "configuration": cfg}], "attributes": {}}


def zarrc_get(node, select=None):
    args = [ZARRC, "get", node, "--json"] + (["--select", select] if select else [])
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        return "ERROR: " + r.stderr.strip()
    return json.loads(r.stdout)["data"]


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    prog = build()
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

    # an optional string array: zarrs writes it; zarrc refuses it naming the reason (fixed-size
    # inner types only), never reads it wrong
    sdir = os.path.join(WORK, "by_zarrs", "string")
    smeta = metadata("string", [4], [4], {"mask_codecs": [PACKBITS], "data_codecs": [{"name": "vlen-utf8"}]}, None)
    with open(os.path.join(WORK, "write_s.json"), "w") as f:
        json.dump([{"dir": sdir, "metadata": smeta, "elements": ["ab".encode().hex(), None, "".encode().hex(), None]}], f)
    r = subprocess.run([prog, "write", os.path.join(WORK, "write_s.json")], capture_output=True, text=True)
    check(r.returncode == 0 and json.loads(r.stdout).get(sdir) == "ok", f"zarrs writes an optional string: {r.stdout} {r.stderr[-500:]}")
    got = zarrc_get(sdir)
    check(isinstance(got, str) and "variable-length inner type" in got, f"zarrc refuses optional string: {got}")

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

    print(f"zarrs optional: {CHECKS} checks, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
