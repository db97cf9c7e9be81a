#!/usr/bin/python3
"""Conformance of zarrc against third-party fixtures in ../shared/fixtures, through the CLI.

usage: run_conformance.py SUITE ZARRC SHARED_DIR WORKDIR

Suites (one ctest each): zarrita_js, zarrs, zarr_python_v2, netcdf_c, zarr_java,
zarr_implementations, derived_metadata, zarr_python_metadata.

Arrays: `zarrc get NODE --json` must equal the expected values (EXPECTED.json, .npy, .raw, csv)
element by element. Accept/refuse cases: `zarrc info NODE` exit 0, or exit 1 with a message
(never a crash). Out-of-scope stores are listed on one "SKIP (out of scope: reason):" line per
category; each is still opened once to prove zarrc does not crash on it.
"""
import base64
import glob
import json
import math
import os
import shutil
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zarrc_harness as H  # noqa: E402

BIG = 2_000_000  # arrays with more elements are checked through selections

# ------------------------------------------------------------------------------------------
# Scope
# ------------------------------------------------------------------------------------------

SCOPE_CODECS = "json2 / pcodec / zfpy codecs"
SCOPE_STRUCT = "structured data types"
SCOPE_ZIP = "zip-packed stores"


def _v3_codec_names(codecs, acc):
    for c in codecs or []:
        name = c if isinstance(c, str) else c.get("name")
        acc.add(name)
        if isinstance(c, dict):
            cfg = c.get("configuration") or {}
            _v3_codec_names(cfg.get("codecs"), acc)
            _v3_codec_names(cfg.get("index_codecs"), acc)
    return acc


def read_meta(node):
    """(format, document) of the node's metadata as stored (v3 looked up first)."""
    for fmt, name in ((3, "zarr.json"), (2, ".zarray"), (2, ".zgroup")):
        p = os.path.join(node, name)
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                return fmt, json.load(f)
    return None, None


def scope_reason(node):
    fmt, meta = read_meta(node)
    if meta is None:
        return None
    if fmt == 3:
        names = _v3_codec_names(meta.get("codecs"), set())
        if names & {"json2", "numcodecs.json2", "pcodec", "numcodecs.pcodec", "zfpy",
                    "numcodecs.zfpy"}:
            return SCOPE_CODECS
        dt = meta.get("data_type")
        if isinstance(dt, dict) and dt.get("name") in ("struct", "structured"):
            return SCOPE_STRUCT
        return None
    ids = set()
    if isinstance(meta.get("compressor"), dict):
        ids.add(meta["compressor"].get("id"))
    for f in meta.get("filters") or []:
        ids.add(f.get("id"))
    if ids & {"json2", "pcodec", "zfpy"}:
        return SCOPE_CODECS
    if isinstance(meta.get("dtype"), list):
        return SCOPE_STRUCT
    return None


# ------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------

class Suite:
    def __init__(self, name, z, fixtures, work):
        self.z = z
        self.fx = fixtures
        self.work = work
        self.t = H.Tally("conformance: " + name)
        self.skips = {}

    def skip(self, reason, node, label):
        """Out of scope: list it, and still make sure zarrc does not crash on it."""
        self.skips.setdefault(reason, []).append(label)
        if node:
            r = self.z.run("get", node, "--json", timeout=60)
            if r.crashed:
                self.t.fail(label, "out of scope, but zarrc must not crash: " + r.describe())

    def finish(self):
        for reason, items in sorted(self.skips.items()):
            self.t.skip_category(reason, items)
        return self.t.finish()

    # -- arrays ------------------------------------------------------------------------

    def array(self, node, label, dtype, shape, expected=None, selections=None, check_scope=True):
        """expected: flat C-order list, or None with selections [(sel, expected_list)]."""
        if check_scope:
            reason = scope_reason(node)
            if reason:
                self.skip(reason, node, label)
                return
        name = H.v3_name(dtype)
        if expected is not None:
            self._get(node, label, name, shape, expected, None)
        for sel, exp in selections or []:
            _, sshape = H.selection_indices(shape, sel)
            self._get(node, "%s [%s]" % (label, sel), name, sshape, exp, sel)

    def _get(self, node, label, name, shape, expected, sel):
        doc, err = self.z.get_json(node, sel)
        if err:
            self.t.fail(label, err)
            return
        if not isinstance(doc, dict) or "data" not in doc:
            self.t.fail(label, "get --json printed no 'data' member: %s" % H.show(doc, 200))
            return
        probs = []
        if doc.get("shape") != list(shape):
            probs.append("shape: expected %s, got %s" % (list(shape), doc.get("shape")))
        if doc.get("dtype") != name:
            probs.append("dtype: expected %s, got %s" % (name, doc.get("dtype")))
        probs += H.compare_values(name, expected, doc["data"])
        self.t.check(not probs, label, "; ".join(probs))

    # -- groups and metadata -----------------------------------------------------------

    def group(self, node, label, attributes=None):
        info, r = self.z.info_json(node)
        if info is None:
            self.t.fail(label, "group must open: " + r.describe())
            return
        if attributes is not None:
            attrs, found = H.find_key(info, "attributes")
            self.t.check(found and deep_equal(attrs, attributes), label,
                         "attributes: expected %s, got %s" % (H.show(attributes, 200),
                                                              H.show(attrs, 200)))
        else:
            self.t.ok()

    def attributes(self, node, label, expected):
        info, r = self.z.info_json(node)
        if info is None:
            self.t.fail(label, r.describe())
            return None
        attrs, found = H.find_key(info, "attributes")
        self.t.check(found and deep_equal(attrs, expected), label + " attributes",
                     "expected %s, got %s" % (H.show(expected, 300), H.show(attrs, 300)))
        return info

    def accept(self, node, label):
        r = self.z.run("info", node)
        return self.t.check(r.rc == 0, label, "must be accepted: " + r.describe())

    def refuse(self, node, label, verb="info", must_mention=None):
        args = [verb, node] + (["--json"] if verb == "get" else [])
        r = self.z.run(*args)
        err = r.err.decode("utf-8", "replace")
        if r.crashed:
            self.t.fail(label, "must be refused cleanly, but " + H.CRASH_HINT + ": " + r.describe())
        elif r.rc != 1 or not err.strip().startswith("zarrc:"):
            self.t.fail(label, "must be refused with exit 1 and a 'zarrc: <message>' on stderr: "
                        + r.describe())
        elif must_mention and must_mention not in err:
            self.t.fail(label, "the message should name %r: %s" % (must_mention, r.describe()))
        else:
            self.t.ok()


