#!/usr/bin/python3
"""zarrc reads what zarr-python 2.13 wrote (run gen_zarrpy.py WORKDIR first).

Usage: /usr/bin/python3 check_zarrc_reads.py ZARRC WORKDIR

For every array in WORKDIR/manifest.json: `zarrc get NODE --json` must equal zarr-python's read
element by element, and `zarrc get --select` must equal NumPy slicing. `zarrc ls` must list the
groups' children, and `zarrc info --json` must report the attributes zarr-python wrote.
"""
import concurrent.futures
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import v2common as C  # noqa: E402

C.require_peer()


def strict_json(text):
    """Parse CLI output; bare NaN/Infinity tokens are not valid JSON (the contract uses strings)."""
    def bad(tok):
        raise ValueError("bare %s token in JSON output" % tok)
    return json.loads(text, parse_constant=bad)


def check_get(zc, work, entry):
    with open(os.path.join(work, entry["expected"])) as f:
        exp = json.load(f)
    node = os.path.join(work, entry["path"])
    name = entry["name"]
    fails = []
    reqs = [(None, exp["expected"])] + [(s["sel"], s["expected"]) for s in exp["selections"]]
    for sel, expected in reqs:
        args = ["get", node, "--json"] + (["--select", sel] if sel is not None else [])
        label = name + ("" if sel is None else " [--select %s]" % sel)
        rc, out, err = zc.run(*args)
        if rc != 0:
            fails.append("%s: `%s` exited %d: %s (.zarray: %s)" % (
                label, zc.cmdline(*args), rc, err, json.dumps(entry["zarray"], sort_keys=True)))
            continue
        try:
            got = strict_json(out)
        except ValueError as e:
            fails.append("%s: output is not valid JSON (%s): %.200s" % (label, e, out))
            continue
        f = C.compare_docs(label, expected, got, exp["np_dtype"], exp["kind"])
        if f and sel is None:
            f.append("%s: .zarray: %s" % (label, json.dumps(entry["zarray"], sort_keys=True)))
        fails.extend(f)
    return fails


def _numbers(s):
    out, cur = [], ""
    for ch in s + " ":
        if ch.isdigit():
            cur += ch
        elif cur:
            out.append(int(cur))
            cur = ""
    return out


def _is_subsequence(small, big):
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def check_ls(zc, work, man):
    fails = []
    for grp, info in man["groups"].items():
        node = os.path.join(work, man["root"], grp)
        label = "ls %s" % (grp or "/")
        rc, out, err = zc.run("ls", node)
        if rc != 0:
            fails.append("%s: exited %d: %s" % (label, rc, err))
            continue
        lines = out.splitlines()

        def line_for(child):
            for ln in lines:
                toks = ln.replace("/", " ").replace("\t", " ").split()
                if child in toks:
                    return ln
            return None
        for child in info["groups"]:
            ln = line_for(child)
            if ln is None:
                fails.append("%s: group child %r missing from output:\n%s" % (label, child, out))
            elif "group" not in ln.lower():
                fails.append("%s: line for group %r does not say 'group': %r" % (label, child, ln))
        for child in info["arrays"]:
            ln = line_for(child)
            if ln is None:
                fails.append("%s: array child %r missing from output:\n%s" % (label, child, out))
                continue
            if "array" not in ln.lower():
                fails.append("%s: line for array %r does not say 'array': %r" % (label, child, ln))
            shape = next(a["zarray"]["shape"] for a in man["arrays"]
                         if a["name"] == (grp + "/" + child if grp else child))
            if shape and not _is_subsequence(shape, _numbers(ln.split(child, 1)[1])):
                fails.append("%s: line for %r does not show shape %s: %r" % (label, child, shape,
                                                                          ln))
        expected_children = set(info["groups"]) | set(info["arrays"])
        if len([ln for ln in lines if ln.strip()]) < len(expected_children):
            fails.append("%s: %d lines for %d children" % (label, len(lines),
                                                           len(expected_children)))
    return fails


def _find_key(obj, key):
    """All values stored under `key` anywhere in a JSON document."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                found.append(v)
            found.extend(_find_key(v, key))
    elif isinstance(obj, list):
        for v in obj:
            found.extend(_find_key(v, key))
    return found


def _contains_doc(obj, doc):
    if obj == doc:
        return True
    if isinstance(obj, dict):
        return any(_contains_doc(v, doc) for v in obj.values())
    if isinstance(obj, list):
        return any(_contains_doc(v, doc) for v in obj)
    return False


def check_info(zc, work, man):
    fails = []
    targets = [(grp, info["attrs"]) for grp, info in man["groups"].items()]
    targets += list(man["attr_arrays"].items())
    for rel, attrs in targets:
        node = os.path.join(work, man["root"], rel)
        label = "info --json %s" % (rel or "/")
        rc, out, err = zc.run("info", node, "--json")
        if rc != 0:
            fails.append("%s: exited %d: %s" % (label, rc, err))
            continue
        try:
            doc = strict_json(out)
        except ValueError as e:
            fails.append("%s: output is not valid JSON (%s): %.300s" % (label, e, out))
            continue
        cands = _find_key(doc, "attributes")
        if attrs not in cands:
            fails.append("%s: attributes: expected %s, got %s" % (
                label, json.dumps(attrs, ensure_ascii=False),
                json.dumps(cands, ensure_ascii=False)[:400]))
    # The stored metadata document of a few arrays appears verbatim in `info --json`.
    for entry in man["arrays"][::40]:
        node = os.path.join(work, entry["path"])
        label = "info --json %s" % entry["name"]
        rc, out, err = zc.run("info", node, "--json")
        if rc != 0:
            fails.append("%s: exited %d: %s" % (label, rc, err))
            continue
        try:
            doc = strict_json(out)
        except ValueError as e:
            fails.append("%s: output is not valid JSON (%s): %.300s" % (label, e, out))
            continue
        zarray = dict(entry["zarray"])
        if not _contains_doc(doc, zarray):
            fails.append("%s: the stored .zarray %s is not in the output: %.600s" % (
                label, json.dumps(zarray, sort_keys=True), out))
        rc, out, err = zc.run("info", node)
        if rc != 0 or not out.strip():
            fails.append("info %s (text): exited %d: %s" % (entry["name"], rc, err))
    return fails


def main():
    if len(sys.argv) != 3:
        print("usage: check_zarrc_reads.py ZARRC WORKDIR", file=sys.stderr)
        return 2
    zc = C.Zarrc(sys.argv[1])
    work = sys.argv[2]
    with open(os.path.join(work, "manifest.json")) as f:
        man = json.load(f)
    res = C.Results("zarrc reads zarr-python 2.13 v2 arrays")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        futs = [(e["name"], ex.submit(check_get, zc, work, e)) for e in man["arrays"]]
        for name, fut in futs:
            res.case(name, fut.result())
    res.case("ls", check_ls(zc, work, man))
    res.case("attributes/info", check_info(zc, work, man))
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
