"""Rectilinear chunk grids (zarr-extensions "rectilinear") between zarrc and zarr-python 3.4 / zarrs.

usage: run_rect.py ZARRC WORKDIR

  - zarr-python 3.4 (with `array.rectilinear_chunks` enabled: it refuses the grid otherwise)
    writes explicit, run-length and sharded rectilinear arrays, resizes one past its edges;
    zarrc (`get --raw`) reads every element, bit for bit;
  - `zarrc cp` of each to a regular grid (default and --chunks) reads back equal in zarr-python;
  - zarrc writes arrays whose zarr.json declares a rectilinear grid (`put --raw`, strided
    `put --select`, `append --new-chunk` 3 then 1 rows, growth past the edges by `resize`);
    zarr-python reads every element and reports the chunk sizes zarrc's grid declares;
  - `zarrc cp --chunks/--shards JSON` into rectilinear grids (plain, sharded, bare edges) from
    regular v3 and v2 sources and from zarr-python's rectilinear ones: zarr-python reads every
    element and the stored chunk_shapes are the ones asked for; bad grids are refused;
  - strings and bytes (vlen-utf8 / vlen-bytes) on rectilinear grids, plain and sharded: zarrc
    reads zarr-python's, writes into them, creates its own (`create --chunks JSON`) and copies;
    zarr-python reads every element;
  - zarrs 0.23.14 (the Rust crate, via tests/interop_zarrs' program, with its sharding feature)
    writes rectilinear arrays, plain and with sharding inside, that zarrc reads, and reads the
    ones zarrc wrote (hex of every element).
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop_zp3"))
import peerlib  # noqa: E402

T = peerlib.start("interop_rect: rectilinear chunk grids vs zarr-python 3.4 and zarrs")
import numpy as np  # noqa: E402
import zarr  # noqa: E402

ZARRC, WORK = sys.argv[1], sys.argv[2]
CHECKS, FAILURES = 0, []
zarr.config.set({"array.rectilinear_chunks": True})


def check(cond, msg):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def zarrc(*args, stdin=None):
    r = subprocess.run([ZARRC] + [str(a) for a in args], input=stdin, capture_output=True)
    return r


def zarrc_read(path, dtype, shape):
    r = zarrc("get", path, "--raw")
    if not check(r.returncode == 0, "zarrc get %s: %s" % (path, r.stderr.decode()[-300:])):
        return None
    return np.frombuffer(r.stdout, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


def meta(shape, shapes, codecs=None, dtype="int32", fill=-1):
    return {"zarr_format": 3, "node_type": "array", "shape": shape, "data_type": dtype,
            "chunk_grid": {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": shapes}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill,
            "codecs": codecs or [{"name": "bytes", "configuration": {"endian": "little"}},
                                 {"name": "zstd", "configuration": {"level": 1, "checksum": False}}]}


SHARDED = [{"name": "sharding_indexed", "configuration": {
    "chunk_shape": [10, 10], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                        {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
    "index_location": "end"}}]


def values(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(-2**31, 2**31 - 1, size=shape, dtype=np.int64).astype("<i4")


def zp_writes():
    cases = [("explicit", (60, 100), dict(chunks=[[10, 20, 30], [50, 50]])),
             ("rle", (35, 12), dict(chunks=[[10, 10, 10, 5], [4, 8]])),
             ("sharded", (60, 100), dict(shards=[[20, 40], [50, 50]], chunks=(10, 10))),
             ("bare_and_list", (7, 9), dict(chunks=[[1, 2, 4], [3, 3, 3]]))]
    for name, shape, kw in cases:
        path = os.path.join(WORK, "zp", name)
        v = values(shape, len(name))
        a = zarr.create_array(path, shape=shape, dtype="int32", fill_value=-1, **kw)
        a[...] = v
        if name == "explicit":  # growth past the edges: zarr-python appends one edge
            a.resize((70, 100))
            a[60:70] = v[:10]
            v = np.concatenate([v, v[:10]])
        got = zarrc_read(path, "int32", v.shape)
        check(got is not None and np.array_equal(got, v), "zarrc reads zarr-python's %s array" % name)
        doc = json.load(open(os.path.join(path, "zarr.json")))
        print("zarr-python wrote %s: chunk_shapes %s" % (name, json.dumps(
            doc["chunk_grid"]["configuration"]["chunk_shapes"])))
        r = zarrc("info", path)
        check(r.returncode == 0 and b"rectilinear" in r.stdout, "zarrc info %s shows the grid" % name)
        r = zarrc("verify", path)
        check(r.returncode == 0 and b" 0 problems" in r.stdout, "zarrc verify %s: every chunk is in the grid: %s"
              % (name, (r.stdout + r.stderr).decode()[-300:]))
        # cp from the rectilinear grid to regular ones (the source's largest edges; --chunks)
        for extra in ([], ["--chunks", "20,50" if name == "sharded" else "7,9"]):  # (inner 10x10 must divide)
            dst = path + "-cp" + str(len(extra))
            r = zarrc("cp", path, dst, *extra)
            if check(r.returncode == 0, "zarrc cp %s %s: %s" % (name, extra, r.stderr.decode()[-300:])):
                check(np.array_equal(zarr.open_array(dst, mode="r")[...], v), "zarr-python reads zarrc's "
                      "regular copy of %s %s" % (name, extra))


def zarrc_writes():
    cases = [("explicit", [60, 100], [[10, 20, 30], [[50, 2]]], None),
             ("rle", [35, 12], [[[10, 3], 5], [4, 8]], None),
             ("sharded", [60, 100], [[20, 40], [[50, 2]]], SHARDED),
             ("bare", [7, 9], [[1, 2, 4], 3], None)]
    for name, shape, shapes, codecs in cases:
        path = os.path.join(WORK, "zc", name)
        os.makedirs(path)
        with open(os.path.join(path, "zarr.json"), "w") as f:
            json.dump(meta(shape, shapes, codecs), f)
        v = values(shape, 100 + len(name))
        raw = os.path.join(WORK, "zc", name + ".raw")
        v.tofile(raw)
        r = zarrc("put", path, "--raw", raw)
        check(r.returncode == 0, "zarrc put %s: %s" % (name, r.stderr.decode()[-300:]))
        # a strided block across chunks
        sel = "3:50:3,7:90:4"
        blk = np.arange(16 * 21, dtype="<i4").reshape(16, 21) if shape[0] >= 50 else None
        if blk is not None:
            r = zarrc("put", path, "--select", sel, "--json", "-", stdin=json.dumps(blk.tolist()).encode())
            check(r.returncode == 0, "zarrc put --select %s: %s" % (name, r.stderr.decode()[-300:]))
            v[3:50:3, 7:90:4] = blk
        a = zarr.open_array(path, mode="r")
        check(np.array_equal(a[...], v), "zarr-python reads zarrc's %s array" % name)
        sizes = a.write_chunk_sizes if hasattr(a, "write_chunk_sizes") else None
        if name == "explicit" and sizes is not None:
            check([list(s) for s in sizes] == [[10, 20, 30], [50, 50]], "zarr-python's chunk sizes of %s: %s"
                  % (name, sizes))
    # append --new-chunk: 3 rows, then 1, then 2; then a resize past the edges
    path = os.path.join(WORK, "zc", "append")
    os.makedirs(path)
    with open(os.path.join(path, "zarr.json"), "w") as f:
        json.dump(meta([3, 4], [[3], 4]), f)
    v = np.arange(12, dtype="<i4").reshape(3, 4)
    r = zarrc("put", path, "--json", "-", stdin=json.dumps(v.tolist()).encode())
    check(r.returncode == 0, "zarrc put append: %s" % r.stderr.decode())
    for rows in (1, 2):
        blk = np.full((rows, 4), 100 + rows, dtype="<i4")
        r = zarrc("append", path, "--axis", 0, "--new-chunk", "--json", "-", stdin=json.dumps(blk.tolist()).encode())
        check(r.returncode == 0, "zarrc append --new-chunk %d rows: %s" % (rows, r.stderr.decode()))
        v = np.concatenate([v, blk])
    doc = json.load(open(os.path.join(path, "zarr.json")))
    check(doc["chunk_grid"]["configuration"]["chunk_shapes"] == [[3, 1, 2], 4],
          "edges after appending 3, 1, 2 rows: %s" % doc["chunk_grid"])
    a = zarr.open_array(path, mode="r")
    check(a.shape == (6, 4) and np.array_equal(a[...], v), "zarr-python reads the appended array")
    r = zarrc("resize", path, "--shape", "9,4")
    check(r.returncode == 0, "zarrc resize past the edges: %s" % r.stderr.decode())
    doc = json.load(open(os.path.join(path, "zarr.json")))
    check(doc["chunk_grid"]["configuration"]["chunk_shapes"] == [[3, 1, 2, 3], 4],
          "edges after growing to 9: %s" % doc["chunk_grid"])
    a = zarr.open_array(path, mode="r")
    check(a.shape == (9, 4) and np.array_equal(a[:6], v) and (a[6:] == -1).all(),
          "zarr-python reads the grown array (fill in the new edge chunk)")
    r = zarrc("append", path, "--axis", 0, "--new-chunk", "--json", "-", stdin=b"[[1,2,3,4]]")
    check(r.returncode == 0, "append --new-chunk after growth (edges end at the extent): %s" % r.stderr.decode())
    r = zarrc("resize", path, "--shape", "8,4")
    r = zarrc("append", path, "--axis", 0, "--new-chunk", "--json", "-", stdin=b"[[1,2,3,4]]")
    check(r.returncode == 1 and b"cannot start there" in r.stderr,
          "append --new-chunk inside the last chunk is refused: %s" % r.stderr.decode())


def zp_read(path):
    return zarr.open_array(path, mode="r")[...]


def cp_to_rectilinear():
    """zarrc cp --chunks/--shards JSON into rectilinear grids: from regular (v3 and v2), rectilinear
    and sharded rectilinear sources; zarr-python reads every element of each copy."""
    src_dir = os.path.join(WORK, "cpsrc")
    os.makedirs(src_dir)
    v = values((60, 100), 7)
    raw = os.path.join(src_dir, "v.raw")
    v.tofile(raw)
    sources = []
    for fmt in ("3", "2"):
        path = os.path.join(src_dir, "regular-v" + fmt)
        r = zarrc("create", path, "--format", fmt, "--dtype", "<i4", "--shape", "60,100", "--chunks", "16,32",
                  "--fill-value", "-1")
        check(r.returncode == 0, "zarrc create v%s source: %s" % (fmt, r.stderr.decode()[-300:]))
        r = zarrc("put", path, "--raw", raw)
        check(r.returncode == 0, "zarrc put v%s source: %s" % (fmt, r.stderr.decode()[-300:]))
        sources.append(("regular-v" + fmt, path, v))
    sources.append(("zp-sharded", os.path.join(WORK, "zp", "sharded"), None))
    sources.append(("zp-explicit", os.path.join(WORK, "zp", "explicit"), None))
    grids = [("rect", ["--chunks", "[[7,13,[20,2]],[[30,3],10]]"], [[7, 13, [20, 2]], [[30, 3], 10]]),
             ("rect-sharded", ["--shards", "[[20,40],[[50,2]]]", "--chunks", "10,25"], [[20, 40], [[50, 2]]]),
             ("rect-bare", ["--chunks", "[[1,59],33]"], [[1, 59], 33])]
    for sname, spath, sv in sources:
        want = sv if sv is not None else zp_read(spath)
        for gname, opts, shapes in grids:
            if sname == "zp-explicit":  # 70 rows: the grids above cover 60
                opts, shapes = {"rect": (["--chunks", "[[35,35],[[25,4]]]"], [[[35, 2]], [[25, 4]]]),
                                "rect-sharded": (["--shards", "[[30,40],[[50,2]]]", "--chunks", "10,25"],
                                                 [[30, 40], [[50, 2]]]),
                                "rect-bare": (["--chunks", "[[1,69],33]"], [[1, 69], 33])}[gname]
            if sname == "zp-sharded":  # its codecs are sharding_indexed: give plain inner codecs
                opts = opts + ["--codecs", json.dumps(meta([1], [1])["codecs"])]
            dst = os.path.join(WORK, "cprect", sname + "-" + gname)
            r = zarrc("cp", spath, dst, *opts)
            if not check(r.returncode == 0, "zarrc cp %s %s: %s" % (sname, opts, r.stderr.decode()[-300:])):
                continue
            doc = json.load(open(os.path.join(dst, "zarr.json")))
            check(doc["chunk_grid"]["name"] == "rectilinear" and
                  doc["chunk_grid"]["configuration"]["chunk_shapes"] == shapes,
                  "cp %s %s: stored grid %s" % (sname, gname, doc["chunk_grid"]))
            got = zp_read(dst)
            check(got.shape == want.shape and np.array_equal(got, want),
                  "zarr-python reads zarrc's rectilinear copy %s -> %s element by element" % (sname, gname))
    # a rectilinear copy back to a regular grid, and bad grids refused with a message
    back = os.path.join(WORK, "cprect", "back")
    r = zarrc("cp", os.path.join(WORK, "cprect", "regular-v2-rect-sharded"), back, "--chunks", "9,11",
              "--codecs", json.dumps(meta([1], [1])["codecs"]))
    check(r.returncode == 0 and np.array_equal(zp_read(back), v), "cp rectilinear sharded -> regular: %s"
          % r.stderr.decode()[-300:])
    for opts, msg in ((["--chunks", "[[10,10],[100]]"], b"less than the extent"),
                      (["--chunks", "[[60]]"], b"dimensions"),
                      (["--format", "2", "--chunks", "[[60],[100]]"], b"only in Zarr v3"),  # v2 sources: v3
                      (["--chunks", "[[60],[100]]", "--shards", "[[60],[100]]"], b"inner chunk shape")):
        dst = os.path.join(WORK, "cprect", "bad")
        r = zarrc("cp", os.path.join(src_dir, "regular-v3"), dst, *opts)
        check(r.returncode != 0 and msg in r.stderr and not os.path.exists(os.path.join(dst, "zarr.json")),
              "cp %s refused (%s): %s" % (opts, msg, r.stderr.decode()[-300:]))


def vlen_rectilinear():
    """Strings and bytes (vlen-utf8 / vlen-bytes) on rectilinear grids, sharded or not, both ways."""
    rng = np.random.default_rng(5)
    strs = np.array(["".join(chr(0x61 + int(c)) for c in rng.integers(0, 26, int(n))) + ("\u00e9" if n % 3 == 0 else "")
                     for n in rng.integers(0, 9, 23)], dtype=object)
    byts = np.array([bytes(rng.integers(0, 256, int(n), dtype=np.uint8)) for n in rng.integers(0, 7, 23)], dtype=object)
    import base64
    for kind, data, zdt in (("str", strs, str), ("bytes", byts, zarr.dtype.VariableLengthBytes())):
        for lay, kw in (("plain", dict(chunks=[[1, 5, 10, 7]])), ("sharded", dict(shards=[[6, 12, 5]], chunks=(1,)))):
            path = os.path.join(WORK, "vlen", "zp-%s-%s" % (kind, lay))
            a = zarr.create_array(path, shape=(23,), dtype=zdt, **kw)
            a[...] = data
            r = zarrc("get", path)
            got = json.loads(r.stdout or b"{}").get("data")
            if kind == "bytes" and got is not None:
                got = [base64.b64decode(x) for x in got]
            check(r.returncode == 0 and got == list(data), "zarrc reads zarr-python's rectilinear %s %s: %s"
                  % (kind, lay, r.stderr.decode()[-300:]))
            # zarrc writes a part across chunks, then zarr-python reads every element
            part = data[3:17][::-1].copy()
            js = [base64.b64encode(x).decode() for x in part] if kind == "bytes" else list(part)
            r = zarrc("put", path, "--offset", "3", "--json", "-", stdin=json.dumps(js).encode())
            data2 = data.copy()
            data2[3:17] = part
            check(r.returncode == 0 and list(zp_read(path)) == list(data2),
                  "zarr-python reads zarrc's write into the rectilinear %s %s: %s" % (kind, lay, r.stderr.decode()[-300:]))
            # zarrc creates one (create --chunks JSON) and copies into another rectilinear grid
            codec = "vlen-utf8" if kind == "str" else "vlen-bytes"
            made = path.replace("zp-", "zc-")
            grid = "[[2,[3,7]]]" if lay == "plain" else "[[11,12]]"
            extra = ["--codecs", json.dumps([{"name": codec}])] if lay == "plain" else \
                ["--codecs", json.dumps([{"name": "sharding_indexed", "configuration": {
                    "chunk_shape": [1], "codecs": [{"name": codec}, {"name": "zstd", "configuration": {"level": 1}}],
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                    "index_location": "end"}}])]
            r = zarrc("create", made, "--dtype", "string" if kind == "str" else "bytes", "--shape", "23",
                      "--chunks", grid, *extra)
            check(r.returncode == 0, "zarrc create rectilinear %s %s: %s" % (kind, lay, r.stderr.decode()[-300:]))
            js = [base64.b64encode(x).decode() for x in data2] if kind == "bytes" else list(data2)
            r = zarrc("put", made, "--json", "-", stdin=json.dumps(js).encode())
            check(r.returncode == 0 and list(zp_read(made)) == list(data2),
                  "zarr-python reads zarrc's rectilinear %s %s: %s" % (kind, lay, r.stderr.decode()[-300:]))
            cp = made + "-cp"
            r = zarrc("cp", path, cp, "--chunks", "[[4,4,15]]")
            check(r.returncode == 0 and list(zp_read(cp)) == list(data2),
                  "zarr-python reads zarrc's rectilinear copy of %s %s: %s" % (kind, lay, r.stderr.decode()[-300:]))


def zarrs_sharded_both_ways(prog):
    """zarrs (with its sharding feature) writes rectilinear arrays of shards that zarrc reads, and
    reads the sharded rectilinear arrays zarrc wrote (separate case list from the others)."""
    specs = [("sh-explicit", [60, 100], [[20, 40], [[50, 2]]], SHARDED),
             ("sh-rle", [40, 30], [[[10, 3], 10], [10, 20]], SHARDED),
             ("sh-edge", [35, 25], [[20, 20], [10, 20]], SHARDED)]  # shards past the extent
    cases = []
    for name, shape, shapes, codecs in specs:
        v = values(shape, 300 + len(name))
        cases.append({"dir": os.path.join(WORK, "zarrs", name), "metadata": meta(shape, shapes, codecs),
                      "data": v.tobytes().hex(), "v": v})
    cf = os.path.join(WORK, "zarrs", "cases-sharded.json")
    json.dump([{k: c[k] for k in ("dir", "metadata", "data")} for c in cases], open(cf, "w"))
    r = subprocess.run([prog, "write", cf], capture_output=True, text=True)
    out = json.loads(r.stdout or "{}")
    for c in cases:
        if not check(out.get(c["dir"]) == "ok", "zarrs writes sharded rectilinear %s: %s" % (c["dir"], out.get(c["dir"]))):
            continue
        got = zarrc_read(c["dir"], "int32", c["v"].shape)
        check(got is not None and np.array_equal(got, c["v"]), "zarrc reads zarrs' sharded rectilinear %s" % c["dir"])
    rc = [{"dir": os.path.join(WORK, "zc", "sharded")},
          {"dir": os.path.join(WORK, "cprect", "regular-v3-rect-sharded")},
          {"dir": os.path.join(WORK, "cprect", "zp-sharded-rect-sharded")}]
    cf2 = os.path.join(WORK, "zarrs", "read-sharded.json")
    json.dump(rc, open(cf2, "w"))
    r = subprocess.run([prog, "read", cf2], capture_output=True, text=True)
    out = json.loads(r.stdout or "{}")
    for c in rc:
        a = zarr.open_array(c["dir"], mode="r")[...]
        check(out.get(c["dir"]) == a.astype("<i4").tobytes().hex(), "zarrs reads zarrc's sharded rectilinear %s: %s"
              % (c["dir"], str(out.get(c["dir"]))[:200]))


def zarrs_both_ways():
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop_zarrs"))
    env = dict(os.environ)
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zarrc",
                         "zarrs-interop")
    env["CARGO_TARGET_DIR"] = os.path.join(cache, "target")
    r = subprocess.run(["cargo", "build", "--release", "--locked", "-j2", "--manifest-path",
                        os.path.join(os.path.dirname(HERE), "interop_zarrs", "Cargo.toml")],
                       env=env, capture_output=True, text=True)
    if not check(r.returncode == 0, "building the zarrs interop program: " + r.stderr[-2000:]):
        return
    prog = os.path.join(cache, "target", "release", "zarrc-zarrs-interop")
    specs = [("explicit", [60, 100], [[10, 20, 30], [[50, 2]]], None),
             ("rle", [35, 12], [[[10, 3], 5], [4, 8]], None),
             ("bare", [7, 9], [[1, 2, 4], 3], None)]
    # (sharded grids: zarrs_sharded_both_ways, a separate case list)
    cases = []
    for name, shape, shapes, codecs in specs:
        v = values(shape, 200 + len(name))
        cases.append({"dir": os.path.join(WORK, "zarrs", name), "metadata": meta(shape, shapes, codecs),
                      "data": v.tobytes().hex(), "v": v})
    cf = os.path.join(WORK, "zarrs", "cases.json")
    os.makedirs(os.path.dirname(cf), exist_ok=True)
    json.dump([{k: c[k] for k in ("dir", "metadata", "data")} for c in cases], open(cf, "w"))
    r = subprocess.run([prog, "write", cf], capture_output=True, text=True)
    out = json.loads(r.stdout or "{}")
    for c in cases:
        if not check(out.get(c["dir"]) == "ok", "zarrs writes %s: %s" % (c["dir"], out.get(c["dir"]))):
            continue
        got = zarrc_read(c["dir"], "int32", c["v"].shape)
        check(got is not None and np.array_equal(got, c["v"]), "zarrc reads zarrs' %s" % c["dir"])
    # zarrc's arrays (written above) read by zarrs
    rc = [{"dir": os.path.join(WORK, "zc", n)} for n in ("explicit", "rle", "bare", "append")]
    cf2 = os.path.join(WORK, "zarrs", "read.json")
    json.dump(rc, open(cf2, "w"))
    r = subprocess.run([prog, "read", cf2], capture_output=True, text=True)
    out = json.loads(r.stdout or "{}")
    for c in rc:
        a = zarr.open_array(c["dir"], mode="r")[...]
        check(out.get(c["dir"]) == a.astype("<i4").tobytes().hex(), "zarrs reads zarrc's %s: %s" % (
            c["dir"], str(out.get(c["dir"]))[:200]))
    zarrs_sharded_both_ways(prog)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    zp_writes()
    zarrc_writes()
    cp_to_rectilinear()
    vlen_rectilinear()
    zarrs_both_ways()
    print("interop_rect: %d passed, %d failed" % (CHECKS - len(FAILURES), len(FAILURES)))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
