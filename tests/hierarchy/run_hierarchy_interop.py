#!/usr/bin/python3
"""Hierarchy interop: batch creation and consolidated metadata against the live peers.

usage: run_hierarchy_interop.py ZARRC WORKDIR zarrpy|zarrita|cli

zarrpy  (zarr-python 2.13, v2)
  A. `zarrc hierarchy create` + `zarrc put` + `zarrc consolidate` build a v2 hierarchy;
     zarr.open_group and zarr.open_consolidated see every node, attribute, shape, dtype and
     value. Removing a .zattrs after consolidating proves open_consolidated reads the copy.
  B. zarr-python builds a v2 hierarchy and consolidates it; zarrc's tree (from the copy and
     from the store), get and attrs agree, `zarrc consolidate --check` finds zarr-python's
     copy up to date; an attribute change makes it stale; re-consolidating with zarrc gives a
     copy zarr.open_consolidated reads.
zarrita (zarrita 0.7.5 under Node 20, v3)
  C. zarrc builds and consolidates a v3 hierarchy; zarrita's withConsolidatedMetadata opens
     every node from the copy (zero reads of per-node metadata) with the right values.
  D. zarrita builds a v3 hierarchy; zarrc's tree and get agree; zarrc consolidates it and
     zarrita reads it back through its consolidated reader.
cli
  E. `zarrc hierarchy create` refusals (invalid paths, mixed formats, conflicts) exit 1,
     name the paths, and write nothing; --overwrite replaces; stale warnings appear.
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class Tally:
    def __init__(self, title):
        self.title, self.passed, self.failed = title, 0, 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}" + (f": {detail}" if detail else ""))
        return cond

    def finish(self):
        print(f"{self.title}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


class Zarrc:
    def __init__(self, exe):
        self.exe = exe

    def run(self, *args, stdin=None):
        p = subprocess.run([self.exe, *args], input=stdin, capture_output=True, text=True, timeout=120)
        return p

    def ok(self, t, *args, stdin=None):
        p = self.run(*args, stdin=stdin)
        t.check(p.returncode == 0, "zarrc " + " ".join(args), f"exit {p.returncode}: {p.stderr.strip()}")
        return p

    def json(self, t, *args):
        p = self.ok(t, *args)
        try:
            return json.loads(p.stdout)
        except ValueError:
            t.check(False, "zarrc " + " ".join(args) + " printed JSON", p.stdout[:200])
            return None


def tree_index(tree, prefix=""):
    """{path: node} from `zarrc tree --json` output."""
    out = {}
    for c in tree.get("children", []):
        p = prefix + c["name"]
        out[p] = c
        out.update(tree_index(c, p + "/"))
    return out


# ------------------------------------------------------------------------------------------
# zarr-python 2.13
# ------------------------------------------------------------------------------------------

V2_SPEC = {
    "": {"zarr_format": 2, "attributes": {"title": "made by zarrc", "version": 2}},
    "met": {"zarr_format": 2, "attributes": {"source": "station"}},
    "met/temp": {"zarr_format": 2, "shape": [20, 30], "chunks": [7, 11], "dtype": "<f4",
                 "compressor": {"id": "zlib", "level": 1}, "fill_value": "NaN", "filters": None,
                 "order": "C", "attributes": {"units": "K", "_ARRAY_DIMENSIONS": ["y", "x"]}},
    "met/wind/speed": {"zarr_format": 2, "shape": [100], "chunks": [30], "dtype": "<i8",
                       "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1,
                                      "blocksize": 0},
                       "fill_value": -1, "filters": None, "order": "C"},
    "flags/valid": {"zarr_format": 2, "shape": [5], "chunks": [5], "dtype": "|b1",
                    "compressor": None, "fill_value": False, "filters": None, "order": "C"},
    "empty": {"zarr_format": 2},
}
V2_GROUPS = {"", "met", "met/wind", "flags", "empty"}


def zarrpy_section_a(z, work, t):
    import numpy as np
    import zarr

    root = os.path.join(work, "a.zarr")
    spec = os.path.join(work, "a_spec.json")
    with open(spec, "w") as f:
        json.dump(V2_SPEC, f)
    p = z.ok(t, "hierarchy", "create", root, spec, "--json")
    rep = json.loads(p.stdout) if p.returncode == 0 else {"nodes": []}
    t.check(rep.get("written") == 8, "A: report counts 8 written nodes", str(rep.get("written")))
    implied = sorted(n["path"] for n in rep["nodes"] if n["implied"])
    t.check(implied == ["flags", "met/wind"], "A: implied groups reported", str(implied))
    temp = np.arange(600, dtype="<f4").reshape(20, 30) / 7.0
    temp[3, 4] = np.nan
    speed = np.arange(100, dtype="<i8") * -3 + 2 ** 40
    z.ok(t, "put", os.path.join(root, "met/temp"), "--json", "-", stdin=json.dumps(
        ["NaN" if v != v else float(v) for v in temp.ravel()]))
    z.ok(t, "put", os.path.join(root, "met/wind/speed"), "--json", "-", stdin=json.dumps(speed.tolist()))
    z.ok(t, "put", os.path.join(root, "flags/valid"), "--json", "-", stdin="[true,false,true,true,false]")
    z.ok(t, "consolidate", root)

    def check_tree(g, how):
        groups, arrays = set(), {}

        def walk(grp, prefix):
            for name, sub in grp.groups():
                groups.add(prefix + name)
                walk(sub, prefix + name + "/")
            for name, arr in grp.arrays():
                arrays[prefix + name] = arr
        walk(g, "")
        t.check(groups == V2_GROUPS - {""}, f"A/{how}: groups", str(sorted(groups)))
        t.check(sorted(arrays) == ["flags/valid", "met/temp", "met/wind/speed"], f"A/{how}: arrays",
                str(sorted(arrays)))
        t.check(dict(g.attrs) == {"title": "made by zarrc", "version": 2}, f"A/{how}: root attributes")
        t.check(dict(g["met"].attrs) == {"source": "station"}, f"A/{how}: group attributes")
        a = g["met/temp"]
        t.check(a.shape == (20, 30) and a.chunks == (7, 11) and a.dtype == np.dtype("<f4"),
                f"A/{how}: met/temp metadata", f"{a.shape} {a.chunks} {a.dtype}")
        t.check(dict(a.attrs) == {"units": "K", "_ARRAY_DIMENSIONS": ["y", "x"]}, f"A/{how}: array attributes")
        t.check(np.array_equal(a[:], temp, equal_nan=True), f"A/{how}: met/temp values")
        t.check(np.array_equal(g["met/wind/speed"][:], speed), f"A/{how}: met/wind/speed values")
        t.check(g["flags/valid"][:].tolist() == [True, False, True, True, False], f"A/{how}: flags values")

    check_tree(zarr.open_group(root, mode="r"), "open_group")
    check_tree(zarr.open_consolidated(root, mode="r"), "open_consolidated")
    with open(os.path.join(root, ".zmetadata")) as f:
        zm = json.load(f)
    t.check(zm.get("zarr_consolidated_format") == 1 and ".zgroup" in zm["metadata"] and
            "met/wind/.zgroup" in zm["metadata"] and "met/temp/.zattrs" in zm["metadata"] and
            "empty/.zattrs" not in zm["metadata"], "A: .zmetadata keys as zarr-python writes them",
            str(sorted(zm["metadata"])))
    # open_consolidated reads the copy: a removed .zattrs is still seen through it.
    os.remove(os.path.join(root, "met/temp/.zattrs"))
    t.check(dict(zarr.open_consolidated(root, mode="r")["met/temp"].attrs).get("units") == "K",
            "A: open_consolidated uses the consolidated copy")
    t.check(dict(zarr.open_group(root, mode="r")["met/temp"].attrs) == {},
            "A: open_group reads the store")
    p = z.run("consolidate", "--check", root)
    t.check(p.returncode == 1 and "met/temp: attributes differ" in p.stdout,
            "A: consolidate --check finds the removed attributes", p.stdout + p.stderr)


def zarrpy_section_b(z, work, t):
    import numpy as np
    import zarr
    from numcodecs import Blosc, Zstd

    root = os.path.join(work, "b.zarr")
    g = zarr.open_group(root, mode="w")
    g.attrs.update({"creator": "zarr-python", "nested": {"k": [1, 2, 3]}})
    sub = g.create_group("obs")
    sub.attrs["site"] = "north"
    deep = sub.create_group("deep/er")
    x = sub.create_dataset("x", shape=(13, 7), chunks=(5, 3), dtype=">i2",
                           compressor=Blosc(cname="zstd", clevel=3, shuffle=Blosc.BITSHUFFLE), fill_value=9)
    xv = (np.arange(91).reshape(13, 7) * 37 % 1000 - 500).astype(">i2")
    x[:] = xv
    x.attrs["units"] = "mm"
    y = deep.create_dataset("y", shape=(10,), chunks=(4,), dtype="<f8", compressor=Zstd(level=2))
    yv = np.linspace(-1, 1, 10)
    y[:] = yv
    g.create_group("lonely")
    zarr.consolidate_metadata(root)

    tree = z.json(t, "tree", root, "--json")
    if tree:
        t.check(tree.get("consolidated") is True and tree.get("zarr_format") == 2,
                "B: tree opens zarr-python's consolidated metadata", str(tree)[:200])
        idx = tree_index(tree)
        want = {"obs": "group", "obs/deep": "group", "obs/deep/er": "group", "obs/deep/er/y": "array",
                "obs/x": "array", "lonely": "group"}
        t.check({k: v["node_type"] for k, v in idx.items()} == want, "B: tree structure", str(sorted(idx)))
        xn = idx.get("obs/x", {})
        t.check(xn.get("shape") == [13, 7] and xn.get("data_type") == "int16", "B: tree array info", str(xn))
        tree2 = z.json(t, "tree", root, "--json", "--no-consolidated")
        if tree2:
            t.check(tree2.get("consolidated") is False and tree_index(tree2) == idx,
                    "B: tree from the store equals tree from the copy")
    p = z.ok(t, "consolidate", "--check", root)
    t.check("up to date" in p.stdout, "B: zarr-python's copy is up to date for zarrc", p.stdout)
    got = z.json(t, "get", os.path.join(root, "obs/x"))
    t.check(got is not None and got["data"] == xv.ravel().tolist(), "B: zarrc reads obs/x")
    got = z.json(t, "get", os.path.join(root, "obs/deep/er/y"))
    t.check(got is not None and got["data"] == yv.tolist(), "B: zarrc reads obs/deep/er/y")
    attrs = z.json(t, "attrs", root)
    t.check(attrs == {"creator": "zarr-python", "nested": {"k": [1, 2, 3]}}, "B: root attributes", str(attrs))
    # A change through zarrc: the enclosing consolidated group is reported stale.
    p = z.ok(t, "attrs", os.path.join(root, "obs/x"), "--merge", '{"units": "cm", "scale": 10}')
    t.check("warning" in p.stderr and "stale" in p.stderr and os.path.realpath(root) in p.stderr,
            "B: attrs warns that the root's consolidated metadata is stale", p.stderr)
    p = z.run("consolidate", "--check", root)
    t.check(p.returncode == 1 and "obs/x: attributes differ" in p.stdout, "B: check sees the change",
            p.stdout + p.stderr)
    c = zarr.open_consolidated(root, mode="r")
    t.check(dict(c["obs/x"].attrs) == {"units": "mm"}, "B: zarr-python still sees the stale copy")
    z.ok(t, "consolidate", root)
    c = zarr.open_consolidated(root, mode="r")
    t.check(dict(c["obs/x"].attrs) == {"units": "cm", "scale": 10}, "B: zarrc's new copy read by zarr-python")
    t.check(np.array_equal(c["obs/x"][:], xv) and c["obs/deep/er/y"][:].tolist() == yv.tolist(),
            "B: data through zarrc's copy")
    # --update-consolidated keeps the copy current.
    z.ok(t, "attrs", os.path.join(root, "obs"), "--set", '{"site": "south"}', "--update-consolidated")
    z.ok(t, "consolidate", "--check", root)
    c = zarr.open_consolidated(root, mode="r")
    t.check(dict(c["obs"].attrs) == {"site": "south"}, "B: updated copy read by zarr-python")


# ------------------------------------------------------------------------------------------
# zarrita
# ------------------------------------------------------------------------------------------

def node_run(t, *args):
    p = subprocess.run(["node", os.path.join(HERE, "zarrita_hierarchy.mjs"), *args],
                       capture_output=True, text=True, timeout=120)
    if p.returncode == 3:
        t.check(False, "zarrita is installed", p.stderr.strip())
        return None
    if not t.check(p.returncode == 0, "node zarrita_hierarchy.mjs " + args[0], p.stderr.strip()):
        return None
    return json.loads(p.stdout)


def v3_array(shape, chunks, dtype, fill, codecs=None, attrs=None):
    return {"zarr_format": 3, "node_type": "array", "shape": shape, "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill,
            "codecs": codecs or [{"name": "bytes", "configuration": {"endian": "little"}}],
            "attributes": attrs or {}}


def zarrita_section_c(z, work, t):
    root = os.path.join(work, "c.zarr")
    spec = {
        "": {"zarr_format": 3, "node_type": "group", "attributes": {"title": "zarrc v3"}},
        "grid": {"zarr_format": 3, "node_type": "group", "attributes": {"res": 0.25}},
        "grid/elev": v3_array([8, 9], [4, 4], "int16", -9999,
                              [{"name": "bytes", "configuration": {"endian": "little"}},
                               {"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
                              {"units": "m"}),
        "grid/sub/mask": v3_array([4], [4], "uint8", 0),
        "series/t": v3_array([10], [3], "float32", 0.0, attrs={"long_name": "time"}),
    }
    sp = os.path.join(work, "c_spec.json")
    with open(sp, "w") as f:
        json.dump(spec, f)
    z.ok(t, "hierarchy", "create", root, sp)
    elev = [(i * 13) % 200 - 100 for i in range(72)]
    z.ok(t, "put", os.path.join(root, "grid/elev"), "--json", "-", stdin=json.dumps(elev))
    z.ok(t, "put", os.path.join(root, "series/t"), "--json", "-", stdin=json.dumps([i / 4 for i in range(10)]))
    p = z.ok(t, "consolidate", root)
    doc = json.load(open(os.path.join(root, "zarr.json")))
    cm = doc.get("consolidated_metadata", {})
    keys = list(cm.get("metadata", {}))
    t.check(cm.get("kind") == "inline" and cm.get("must_understand") is False and
            keys == ["grid", "series", "grid/elev", "grid/sub", "series/t", "grid/sub/mask"],
            "C: inline consolidated metadata, depth then name order", str(keys))
    nodes = {"": "group", "grid": "group", "grid/sub": "group", "series": "group",
             "grid/elev": "array", "grid/sub/mask": "array", "series/t": "array"}
    nf = os.path.join(work, "c_nodes.json")
    with open(nf, "w") as f:
        json.dump(nodes, f)
    out = node_run(t, "read", root, nf)
    if out is None:
        return
    t.check("error" not in out, "C: zarrita withConsolidatedMetadata", out.get("error", ""))
    t.check(out.get("meta_gets") == 0, "C: zarrita read no per-node metadata (all from the copy)",
            str(out.get("meta_gets")))
    want_contents = sorted(["/:group", "/grid:group", "/grid/sub:group", "/series:group",
                            "/grid/elev:array", "/grid/sub/mask:array", "/series/t:array"])
    t.check(out.get("contents") == want_contents, "C: zarrita lists the consolidated contents",
            str(out.get("contents")))
    n = out.get("nodes", {})
    for p_, kind in nodes.items():
        t.check("error" not in n.get(p_, {"error": "missing"}), f"C: zarrita opens '{p_}'",
                n.get(p_, {}).get("error", "missing"))
    t.check(n.get("", {}).get("attributes") == {"title": "zarrc v3"}, "C: root attributes")
    t.check(n.get("grid", {}).get("attributes") == {"res": 0.25}, "C: group attributes")
    e = n.get("grid/elev", {})
    t.check(e.get("shape") == [8, 9] and e.get("dtype") == "int16" and e.get("attributes") == {"units": "m"}
            and e.get("data") == elev, "C: grid/elev through zarrita", str(e)[:200])
    m = n.get("grid/sub/mask", {})
    t.check(m.get("data") == [0, 0, 0, 0], "C: unwritten array reads the fill value")
    s = n.get("series/t", {})
    t.check(s.get("data") == [i / 4 for i in range(10)], "C: series/t values")


def zarrita_section_d(z, work, t):
    root = os.path.join(work, "d.zarr")
    desc = node_run(t, "write", root)
    if desc is None:
        return
    tree = z.json(t, "tree", root, "--json")
    if tree:
        idx = tree_index(tree)
        want = {p: d["kind"] for p, d in desc.items() if p}
        t.check({k: v["node_type"] for k, v in idx.items()} == want, "D: zarrc tree of zarrita's hierarchy",
                str(sorted(idx)))
        for p, d in desc.items():
            if d["kind"] == "array":
                got = idx.get(p, {})
                t.check(got.get("shape") == d["shape"] and got.get("data_type") == d["dtype"],
                        f"D: tree info of '{p}'", str(got))
    for p, d in desc.items():
        node = os.path.join(root, p) if p else root
        attrs = z.json(t, "attrs", node)
        t.check(attrs == d["attributes"], f"D: attributes of '{p}'", str(attrs))
        if d["kind"] == "array":
            got = z.json(t, "get", node)
            t.check(got is not None and got["data"] == d["data"], f"D: zarrc reads '{p}'")
    z.ok(t, "consolidate", root)
    z.ok(t, "consolidate", "--check", root)
    nf = os.path.join(work, "d_nodes.json")
    with open(nf, "w") as f:
        json.dump({p: d["kind"] for p, d in desc.items()}, f)
    out = node_run(t, "read", root, nf)
    if out is None:
        return
    t.check(out.get("meta_gets") == 0, "D: zarrita reads zarrc's copy of its own hierarchy",
            str(out.get("meta_gets")))
    for p, d in desc.items():
        got = out.get("nodes", {}).get(p, {})
        t.check(got.get("attributes") == d["attributes"] and got.get("data", None) == d.get("data", None),
                f"D: zarrita through the copy: '{p}'", str(got)[:200])


# ------------------------------------------------------------------------------------------
# CLI behaviour
# ------------------------------------------------------------------------------------------

def cli_section_e(z, work, t):
    g3 = {"zarr_format": 3, "node_type": "group"}
    arr = v3_array([4], [2], "int32", 0)

    def spec_file(name, spec):
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(spec if isinstance(spec, str) else json.dumps(spec))
        return path

    root = os.path.join(work, "e.zarr")
    cases = [
        ("bad paths", {"a/../b": g3, "/abs": g3, "c//d": g3}, ["'a/../b'", "'/abs'", "'c//d'"]),
        ("mixed formats", {"a": g3, "b": {"zarr_format": 2}}, ["mixed", "v2 at 'b'", "v3 at 'a'"]),
        ("below an array", {"x": arr, "x/y": arr}, ["'x/y' is below array 'x'"]),
        ("duplicate", '{"a": %s, "a": %s}' % (json.dumps(g3), json.dumps(g3)), ["'a' is listed twice"]),
        ("invalid document", {"a": {"zarr_format": 3, "node_type": "array"}}, ["'a':"]),
    ]
    for name, spec, needles in cases:
        p = z.run("hierarchy", "create", root, spec_file("e.json", spec))
        t.check(p.returncode == 1 and all(n in p.stderr for n in needles), f"E: {name} refused",
                f"exit {p.returncode}: {p.stderr.strip()}")
        t.check(not os.path.exists(root), f"E: {name}: nothing written")
    p = z.run("hierarchy", "create", root, spec_file("e.json", {"": g3}), "--format", "2")
    t.check(p.returncode == 1 and "'' is a v3 document" in p.stderr, "E: --format 2 refuses v3", p.stderr)
    p = z.run("hierarchy", "create", root)
    t.check(p.returncode == 2, "E: missing SPEC is a usage error", p.stderr)
    p = z.run("hierarchy", "create", root, spec_file("e.json", {}), "--format", "4")
    t.check(p.returncode == 2, "E: --format 4 is a usage error", p.stderr)

    good = spec_file("good.json", {"": g3, "x": arr, "g/y": arr})
    z.ok(t, "hierarchy", "create", root, good)
    z.ok(t, "put", os.path.join(root, "x"), "--json", "-", stdin="[1,2,3,4]")
    p = z.ok(t, "hierarchy", "create", root, good)  # identical: accepted, nothing rewritten
    t.check("0 nodes written" in p.stdout, "E: identical re-run writes nothing", p.stdout)
    changed = spec_file("changed.json", {"x": v3_array([4], [2], "int64", 0), "g/y": arr, "z": arr})
    p = z.run("hierarchy", "create", root, changed)
    t.check(p.returncode == 1 and "'x' exists (array, v3) with different metadata" in p.stderr
            and "overwrite" in p.stderr and not os.path.exists(os.path.join(root, "z")),
            "E: conflicting node refused, nothing written", p.stderr)
    z.ok(t, "hierarchy", "create", root, changed, "--overwrite")
    got = z.json(t, "get", os.path.join(root, "x"))
    t.check(got is not None and got["data"] == [0, 0, 0, 0] and got["dtype"] == "int64",
            "E: overwritten array has no stale chunks", str(got))
    # Staleness through the CLI: a batch below a consolidated group.
    z.ok(t, "consolidate", root)
    p = z.ok(t, "hierarchy", "create", os.path.join(root, "g", "new"), spec_file("n.json", {"a": arr}))
    t.check("warning" in p.stderr and "stale" in p.stderr, "E: batch below a consolidated group warns",
            p.stderr)
    p = z.run("consolidate", "--check", root)
    t.check(p.returncode == 1 and "g/new/a: stored, not in the copy" in p.stdout, "E: check lists new nodes",
            p.stdout)
    p = z.ok(t, "hierarchy", "create", os.path.join(root, "g", "new2"), spec_file("n.json", {"a": arr}),
             "--update-consolidated")
    t.check("warning" not in p.stderr, "E: --update-consolidated does not warn", p.stderr)
    tree = z.json(t, "tree", root, "--json")
    idx = tree_index(tree) if tree else {}
    t.check("g/new2/a" in idx and "g/new" not in idx, "E: tree through the updated copy", str(sorted(idx)))
    p = z.ok(t, "tree", root, "--depth", "1")
    lines = p.stdout.splitlines()
    t.check(len(lines) == 1 + 3 and "consolidated" in lines[0], "E: tree --depth 1", p.stdout)


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("zarrpy", "zarrita", "cli"):
        print(__doc__)
        return 2
    exe, work, which = sys.argv[1], sys.argv[2], sys.argv[3]
    work = fresh(os.path.join(work, which))
    z = Zarrc(exe)
    t = Tally(f"hierarchy.{which}")
    if which == "zarrpy":
        try:
            import numpy  # noqa: F401
            import zarr
        except ImportError as e:
            print(f"FAIL: zarr-python is not importable ({e}); run `make check` to install python3-zarr")
            return 1
        t.check(zarr.__version__.startswith("2."), "zarr-python 2.x", zarr.__version__)
        zarrpy_section_a(z, work, t)
        zarrpy_section_b(z, work, t)
    elif which == "zarrita":
        if shutil.which("node") is None:
            print("FAIL: node is not installed; run `make check`")
            return 1
        zarrita_section_c(z, work, t)
        zarrita_section_d(z, work, t)
    else:
        cli_section_e(z, work, t)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
