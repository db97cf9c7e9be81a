#!/usr/bin/python3
"""zarr-python 2.13 reads what zarrc wrote (run zarrc_write.py ZARRC WORKDIR first).

Usage: /usr/bin/python3 check_zarrpy_reads.py WORKDIR

For every array in WORKDIR/zc_manifest.json: zarr-python must open it, its .zarray must hold the
expected members (dtype with byte order, order, filters, compressor, fill value, separator),
the values it reads must equal what was put (element by element), chunks never written must not
exist, and attributes and group listings must match.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import v2common as C  # noqa: E402

zarr = C.require_peer()
import numpy as np  # noqa: E402


def _same(expected, got):
    """JSON equality; for dicts, expected members must match (extra members allowed)."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(k in got and _same(v, got[k])
                                             for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(got, list) and len(got) == len(expected)
                and all(_same(a, b) for a, b in zip(expected, got)))
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return expected == got or (math.isnan(expected) and math.isnan(got))
    return type(expected) is type(got) and expected == got


def check_array(work, e):
    name = e["name"]
    fails = list(e["zarrc_failures"])
    if fails:
        return fails
    node = os.path.join(work, e["path"])
    try:
        with open(os.path.join(node, ".zarray"), encoding="utf-8") as f:
            zarray = json.load(f)
    except (OSError, ValueError) as ex:
        return ["%s: cannot read .zarray: %s" % (name, ex)]
    for k, v in e["zarray"].items():
        if k == "dimension_separator" and v == "." and k not in zarray:
            continue
        if k not in zarray or not _same(v, zarray[k]):
            fails.append("%s: .zarray %r: expected %s, got %s" % (
                name, k, json.dumps(v), json.dumps(zarray.get(k, "<missing>"))))
    try:
        z = zarr.open_array(node, mode="r")
        a = np.asarray(z[...])
    except Exception as ex:  # any zarr-python failure is a finding
        return fails + ["%s: zarr-python cannot read it: %s: %s (.zarray: %s)" % (
            name, type(ex).__name__, ex, json.dumps(zarray, sort_keys=True))]
    if z.dtype.str != np.dtype(e["np_dtype"]).str:
        fails.append("%s: zarr-python dtype %s, expected %s" % (name, z.dtype.str, e["np_dtype"]))
    try:
        got = C.encode_doc(a, e["kind"])
    except Exception as ex:
        return fails + ["%s: zarr-python read unexpected items: %s: %s" % (
            name, type(ex).__name__, ex)]
    f = C.compare_docs(name, e["expected"], got, e["np_dtype"], e["kind"])
    if f:
        f.append("%s: .zarray: %s" % (name, json.dumps(zarray, sort_keys=True)))
    fails.extend(f)
    for key in e["absent"]:
        if os.path.exists(os.path.join(node, key)):
            fails.append("%s: chunk %r was never written but exists" % (name, key))
    for key in e.get("present", []):
        if not os.path.isfile(os.path.join(node, key)):
            fails.append("%s: chunk %r was written but there is no such file" % (name, key))
    if e.get("attrs"):
        try:
            attrs = z.attrs.asdict()
        except Exception as ex:
            return fails + ["%s: zarr-python cannot read the attributes: %s: %s (.zattrs: %s)" % (
                name, type(ex).__name__, ex, _raw(os.path.join(node, ".zattrs")))]
        if attrs != e["attrs"]:
            fails.append("%s: attributes: expected %s, got %s" % (
                name, json.dumps(e["attrs"], ensure_ascii=False),
                json.dumps(attrs, ensure_ascii=False)))
    return fails


def _raw(path):
    try:
        with open(path, "rb") as f:
            return repr(f.read()[:300])
    except OSError as ex:
        return str(ex)


def check_groups(work, man):
    fails = list(man["group_failures"])
    root = os.path.join(work, man["root"])
    try:
        zroot = zarr.open_group(root, mode="r")
    except Exception as ex:
        return fails + ["zarr-python cannot open the root group %s: %s: %s" % (
            root, type(ex).__name__, ex)]
    for grp, info in man["groups"].items():
        label = "group %r" % (grp or "/")
        try:
            g = zroot[grp] if grp else zroot
        except Exception as ex:
            fails.append("%s: zarr-python cannot open it: %s: %s" % (label, type(ex).__name__, ex))
            continue
        if not isinstance(g, zarr.hierarchy.Group):
            fails.append("%s: zarr-python sees a %s, not a group" % (label, type(g).__name__))
            continue
        try:
            attrs = g.attrs.asdict()
        except Exception as ex:
            fails.append("%s: zarr-python cannot read the attributes: %s: %s (.zattrs: %s)" % (
                label, type(ex).__name__, ex, _raw(os.path.join(root, grp, ".zattrs"))))
            attrs = None
        if attrs is not None and attrs != (info["attrs"] or {}):
            fails.append("%s: attributes: expected %s, got %s" % (
                label, json.dumps(info["attrs"], ensure_ascii=False),
                json.dumps(attrs, ensure_ascii=False)))
        for what, got in (("arrays", sorted(g.array_keys())), ("groups", sorted(g.group_keys()))):
            # arrays whose creation failed are reported on their own
            failed = {e["name"].rpartition("/")[2] for e in man["arrays"]
                      if e["zarrc_failures"] and e["name"].rpartition("/")[0] == grp}
            want = [x for x in info[what] if x not in failed] if what == "arrays" else info[what]
            got = [x for x in got if x not in failed] if what == "arrays" else got
            if got != want:
                fails.append("%s: zarr-python lists %s %s, expected %s" % (label, what, got, want))
    return fails


def main():
    if len(sys.argv) != 2:
        print("usage: check_zarrpy_reads.py WORKDIR", file=sys.stderr)
        return 2
    work = sys.argv[1]
    with open(os.path.join(work, "zc_manifest.json"), encoding="utf-8") as f:
        man = json.load(f)
    res = C.Results("zarr-python 2.13 reads zarrc v2 arrays")
    for e in man["arrays"]:
        res.case(e["name"], check_array(work, e))
    res.case("groups+attributes", check_groups(work, man))
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
