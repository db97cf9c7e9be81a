#!/usr/bin/env python3
"""References and links against the real peers (pynwb 4.2 + hdmf-zarr 0.14, pydantic-zarr 0.10).

usage: test_nwb_refs.py ZARRC WORKDIR

1. pynwb + hdmf-zarr write an NWB file as Zarr with links (TimeSeries timestamps, ElectrodeGroup
   device), object references (the electrodes table's group column), attribute references
   (DynamicTableRegion.table, VectorIndex.target), a compound dataset with a reference field
   (epochs.timeseries, a v3 struct: hdmf-zarr 0.14 writes v3 only) and string datasets. zarrc
   reads every dataset, struct ones element by element and field by field, and resolves every reference (`zarrc refs -r --json`); each target is checked against what
   hdmf-zarr resolves, by the object_id of the container hdmf-zarr returns.
2. `zarrc cp -r` copies the file; hdmf-zarr opens the copy and resolves the same references.
3. zarrc writes references in the same convention (a link with `zarrc refs --link`, a
   reference dataset rewritten with `zarrc put`); hdmf-zarr resolves them.
4. The external-store rule: a link into another store is refused unless --allow-external.
5. pydantic-zarr GroupSpec: GroupSpec.from_zarr on a zarrc-written hierarchy equals
   `zarrc tree --spec`; a GroupSpec (nested, and flat) written by pydantic-zarr creates the
   same hierarchy through `zarrc hierarchy create`.
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import warnings

warnings.simplefilter("ignore")

import numpy as np  # noqa: E402
import zarr  # noqa: E402

ZARRC, WORK = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def run(*args, ok=True):
    p = subprocess.run([ZARRC, *args], capture_output=True, text=True)
    if ok and p.returncode != 0:
        print("FAIL: zarrc", *args, "->", p.returncode, p.stderr.strip())
        global failed
        failed += 1
    return p


def make_nwb(path, link_timestamps=True, two_groups=False):
    from pynwb import NWBFile, TimeSeries
    from pynwb.ecephys import ElectricalSeries
    from hdmf_zarr.nwb import NWBZarrIO
    nwb = NWBFile(session_description="zarrc test", identifier="zarrc-1",
                  session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    dev = nwb.create_device(name="probe")
    eg0 = nwb.create_electrode_group(name="shank0", description="d", location="CA1", device=dev)
    eg1 = nwb.create_electrode_group(name="shank1", description="d", location="CA3", device=dev) if two_groups else eg0
    for g in (eg0, eg0, eg1):
        nwb.add_electrode(group=g, location="CA1")
    reg = nwb.create_electrode_table_region([0, 2], "two")
    nwb.add_acquisition(ElectricalSeries(name="es", data=np.arange(20, dtype=np.float32).reshape(10, 2),
                                         electrodes=reg, rate=10.0))
    ts1 = TimeSeries(name="ts1", data=np.arange(5.0), unit="m", timestamps=np.arange(5.0))
    nwb.add_acquisition(ts1)
    ts2 = TimeSeries(name="ts2", data=np.arange(5.0) * 2, unit="m",
                     timestamps=ts1 if link_timestamps else np.arange(5.0) + 10)
    nwb.add_acquisition(ts2)
    nwb.add_epoch(0.0, 1.0, ["a"], [ts1])
    nwb.add_epoch(1.0, 2.0, ["b"], [ts2, ts1])
    with NWBZarrIO(path, mode="w") as io:
        io.write(nwb)


def hdmf_expectations(path):
    """(node, kind, name, index, field) -> object_id of the container hdmf-zarr resolves."""
    from hdmf_zarr.nwb import NWBZarrIO
    exp = {}
    with NWBZarrIO(path, mode="r") as io:
        nwb = io.read()
        ts1, ts2 = nwb.acquisition["ts1"], nwb.acquisition["ts2"]
        if str(getattr(ts2.timestamps, "path", "")).endswith("acquisition/ts1/timestamps"):
            # the link ts2/timestamps -> ts1's timestamps dataset
            exp[("/acquisition/ts2", "link", "timestamps", None, None)] = ("array", ts1.object_id)
        eg = nwb.electrode_groups
        for name, g in eg.items():
            exp[(f"/general/extracellular_ephys/{name}", "link", "device", None, None)] = ("group", g.device.object_id)
        groups = nwb.electrodes["group"][:]
        for i, g in enumerate(groups):
            exp[("/general/extracellular_ephys/electrodes/group", "element", None, i, None)] = ("group", g.object_id)
        exp[("/acquisition/es/electrodes", "attribute", "table", None, None)] = (
            "group", nwb.acquisition["es"].electrodes.table.object_id)
        tsr = nwb.epochs["timeseries"].target
        for i in range(len(tsr.data)):
            exp[("/intervals/epochs/timeseries", "field", None, i, "timeseries")] = ("group", tsr[i].timeseries.object_id)
        exp[("/intervals/epochs/tags_index", "attribute", "target", None, None)] = (
            "array", nwb.epochs["tags"].target.object_id)
        exp[("/intervals/epochs/timeseries_index", "attribute", "target", None, None)] = ("array", tsr.object_id)
    return exp


def object_id_of(path, node, kind):
    """The object_id hdmf-zarr gave the container stored at node (a link to a dataset counts as
    the dataset's parent container: hdmf-zarr resolves ts2.timestamps to ts1)."""
    g = zarr.open_group(path, mode="r")
    n = g[node.lstrip("/")] if node != "/" else g
    if kind == "array" and "object_id" not in n.attrs:
        n = g["/".join(node.lstrip("/").split("/")[:-1])]
    return n.attrs.get("object_id")


def check_refs(path, label):
    p = run("refs", "-r", "--json", path)
    if p.returncode != 0:
        return
    got = json.loads(p.stdout)
    exp = hdmf_expectations(path)
    seen = set()
    for e in got:
        key = (e["node"], e["kind"], e["name"] if e["kind"] in ("link", "attribute") else None, e["index"], e["field"])
        check("error" not in e, f"{label}: {key} resolves ({e.get('error')})")
        if key not in exp:
            continue
        seen.add(key)
        ttype, oid = exp[key]
        check(e["target_type"] == ttype, f"{label}: {key} target type {e['target_type']} == {ttype}")
        check(object_id_of(path, e["target"], ttype) == oid,
              f"{label}: {key} -> {e['target']} is the object hdmf-zarr resolves")
    check(seen == set(exp), f"{label}: zarrc lists every reference hdmf-zarr resolves (missing {set(exp) - seen})")
    check(len(exp) >= 10, f"{label}: the file has links, attribute refs, a reference dataset and a compound")


def check_datasets(path, label):
    """Every dataset: zarrc get --json equals zarr-python; struct arrays need zarrc's struct
    support (issue 14, other branch): until then their reference field is proven by refs."""
    g = zarr.open_group(path, mode="r")
    n_ok = n_struct = 0
    stack = [("", g)]
    while stack:
        prefix, grp = stack.pop()
        for name, node in grp.members():
            rel = f"{prefix}{name}"
            if isinstance(node, zarr.Group):
                stack.append((rel + "/", node))
                continue
            p = run("get", "--json", os.path.join(path, rel), ok=False)
            if p.returncode != 0:
                check(False, f"{label}: zarrc get {rel}: {p.stderr.strip()}")
                continue
            data = json.loads(p.stdout)["data"]
            want = node[...]
            want = np.asarray(want)
            if want.dtype.names is not None:
                # a compound dataset (v3 struct): each element an object, field by field, and
                # each field read alone with --field equals zarr-python's field
                n_struct += 1
                flat = want.ravel()
                rows = [{f: flat[f][i].item() for f in want.dtype.names} for i in range(flat.size)]
                check(data == rows, f"{label}: {rel} (struct) reads element by element as zarr-python\n"
                      f" ours   {data}\n theirs {rows}")
                for f in want.dtype.names:
                    q = run("get", "--json", "--field", f, os.path.join(path, rel), ok=False)
                    got = json.loads(q.stdout)["data"] if q.returncode == 0 else q.stderr.strip()
                    check(got == flat[f].tolist(), f"{label}: {rel} --field {f}: {got}")
                n_ok += 1
                continue
            want = [want.item()] if node.ndim == 0 else want.ravel().tolist()
            check(data == want, f"{label}: {rel} reads as zarr-python reads it")
            n_ok += 1
    check(n_ok >= 40, f"{label}: {n_ok} datasets read")
    # hdmf-zarr 0.14 writes v3 only; its one compound dataset here is epochs/timeseries
    # (int32, int32, and the reference field as fixed_length_utf32 paths)
    check(n_struct >= 1, f"{label}: the struct datasets hdmf-zarr writes were read ({n_struct})")
    print(f"{label}: {n_ok} datasets equal to zarr-python's, {n_struct} of them struct "
          "(element by element and field by field)")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    src = os.path.join(WORK, "t.nwb.zarr")
    make_nwb(src)
    check_datasets(src, "nwb")
    check_refs(src, "nwb")
    p = run("tree", src, "--follow-links")
    check("timestamps  link -> /acquisition/ts1/timestamps  (array)" in p.stdout, "tree shows the link")
    check("[object references]" in p.stdout and "[reference field timeseries]" in p.stdout,
          "tree marks the reference dataset and the reference field")
    p = run("info", os.path.join(src, "acquisition/ts2"), "--json")
    check(json.loads(p.stdout).get("links", [{}])[0].get("target") == "/acquisition/ts1/timestamps", "info --json links")

    # 2. cp -r keeps the references valid; hdmf-zarr resolves them in the copy.
    dst = os.path.join(WORK, "copy.nwb.zarr")
    run("cp", "-r", src, dst)
    check_refs(dst, "copy")
    ea, eb = hdmf_expectations(src), hdmf_expectations(dst)
    check(ea == eb, "hdmf-zarr resolves the same references in the copy")

    # 3. zarrc writes references: the link ts2/timestamps and the electrodes' group column.
    w = os.path.join(WORK, "w.nwb.zarr")
    make_nwb(w, link_timestamps=False, two_groups=True)
    run("rm", os.path.join(w, "acquisition/ts2/timestamps"))
    run("refs", os.path.join(w, "acquisition/ts2"), "--link", "timestamps=/acquisition/ts1/timestamps")
    col = os.path.join(w, "general/extracellular_ephys/electrodes/group")
    new = ["/general/extracellular_ephys/shank1", "/general/extracellular_ephys/shank0",
           "/general/extracellular_ephys/shank1"]
    p = subprocess.run([ZARRC, "put", col, "--json", "-"], input=json.dumps(new), capture_output=True, text=True)
    check(p.returncode == 0, f"zarrc put of the reference column ({p.stderr.strip()})")
    run("consolidate", w)  # hdmf-zarr opens the file through its consolidated metadata
    from hdmf_zarr.nwb import NWBZarrIO
    with NWBZarrIO(w, mode="r") as io:
        nwb = io.read()
        t2 = nwb.acquisition["ts2"].timestamps
        check(str(getattr(t2, "path", "")).endswith("acquisition/ts1/timestamps") and
              list(t2[:]) == list(nwb.acquisition["ts1"].timestamps[:]), "hdmf-zarr follows zarrc's link")
        check([g.name for g in nwb.electrodes["group"][:]] == ["shank1", "shank0", "shank1"],
              "hdmf-zarr resolves the references zarrc wrote")

    # 4. A link into another store: refused unless allowed.
    other = os.path.join(WORK, "other.zarr")
    zarr.open_group(other, mode="w").create_group("x")
    ext = os.path.join(WORK, "ext.zarr")
    gx = zarr.open_group(ext, mode="w")
    gx.create_group("a").attrs["_LINKS"] = [{"name": "far", "source": "../other.zarr", "path": "/x"}]
    gx.attrs["r"] = {"_REFERENCE": {"source": ".", "path": "/missing"}}
    p = run("refs", ext, "-r", "--json", ok=False)
    check(p.returncode == 1 and "leaves the store" in p.stdout and "does not exist" in p.stdout,
          "an external link is refused and a dangling reference reported")
    p = run("refs", os.path.join(ext, "a"), "--allow-external", "--json", ok=False)
    e = json.loads(p.stdout) if p.stdout else []
    check(p.returncode == 0 and e and e[0]["target"] == "../other.zarr:/x", "--allow-external resolves it")

    # 4b. Legacy v2 reference datasets (older hdmf-zarr): dtype "|O" with the json2 or msgpack2
    # object codec, attribute zarr_dtype "object", each element a reference object; written by
    # zarr-python 2.13 (Debian) the way hdmf-zarr < 0.6 wrote them.
    leg = os.path.join(WORK, "legacy.zarr")
    gen = f"""
import zarr, numcodecs, numpy as np
g = zarr.open_group({leg!r}, mode="w")
g.create_group("a/b"); g.create_dataset("d", data=np.arange(3))
for name, codec in (("refs_json", numcodecs.JSON()), ("refs_msgpack", numcodecs.MsgPack())):
    v = np.empty(4, dtype=object)
    v[:] = [{{"source": ".", "path": "/a/b", "object_id": "o1", "source_object_id": "r0"}},
            {{"source": ".", "path": "/d", "object_id": None, "source_object_id": "r0"}},
            {{"source": ".", "path": "/a", "object_id": "o3", "source_object_id": "r0"}},
            {{"source": ".", "path": "/", "object_id": "o4", "source_object_id": "r0"}}]
    r = g.create_dataset(name, shape=(4,), chunks=(3,), dtype=object, object_codec=codec)
    r[:] = v
    r.attrs["zarr_dtype"] = "object"
"""
    q = subprocess.run(["/usr/bin/python3", "-c", gen], capture_output=True, text=True)
    check(q.returncode == 0, f"zarr-python 2.13 writes the legacy reference arrays ({q.stderr.strip()[-300:]})")
    p = run("refs", "-r", "--json", leg, ok=False)
    got = json.loads(p.stdout) if p.stdout else []
    for name, codec in (("refs_json", "json2"), ("refs_msgpack", "msgpack2")):
        zd = json.load(open(os.path.join(leg, name, ".zarray")))
        check(zd["dtype"] == "|O" and zd["filters"][0]["id"] == codec, f"legacy {name} is a |O {codec} array")
        mine = sorted((e["index"], e.get("target"), e.get("target_type"), e.get("error")) for e in got
                      if e["node"] == "/" + name)
        check(mine == [(0, "/a/b", "group", None), (1, "/d", "array", None), (2, "/a", "group", None),
                       (3, "/", "group", None)], f"legacy {name}: every element resolves: {mine}")
    check(p.returncode == 0, f"zarrc refs on the legacy file ({p.stderr.strip()})")
    p = run("tree", leg)
    check(p.stdout.count("[object references]") == 2, f"tree marks both legacy reference arrays:\n{p.stdout}")

    # 5. pydantic-zarr GroupSpec both ways.
    from pydantic_zarr.v2 import GroupSpec as G2
    from pydantic_zarr.v3 import GroupSpec as G3
    for fmt, G in ((3, G3), (2, G2)):
        h = os.path.join(WORK, f"h{fmt}")
        flat = {"": {"zarr_format": fmt, "attributes": {"foo": 42}}}
        if fmt == 3:
            flat[""]["node_type"] = "group"
            arr = lambda shape, dt, codecs, extra: dict({"zarr_format": 3, "node_type": "array", "shape": shape,
                "data_type": dt, "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": shape}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0, "codecs": codecs}, **extra)
            flat["a"] = arr([10, 20], "int16", [{"name": "bytes", "configuration": {"endian": "little"}}],
                            {"attributes": {"x": [1, 2]}, "dimension_names": ["y", "x"]})
            flat["g/b"] = arr([4], "float64", [{"name": "bytes", "configuration": {"endian": "little"}},
                                                {"name": "gzip", "configuration": {"level": 1}}], {})
        else:
            flat["a"] = {"zarr_format": 2, "shape": [10], "chunks": [5], "dtype": "<i4", "fill_value": 0,
                         "order": "C", "filters": None, "compressor": {"id": "zlib", "level": 1},
                         "attributes": {"u": 1}}
            flat["g/b"] = {"zarr_format": 2, "shape": [3, 3], "chunks": [3, 3], "dtype": "<f8", "fill_value": "NaN",
                           "order": "C", "filters": None, "compressor": None, "dimension_separator": "/"}
        sp = os.path.join(WORK, f"flat{fmt}.json")
        with open(sp, "w") as f:
            json.dump(flat, f)
        run("hierarchy", "create", h, sp, "--quiet")
        theirs = json.loads(G.from_zarr(zarr.open_group(h, mode="r")).model_dump_json())
        p = run("tree", h, "--spec")
        ours = json.loads(p.stdout) if p.returncode == 0 else None
        check(ours == theirs, f"v{fmt}: zarrc tree --spec == GroupSpec.from_zarr\n ours  {ours}\n theirs {theirs}")
        # nested GroupSpec JSON from pydantic-zarr -> zarrc hierarchy create -> same spec
        for form, text in (("nested", G(**theirs).model_dump_json()),
                           ("flat", json.dumps({k: v.model_dump() for k, v in G(**theirs).to_flat().items()}))):
            sp2 = os.path.join(WORK, f"spec{fmt}_{form}.json")
            with open(sp2, "w") as f:
                f.write(text)
            h2 = os.path.join(WORK, f"h{fmt}_{form}")
            run("hierarchy", "create", h2, sp2, "--quiet")
            again = json.loads(G.from_zarr(zarr.open_group(h2, mode="r")).model_dump_json())
            check(again == theirs, f"v{fmt}: pydantic-zarr's {form} GroupSpec creates the same hierarchy")
        check(json.loads(run("tree", h, "--spec", "--depth", "0").stdout)["members"] is None, "--depth 0: members null")

    print(f"refs.nwb: {passed} passed, {failed} failed")
    return 1 if failed else 0


sys.exit(main())
