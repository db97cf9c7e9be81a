#!/usr/bin/env python3
"""Interop with zarrs (the Rust crate, tests/interop_zarrs/src/bin/zarrc-zarrs-vlen.rs) for its
variable-length codecs on string and bytes arrays: `zarrs.vlen` (index and data through their
own codec chains, index at the start or the end, uint32 or uint64 offsets, the first draft's
configuration without index_location).

usage: run_vlen.py ZARRC WORKDIR

zarrs writes each case, zarrc reads it element by element (whole and a selection across chunks);
zarrc writes the same case (create --codecs + put --json), zarrs reads it element by element.
The program is built with cargo like run_zarrs.py's (same cache, pinned Cargo.lock).
"""
import base64
import json
import os
import shutil
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
    r = subprocess.run(["cargo", "build", "--release", "--locked", "-j2", "--bin", "zarrc-zarrs-vlen",
                        "--manifest-path", os.path.join(HERE, "Cargo.toml")], env=env, capture_output=True, text=True)
    if r.returncode:
        print(r.stderr[-4000:])
        print("FAIL: building the zarrs vlen interop program failed (cargo, crates.io)")
        sys.exit(1)
    return os.path.join(CACHE, "target", "release", "zarrc-zarrs-vlen")


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


CODECS = {
    "vlen_u32_start": [vlen("uint32", "start")],
    "vlen_u64_end_zstd": [vlen("uint64", "end", [ZSTD], [ZSTD])],
    "vlen_v0_draft": [vlen("uint32")],
    "vlen_then_zstd": [vlen("uint64", "end"), ZSTD],
}
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
    for dtype in ("string", "bytes"):
        for cname, codecs in CODECS.items():
            for shape, chunks in (([10], [4]), ([2, 5], [2, 3])):
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
        check(meta["codecs"][0]["name"] == co[0]["name"], f"zarrc writes {name} with {co[0]['name']}")
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

    print(f"zarrs vlen: {CHECKS} checks, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