def deep_equal(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def load_json_file(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


FORMULAS = {
    "float32 arange(100) reshaped (10,10)": lambda: np.arange(100, dtype=np.float32),
    "uint16 arange(10000) reshaped (100,100)": lambda: np.arange(10000, dtype=np.uint16),
    "int32 arange(4096) reshaped (16,16,16)": lambda: np.arange(4096, dtype=np.int32),
}


def formula_values(text):
    for k, f in FORMULAS.items():
        if text.startswith(k):
            return H.npy_to_flat(f())
    return None


def entry_values(entry, base_dir, shape):
    """Expected flat values of an EXPECTED.json entry, or None if it has none we can use."""
    if "values_c_order" in entry:
        return entry["values_c_order"]
    if "values_file" in entry:
        return H.npy_to_flat(np.load(os.path.join(base_dir, entry["values_file"].split(" ")[0]),
                                     allow_pickle=False))
    if "values_formula" in entry:
        return formula_values(entry["values_formula"])
    return None


def big_selections(shape, value):
    """Corner and middle selections of a huge array whose every element is `value`."""
    sels = []
    if len(shape) == 2:
        sels = ["0:3,0:5", "%d:%d,%d:%d" % (shape[0] - 2, shape[0], shape[1] - 3, shape[1]),
                "%d,::%d" % (shape[0] // 2, max(1, shape[1] // 10))]
    out = []
    for s in sels:
        idx, _ = H.selection_indices(shape, s)
        out.append((s, [value] * len(idx)))
    return out


# ------------------------------------------------------------------------------------------
# Suites
# ------------------------------------------------------------------------------------------

def suite_zarrita_js(z, fx, work):
    s = Suite("zarrita.js fixtures", z, fx, work)
    base = os.path.join(fx, "zarrita.js", "fixtures")
    exp = load_json_file(os.path.join(fx, "zarrita.js", "EXPECTED.json"))["stores"]
    for key, e in exp.items():
        node = os.path.join(base, key[:-2] if key.endswith("/.") else key)
        label = "zarrita.js/" + key
        if e.get("node_type") == "group":
            s.group(node, label, e.get("attributes"))
            continue
        dtype = e.get("data_type", e.get("dtype"))
        vals = entry_values(e, os.path.join(fx, "zarrita.js"), e["shape"])
        if vals is None:
            s.t.fail(label, "no expected values in EXPECTED.json (test bug)")
            continue
        s.array(node, label, dtype, e["shape"], vals)
    zips = sorted(os.path.relpath(p, base) for p in glob.glob(os.path.join(base, "*", "*.zip")))
    for zp in zips:
        s.skip(SCOPE_ZIP, None, "zarrita.js/" + zp)
    return s.finish()



# The zarrs fixtures' optional arrays, transcribed from their attributes.description (N = null,
# SN = Some(None), shown by zarrc as [null]; nested present values as [v]).
OPTIONAL_EXPECTED = {
    "v3/array_optional.zarr/array": [0, None, 2, 3, None, 5, None, 7, 8, 9, None, None, 12, None, None, None],
    "v3/array_optional_nested.zarr/array": [None, [None], [2], [3], None, [5], None, [7],
                                            [None], [None], None, None, [None], [None], None, None],
}

def suite_zarrs(z, fx, work):
    s = Suite("zarrs fixtures", z, fx, work)
    base = os.path.join(fx, "zarrs", "zarrs", "tests", "data")
    exp = load_json_file(os.path.join(fx, "zarrs", "EXPECTED.json"))["stores"]
    cities = None
    for key, e in exp.items():
        node = os.path.join(base, key)
        label = "zarrs/" + key
        if e.get("node_type") == "group":
            s.group(node, label, e.get("attributes"))
            continue
        dtype = e.get("data_type", e.get("dtype"))
        if isinstance(dtype, dict) and dtype.get("name") == "optional":
            # zarrs' experimental optional type (its earlier spelling "optional"): read element
            # by element against the layout the array's attributes.description gives
            want = OPTIONAL_EXPECTED.get(key)
            if want is None:
                s.skip("zarrs optional fixture without a transcribed expectation", node, label)
                continue
            doc, err = s.z.get_json(node)
            s.t.check(not err and doc.get("shape") == [4, 4] and doc.get("dtype") == "zarrs.optional"
                      and doc.get("data") == want, label + " (zarrs optional, element by element)",
                      err or "got %s, expected %s" % (H.show(doc, 300), want))
            continue
        reason = scope_reason(node)
        if reason:
            s.skip(reason, node, label)
            continue
        shape = e["shape"]
        n = int(np.prod(shape)) if shape else 1
        if e.get("values_source", "").startswith("cities.csv"):
            if cities is None:
                with open(os.path.join(base, "cities.csv"), encoding="utf-8") as f:
                    cities = f.read().split("\n")[:-1]
            vals = cities
        elif e.get("values_formula", "").startswith("all NaN"):
            s.array(node, label, dtype, shape, None, big_selections(shape, "NaN"),
                    check_scope=False)
            continue
        else:
            vals = entry_values(e, os.path.join(fx, "zarrs"), shape)
        if vals is None:
            s.t.fail(label, "no usable expected values (test bug): %s" % H.show(e, 200))
            continue
        if n > BIG:
            s.t.fail(label, "array too large for a whole read (test bug)")
            continue
        s.array(node, label, dtype, shape, vals, check_scope=False)
        # Stores written by zarrs' array_v2_to_v3 carry .zarray too: the v2 view must agree.
        if os.path.exists(os.path.join(node, ".zarray")) and os.path.exists(
                os.path.join(node, "zarr.json")):
            v2node = os.path.join(work, "zarrs_v2_views", key.replace("/", "_"))
            H.copy_writable(node, v2node, ignore=shutil.ignore_patterns("zarr.json"))
            meta = load_json_file(os.path.join(v2node, ".zarray"))
            s.array(v2node, label + " (v2 view: .zarray)", meta["dtype"], shape, vals)
    # metadata documents shipped beside the stores
    for fname, kind in (("array_metadata.json", "array"), ("group_metadata.json", "group")):
        doc = load_json_file(os.path.join(base, fname))
        d = H.fresh_dir(os.path.join(work, "zarrs_meta", fname))
        with open(os.path.join(d, "zarr.json"), "w") as f:
            json.dump(doc, f)
        s.attributes(d, "zarrs/" + fname, doc.get("attributes", {}))
    return s.finish()


def suite_zarr_python_v2(z, fx, work):
    s = Suite("zarr-python v2 fixture", z, fx, work)
    root = os.path.join(fx, "zarr-python-v2")
    exp = load_json_file(os.path.join(root, "EXPECTED.json"))
    s.group(os.path.join(root, "fixture"), "zarr-python-v2/fixture (root group)")
    for key, e in exp["arrays"].items():
        arr = np.load(os.path.join(root, e["expected_values_file"]), allow_pickle=False)
        vals = H.npy_to_flat(arr)
        if list(arr.shape) != e["shape"]:
            s.t.fail(key, "expected .npy shape %s != %s (test bug)" % (arr.shape, e["shape"]))
            continue
        s.group(os.path.join(root, key), "zarr-python-v2/%s (group)" % key)
        for variant, comp in e["variants"].items():
            label = "zarr-python-v2/%s [%s, order %s, compressor %s]" % (
                variant, e["dtype"], e["order"], json.dumps(comp))
            s.array(os.path.join(root, variant), label, e["dtype"], e["shape"], vals)
    for key, e in exp["dimension_separator_cases"].items():
        node = os.path.join(root, key)
        meta = load_json_file(os.path.join(node, ".zarray"))
        # Policy: a spec-following reader (no chunk listing) reads nested_legacy as fill.
        want = e.get("expected", e.get("expected_spec_reader"))
        flat = [x for row in want for x in row]
        s.array(node, "zarr-python-v2/%s (%s)" % (key, e["note"][:60]), meta["dtype"],
                [len(want), len(want[0])], flat)
    for key, e in exp["attribute_cases"].items():
        s.group(os.path.join(root, key), "zarr-python-v2/%s (UTF-8 attributes)" % key,
                e["attributes"])
    return s.finish()


def suite_netcdf_c(z, fx, work):
    s = Suite("netcdf-c fixtures", z, fx, work)
    base = os.path.join(fx, "netcdf-c", "nczarr_test")
    out = H.fresh_dir(os.path.join(work, "netcdf-c"))
    for zp in sorted(glob.glob(os.path.join(base, "*.zip"))):
        d = os.path.join(out, os.path.basename(zp)[:-4])
        with zipfile.ZipFile(zp) as zf:
            zf.extractall(d)

    # ref_byte: no chunks -> fill 0
    node = os.path.join(out, "ref_byte.zarr", "ref_byte.zarr", "byte")
    s.group(os.path.dirname(node), "netcdf-c/ref_byte.zarr (group)")
    s.array(node, "netcdf-c/ref_byte.zarr/byte (no chunks)", "|u1", [20, 20], [0] * 400)

    # fill_value null, one raw chunk, stray .zattrs.~1~
    node = os.path.join(out, "ref_byte_fill_value_null.zarr", "ref_byte_fill_value_null.zarr",
                        "byt")
    s.array(node, "netcdf-c/ref_byte_fill_value_null.zarr/byt", "<u1", [20, 20], [255] * 400)
    info, r = z.info_json(node)
    if info is None:
        s.t.fail("netcdf-c/ref_byte_fill_value_null.zarr/byt info", r.describe())
    else:
        fv, found = H.find_key(info, "fill_value")
        s.t.check(found and fv is None, "netcdf-c/ref_byte_fill_value_null.zarr/byt fill_value",
                  "info --json fill_value should stay null (v2 'no fill value'), got %s"
                  % H.show(fv))
        attrs = load_json_file(os.path.join(node, ".zattrs"))
        got, found = H.find_key(info, "attributes")
        s.t.check(found and deep_equal(got, attrs), "netcdf-c/ref_byte_fill_value_null attributes",
                  "expected %s (from .zattrs, not .zattrs.~1~), got %s" % (attrs, H.show(got)))

    # corrupt 0-d array: chunk holds 24 bytes instead of 4
    node = os.path.join(out, "ref_noshape.file", "ref_noshape.file", "v")
    s.accept(node, "netcdf-c/ref_noshape.file/v metadata (0-d <i4)")
    s.refuse(node, "netcdf-c/ref_noshape.file/v corrupt 0-d chunk (24 bytes for 4)", verb="get")

    # four NaN-filled f4 arrays, no chunk files, xarray attributes
    pw = os.path.join(out, "ref_power_901_constants_orig", "ref_power_901_constants")
    s.group(pw, "netcdf-c/ref_power_901_constants (group)")
    for name in ["FRLAKE", "FRLAND", "FRLANDICE", "FROCEAN"]:
        node = os.path.join(pw, name)
        s.array(node, "netcdf-c/ref_power_901_constants/" + name, "<f4", [361, 576],
                ["NaN"] * (361 * 576))
        s.attributes(node, "netcdf-c/ref_power_901_constants/" + name,
                     load_json_file(os.path.join(node, ".zattrs")))

    # attributes with embedded quotes and a NaN attribute
    node = os.path.join(out, "ref_quotes_orig", "ref_quotes", "fractional_snow_cover")
    s.array(node, "netcdf-c/ref_quotes/fractional_snow_cover", "<f4", [10, 20, 30],
            ["NaN"] * 6000)
    attrs = load_json_file(os.path.join(node, ".zattrs"))
    info = s.attributes(node, "netcdf-c/ref_quotes/fractional_snow_cover", attrs)
    if info is not None:
        got, _ = H.find_key(info, "attributes")
        want = "'references': 'Luojus, Kari, et al. \"ESA DUE Globsnow"
        s.t.check(isinstance(got, dict) and want in str(got.get("orig_attrs", "")),
                  "netcdf-c/ref_quotes orig_attrs quotes", "orig_attrs lost its quotes: %s"
                  % H.show(got.get("orig_attrs") if isinstance(got, dict) else got, 200))

    # consolidated store, blosc lz4
    rd = os.path.join(base, "ref_data.zarr")
    s.group(rd, "netcdf-c/ref_data.zarr (group with .zmetadata)")
    s.array(os.path.join(rd, "data"), "netcdf-c/ref_data.zarr/data", "<i8", [10], list(range(10)))
    # negative: unknown compressor id (netcdf-c run_filter_errors.sh does the same)
    bad = os.path.join(out, "ref_data_unknown_codec.zarr")
    H.copy_writable(rd, bad)
    for meta_file in [os.path.join(bad, "data", ".zarray"), os.path.join(bad, ".zmetadata")]:
        with open(meta_file) as f:
            txt = f.read()
        with open(meta_file, "w") as f:
            f.write(txt.replace('"blosc"', '"unknown_codec_xyz"'))
    s.accept(os.path.join(bad, "data"), "netcdf-c/ref_data.zarr with unknown compressor: open")
    s.refuse(os.path.join(bad, "data"), "netcdf-c/ref_data.zarr with unknown compressor: read",
             verb="get", must_mention="unknown_codec_xyz")
    return s.finish()


def suite_zarr_java(z, fx, work):
    s = Suite("zarr-java fixtures", z, fx, work)
    base = os.path.join(fx, "zarr-java", "testdata")
    exp = load_json_file(os.path.join(fx, "zarr-java", "EXPECTED.json"))["stores"]
    for key, e in exp.items():
        node = os.path.join(fx, "zarr-java", key)
        label = "zarr-java/" + key
        if e.get("node_type") == "group":
            s.group(node, label, e.get("attributes"))
            continue
        if e.get("expect", "").startswith("reject"):
            s.refuse(node, label + " (unknown storage transformer)")
            continue
        dtype = e.get("data_type", e.get("dtype"))
        vals = entry_values(e, os.path.join(fx, "zarr-java"), e["shape"])
        if vals is None and not scope_reason(node):
            s.t.fail(label, "no usable expected values (test bug)")
            continue
        s.array(node, label, dtype, e["shape"], vals)
    assert os.path.isdir(base)
    return s.finish()


def suite_zarr_implementations(z, fx, work):
    s = Suite("zarr_implementations fixtures", z, fx, work)
    root = os.path.join(fx, "zarr_implementations")
    exp = load_json_file(os.path.join(root, "EXPECTED.json"))
    with open(os.path.join(root, exp["expected_values_file"]), "rb") as f:
        raw = f.read()
    vals = list(raw)
    s.group(os.path.join(root, "examples", "zarr.zr"), "zarr_implementations/zarr.zr (group)")
    for key, e in exp["stores"].items():
        node = os.path.join(root, key)
        label = "zarr_implementations/" + key
        if key.endswith(".zr3"):
            # pre-1.0 draft v3 layout: must be refused cleanly
            s.refuse(node, label + " (draft v3 layout)")
            continue
        s.array(node, label + " [compressor %s]" % json.dumps(e.get("compressor")), "|u1",
                [512, 512, 3], vals)
    return s.finish()


# ------------------------------------------------------------------------------------------
# Metadata cases (derived/ and zarr-python-metadata/)
# ------------------------------------------------------------------------------------------

def v3_array_doc(data_type="int32", fill=0, shape=(10,), chunks=(5,), codecs=None, **extra):
    doc = {"zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": data_type,
           "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
           "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
           "fill_value": fill,
           "codecs": codecs if codecs is not None else [{"name": "bytes",
                                                         "configuration": {"endian": "little"}}],
           "attributes": {}}
    doc.update(extra)
    return doc


def v2_array_doc(dtype="<i4", fill=0, shape=(10,), chunks=(5,), **extra):
    doc = {"zarr_format": 2, "shape": list(shape), "chunks": list(chunks), "dtype": dtype,
           "compressor": None, "fill_value": fill, "order": "C", "filters": None}
    doc.update(extra)
    return doc


class MetaWriter:
    def __init__(self, work):
        self.work = work
        self.n = 0

    def write(self, files, raw=None):
        """A fresh node directory holding `files` {name: JSON value or raw text}."""
        self.n += 1
        d = H.fresh_dir(os.path.join(self.work, "m%04d" % self.n))
        for name, doc in files.items():
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False))
        return d


def fill_bits(name, v):
    """Exact bits of a float fill (NaN payloads kept)."""
    if name == "bfloat16":
        if isinstance(v, str) and v.lower().startswith("0x"):
            return int(v, 16)
        if v == "NaN":
            return 0x7FC0
        b32 = fill_bits("float32", v)
        return (b32 + 0x7FFF + ((b32 >> 16) & 1)) >> 16
    if isinstance(v, str):
        if v == "NaN":
            return {"float16": 0x7E00, "float32": 0x7FC00000,
                    "float64": 0x7FF8000000000000}[name]
        if v.lower().startswith("0x"):
            return int(v, 16)
        x = {"Infinity": math.inf, "-Infinity": -math.inf}.get(v)
        if x is None:
            x = float(v)
    else:
        x = float(v)
    return int(np.array([x], dtype=H.FLOAT_NP[name]).view(H.FLOAT_UINT[name])[0])


def check_fill(s, node, label, name, case):
    """info --json fill_value against the case's value / bits / value_bytes (or null)."""
    is_null = "json" in case and case["json"] is None
    keys = ("bits", "value", "value_bytes", "value_bytes_hex")
    if not is_null and not any(k in case for k in keys):
        return
    if isinstance(case.get("value"), dict):
        return  # structured values are out of scope
    info, r = s.z.info_json(node)
    if info is None:
        s.t.fail(label, "info --json failed: " + r.describe())
        return
    fv, found = H.find_key(info, "fill_value")
    if not found:
        s.t.fail(label, "info --json has no fill_value member: %s" % H.show(info, 300))
        return
    try:
        if "bits" in case:
            want = case["bits"]
            if H.kind_of(name) == "complex":
                part = H.COMPLEX_PART[name]
                ok = isinstance(fv, list) and len(fv) == 2 and all(
                    fill_bits(part, g) == int(w, 16) for g, w in zip(fv, want))
            else:
                ok = fill_bits(name, fv) == int(want, 16)
        elif "value" in case:
            want = case["value"]
            ok = H.norm(name, fv) == H.norm(name, want)
        elif is_null:
            want = None
            ok = fv is None
        else:
            want = (case["value_bytes"].encode() if "value_bytes" in case
                    else bytes.fromhex(case["value_bytes_hex"]))
            got = base64.b64decode(fv) if isinstance(fv, str) else bytes(fv)
            if name == "null_terminated_bytes":
                ok = got.rstrip(b"\0") == want.rstrip(b"\0")
            else:
                ok = got == want
    except (ValueError, TypeError, KeyError) as ex:
        s.t.fail(label, "fill_value %s unreadable (%s)" % (H.show(fv), ex))
        return
    s.t.check(ok, label + " fill_value", "expected %s, info --json says %s"
              % (H.show(want if not isinstance(want, bytes) else repr(want)), H.show(fv)))


def suite_derived_metadata(z, fx, work):
    s = Suite("derived fill_value and metadata cases", z, fx, work)
    cases = load_json_file(os.path.join(fx, "derived", "fill_value_and_metadata_cases.json"))
    mw = MetaWriter(H.fresh_dir(os.path.join(work, "derived")))
    v3, v2 = cases["v3"], cases["v2"]

    def codecs_for(dt):
        return [{"name": "bytes", "configuration": {"endian": "little"}}]

    for dt in v3["data_types_valid"]["values"]:
        fill = False if dt == "bool" else [0, 0] if dt.startswith("complex") else 0
        d = mw.write({"zarr.json": v3_array_doc(dt, fill)})
        s.accept(d, "v3 data_type %s (%s)" % (dt, v3["data_types_valid"]["source"]))
    for c in v3["data_types_invalid"]:
        d = mw.write({"zarr.json": v3_array_doc(c["data_type"], 0)})
        # an unknown data type name opens (zarrc info shows it) and fails to read naming it;
        # malformed spellings of known types are refused at open
        unknown = isinstance(c["data_type"], str) and not c["data_type"][:1] in "<>|="
        s.refuse(d, "v3 data_type %s must be refused (%s)" % (json.dumps(c["data_type"]), c["source"]),
                 verb="get" if unknown else "info",
                 must_mention="unknown data type '%s'" % c["data_type"] if unknown else None)
    for c in v3["fill_value_valid"]:
        d = mw.write({"zarr.json": v3_array_doc(c["data_type"], c["json"])})
        label = "v3 %s fill_value %s (%s)" % (c["data_type"], json.dumps(c["json"]), c["source"])
        if s.accept(d, label):
            check_fill(s, d, label, c["data_type"], c)
    for c in v3["fill_value_invalid"]:
        d = mw.write({"zarr.json": v3_array_doc(c["data_type"], c["json"])})
        s.refuse(d, "v3 %s fill_value %s must be refused (%s)" % (
            c["data_type"], json.dumps(c["json"]), c["source"]))

    # array metadata cases, restated as documents
    amc = {c["case"]: c for c in v3["array_metadata_cases"]}
    built = {
        "dimension_names length != rank": ("refuse", v3_array_doc(dimension_names=["a", "b"])),
        "unknown top-level field \"foo\": 42 (not an object with must_understand false)":
            ("refuse", v3_array_doc(foo=42)),
        "extra top-level field {\"my_ext\": {\"must_understand\": false, ...}}":
            ("accept-preserve", v3_array_doc(my_ext={"must_understand": False, "x": [1, 2]})),
        "extra top-level field {\"my_ext\": {\"must_understand\": true}}":
            ("refuse", v3_array_doc(my_ext={"must_understand": True})),
        "extra top-level field whose value is not an object (42)":
            ("refuse", v3_array_doc(my_ext=42)),
        "storage_transformers: [] present": ("accept", v3_array_doc(storage_transformers=[])),
        "storage_transformers non-empty (tensorstore test uses [1])":
            ("refuse", v3_array_doc(storage_transformers=[1])),
        "group with \"consolidated_metadata\": null":
            ("accept", {"zarr_format": 3, "node_type": "group", "attributes": {},
                        "consolidated_metadata": None}),
    }
    for case, c in amc.items():
        if case not in built:
            s.t.fail("v3 array_metadata_cases", "case %r not restated by the test (test bug)"
                     % case)
            continue
        how, doc = built[case]
        d = mw.write({"zarr.json": doc})
        label = "v3 metadata: %s (%s)" % (case, c["source"])
        if how == "refuse":
            s.refuse(d, label)
        elif how == "accept":
            s.accept(d, label)
        else:
            r = z.run("info", d, "--json")
            s.t.check(r.rc == 0 and b"my_ext" in r.out, label,
                      "must be accepted and the member kept in the stored document: "
                      + r.describe())
    # a real-world variant of the non-empty storage transformer (zarr-java)
    d = mw.write({"zarr.json": v3_array_doc(storage_transformers=[
        {"name": "chunk-manifest-json", "configuration": {"manifest": "./m.json"}}])})
    s.refuse(d, "v3 metadata: unknown storage transformer object")

    # chunk key encodings: write through the CLI, then look at the keys on disk
    ck = v3["chunk_key_encoding_cases"]
    for c in ck["cases"]:
        doc = v3_array_doc("int32", 0, shape=c["shape"], chunks=c["chunk_shape"],
                           chunk_key_encoding=c["encoding"])
        d = mw.write({"zarr.json": doc})
        n = int(np.prod(c["shape"])) if c["shape"] else 1
        data = os.path.join(d, "..", "put-%s.json" % os.path.basename(d))
        with open(data, "w") as f:
            json.dump(list(range(1, n + 1)), f)
        label = "v3 chunk keys %s shape %s chunks %s (%s)" % (
            json.dumps(c["encoding"]), c["shape"], c["chunk_shape"], ck["source"])
        r = z.run("put", d, "--json", data)
        if r.rc != 0:
            s.t.fail(label, r.describe())
            continue
        keys = sorted(os.path.relpath(os.path.join(dp, fn), d)
                      for dp, _, fns in os.walk(d) for fn in fns if fn != "zarr.json")
        s.t.check(keys == sorted(c["keys"]), label, "expected keys %s, found %s"
                  % (sorted(c["keys"]), keys))
        s.array(d, label + " read back", "int32", c["shape"], list(range(1, n + 1)),
                check_scope=False)

    # v2
    for c in v2["fill_value_valid"]:
        if isinstance(c["dtype"], list):
            s.skip(SCOPE_STRUCT, None, "v2 structured dtype fill %s" % c["json"])
            continue
        extra = {}
        if "filters" in c:
            extra["filters"] = c["filters"]
        if "order" in c:
            extra["order"] = c["order"]
        d = mw.write({".zarray": v2_array_doc(c["dtype"], c["json"], **extra)})
        label = "v2 %s fill_value %s%s (%s)" % (c["dtype"], json.dumps(c["json"]),
                                                " [lenient]" if "lenient_in" in c else "",
                                                c["source"])
        if s.accept(d, label):
            check_fill(s, d, label, H.v3_name(c["dtype"]), c)
    for c in v2["fill_value_invalid"]:
        d = mw.write({".zarray": v2_array_doc(c["dtype"], c["json"])})
        label = "v2 %s fill_value %s" % (c["dtype"], json.dumps(c["json"]))
        if short_bytes_fill(c):
            # Policy (docs/compatibility.md): zarr-python 2, the v2 reference, writes S fill
            # values shorter than the item and reads them zero-padded, as the v2 spec says;
            # tensorstore refuses them. zarrc follows the reference: accepted, zero-padded.
            if s.accept(d, label + " accepted zero-padded (zarr-python policy; refused by %s)"
                        % c["source"]):
                check_fill(s, d, label, H.v3_name(c["dtype"]),
                           {"value_bytes": base64.b64decode(c["json"]).decode("latin-1")})
            continue
        s.refuse(d, "%s must be refused (%s)" % (label, c["source"]))
    for c in v2["dtype_cases"]:
        d = mw.write({".zarray": v2_array_doc(c["dtype"], 0)})
        label = "v2 dtype %s: %s (%s)" % (c["dtype"], c["expect"], c["source"])
        if c["expect"].startswith("reject"):
            s.refuse(d, label)
        else:
            s.accept(d, label)
    return s.finish()


def _fragment_doc(kind, name, value):
    """A minimal valid array document around one fragment (codec, grid, key encoding, fill)."""
    b = {"name": "bytes", "configuration": {"endian": "little"}}
    if kind == "chunk_grid":
        ndim = len(value["configuration"].get("chunk_shape") or
                   value["configuration"].get("chunk_shapes"))
        shape = [100] * ndim
        if value["name"] == "rectilinear":
            shape = [100, 30]
        doc = v3_array_doc("float32", 0.0, shape=shape, chunks=[1] * ndim)
        doc["chunk_grid"] = value
        return doc
    if kind == "chunk_key_encoding":
        doc = v3_array_doc()
        doc["chunk_key_encoding"] = value
        return doc
    # codecs
    cname = value if isinstance(value, str) else value["name"]
    if cname == "transpose":
        return v3_array_doc("int32", 0, shape=[4, 5, 6], chunks=[2, 2, 2], codecs=[value, b])
    if cname == "sharding_indexed":
        inner = value["configuration"]["chunk_shape"]
        return v3_array_doc("int32", 0, shape=[4 * i for i in inner],
                            chunks=[2 * i for i in inner], codecs=[value])
    if cname in ("cast_value", "scale_offset"):
        return v3_array_doc("float32", 0.0, codecs=[value, b])
    if cname == "bytes":
        # "endian" may be left out only for one-byte types
        endian = isinstance(value, dict) and "endian" in (value.get("configuration") or {})
        return v3_array_doc("int32" if endian else "uint8", 0, codecs=[value])
    return v3_array_doc("int32", 0, codecs=[b, value])


V3_DTYPE_FOLDERS = {"bool": "bool", "bytes": "bytes", "complex128": "complex128",
                    "complex64": "complex64", "float16": "float16", "float32": "float32",
                    "float64": "float64", "int16": "int16", "int32": "int32", "int64": "int64",
                    "int8": "int8", "string": "string", "uint16": "uint16", "uint32": "uint32",
                    "uint64": "uint64", "uint8": "uint8", "raw": "r32"}


def short_bytes_fill(c):
    """A v2 |S<n> fill value that is valid base64 of fewer than n bytes."""
    dt, v = c["dtype"], c["json"]
    if not (isinstance(dt, str) and dt.startswith("|S") and isinstance(v, str)):
        return False
    try:
        raw = base64.b64decode(v, validate=True)
    except ValueError:
        return False
    return 0 < len(raw) < int(dt[2:])


def suite_zarr_python_metadata(z, fx, work):
    s = Suite("zarr-python metadata documents (all valid)", z, fx, work)
    base = os.path.join(fx, "zarr-python-metadata", "packages", "zarr-metadata", "tests")
    mw = MetaWriter(H.fresh_dir(os.path.join(work, "zpm")))
    # features zarrc does not implement yet: opening may succeed or be refused cleanly
    optional = {"rectilinear": "rectilinear chunk grid (not implemented)"}

    def maybe(d, label, reason):
        r = z.run("info", d)
        if r.crashed or r.rc not in (0, 1) or (r.rc == 1 and not r.err.strip()):
            s.t.fail(label, "must open or be refused cleanly: " + r.describe())
        elif r.rc == 0:
            s.t.ok()
        else:
            s.skip(reason, None, label + " (refused cleanly)")

    for path in sorted(glob.glob(os.path.join(base, "v2", "array", "*.json"))):
        doc = load_json_file(path)
        label = "zarr-metadata/" + os.path.relpath(path, base)
        if isinstance(doc.get("dtype"), list):
            s.skip(SCOPE_STRUCT, mw.write({".zarray": doc}), label)
            continue
        s.accept(mw.write({".zarray": doc}), label)
    for path in sorted(glob.glob(os.path.join(base, "v2", "group", "*.json"))):
        s.accept(mw.write({".zgroup": load_json_file(path)}), "zarr-metadata/" +
                 os.path.relpath(path, base))
    for path in sorted(glob.glob(os.path.join(base, "v2", "consolidated", "*.json"))):
        d = mw.write({".zgroup": {"zarr_format": 2}, ".zmetadata": load_json_file(path)})
        s.group(d, "zarr-metadata/" + os.path.relpath(path, base) + " (as .zmetadata)")
    for path in sorted(glob.glob(os.path.join(base, "v3", "array", "*.json"))):
        doc = load_json_file(path)
        label = "zarr-metadata/" + os.path.relpath(path, base)
        d = mw.write({"zarr.json": doc})
        grid = doc.get("chunk_grid", {})
        if isinstance(grid, dict) and grid.get("name") in optional:
            maybe(d, label, optional[grid["name"]])
        else:
            s.accept(d, label)
    for path in sorted(glob.glob(os.path.join(base, "v3", "group", "*.json"))):
        doc = load_json_file(path)
        s.group(mw.write({"zarr.json": doc}), "zarr-metadata/" + os.path.relpath(path, base),
                doc.get("attributes", {}))
    for path in sorted(glob.glob(os.path.join(base, "v3", "consolidated", "*.json"))):
        doc = {"zarr_format": 3, "node_type": "group", "attributes": {},
               "consolidated_metadata": load_json_file(path)}
        s.group(mw.write({"zarr.json": doc}), "zarr-metadata/" + os.path.relpath(path, base)
                + " (as consolidated_metadata)")
    for kind in ("chunk_grid", "chunk_key_encoding", "codec"):
        for path in sorted(glob.glob(os.path.join(base, "v3", kind, "*", "cases.json"))):
            for name, value in load_json_file(path).items():
                label = "zarr-metadata/%s#%s" % (os.path.relpath(path, base), name)
                d = mw.write({"zarr.json": _fragment_doc(kind, name, value)})
                vname = value if isinstance(value, str) else value.get("name")
                if kind == "chunk_grid" and vname in optional:
                    maybe(d, label, optional[vname])
                else:
                    s.accept(d, label)
    for path in sorted(glob.glob(os.path.join(base, "v3", "data_type", "*", "fill_values.json"))):
        folder = os.path.basename(os.path.dirname(path))
        dt_file = os.path.join(os.path.dirname(path), "data_type.json")
        if folder == "struct":
            for name in load_json_file(path):
                s.skip(SCOPE_STRUCT, None, "zarr-metadata/v3/data_type/struct#" + name)
            continue
        if os.path.exists(dt_file):
            dt = load_json_file(dt_file)
        else:
            dt = V3_DTYPE_FOLDERS[folder]
        for name, fill in load_json_file(path).items():
            label = "zarr-metadata/%s#%s" % (os.path.relpath(path, base), name)
            if dt in ("string",):
                codecs = [{"name": "vlen-utf8"}]
            elif dt == "bytes":
                codecs = [{"name": "vlen-bytes"}]
            else:
                codecs = None
            d = mw.write({"zarr.json": v3_array_doc(dt, fill, codecs=codecs)})
            if s.accept(d, label) and isinstance(dt, str) and dt.startswith("float") \
                    and isinstance(fill, str):
                check_fill(s, d, label, dt, {"bits": "0x%x" % fill_bits(dt, fill)})
    return s.finish()


SUITES = {
    "zarrita_js": suite_zarrita_js,
    "zarrs": suite_zarrs,
    "zarr_python_v2": suite_zarr_python_v2,
    "netcdf_c": suite_netcdf_c,
    "zarr_java": suite_zarr_java,
    "zarr_implementations": suite_zarr_implementations,
    "derived_metadata": suite_derived_metadata,
    "zarr_python_metadata": suite_zarr_python_metadata,
}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in SUITES:
        print(__doc__)
        return 2
    suite, exe, shared, work = sys.argv[1:]
    H.shared_or_skip(shared, "conformance suite " + suite)
    H.check_zarrc(exe)
    work = H.fresh_dir(os.path.join(work, suite))
    return SUITES[suite](H.Zarrc(exe), os.path.join(shared, "fixtures"), work)


if __name__ == "__main__":
    sys.exit(main())
