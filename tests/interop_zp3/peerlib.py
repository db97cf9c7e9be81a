"""Shared code of the Python-peer interop suites (zarr-python 3.4, zarrs-python, tensorstore).

Runs under the pinned venv (tests/peers/requirements.txt, made by `scripts/install-deps.sh
test`). A suite is a list of Case objects; each case is written by one side and read by the
other, and both sides are compared with the intended NumPy array element by element (JSON form,
NaN == NaN) and, for fixed-size types, bit for bit (`zarrc get --raw` / the peer's bytes), so
NaN payloads, -0.0 and the extremes of 64-bit integers are checked exactly.

The rule for every case, whichever side writes:
  the writer's own read-back must equal the intended array (lossy codecs excepted), and
  the reader must see exactly what the writer reads back.

The zarrc side runs the CLI (`create`, `put --raw|--json`, `get --json|--raw`, `info --json`).
"""
import base64
import concurrent.futures
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REQUIREMENTS = os.path.join(TESTS, "peers", "requirements.txt")
sys.path.insert(0, os.path.join(TESTS, "peers"))
sys.path.insert(0, os.path.join(TESTS, "conformance"))
sys.path.insert(0, os.path.join(TESTS, "interop_v2"))

import check_venv  # noqa: E402

HINT = ("run `make check` (or `scripts/install-deps.sh test`), which creates the pinned venv, "
        "then re-run cmake so the tests use its python")


def start(title):
    """Fail visibly unless this is the pinned venv; print one line per peer; return a Tally."""
    probs = check_venv.problems(REQUIREMENTS)
    if probs:
        print("FAIL: %s is not the pinned peer venv: %s; %s" % (sys.executable,
                                                               "; ".join(probs), HINT))
        sys.exit(1)
    for line in check_venv.version_lines():
        print(line)
    warnings.simplefilter("ignore")  # zarr-python's "unstable specification" warnings
    import zarrc_harness as H
    return H.Tally(title)


import numpy as np  # noqa: E402  (after the venv check: a missing numpy is reported above)
import zarrc_harness as H  # noqa: E402
import v2common as C  # noqa: E402

FULL = os.environ.get("ZARRC_PEERS_FULL") == "1"
SAMPLE_EVERY = 4


def sample(cases, what):
    """The whole matrix with ZARRC_PEERS_FULL=1 (`make check-full`), else the core cases plus
    every SAMPLE_EVERY-th other one (a fixed choice, printed, so a failure reproduces)."""
    names = [c.name for c in cases]
    dups = {n for n in names if names.count(n) > 1}
    assert not dups, "duplicate case names: %s" % sorted(dups)
    if FULL:
        print("%s: full matrix, %d cases" % (what, len(cases)))
        return cases
    rest = [c for c in cases if not c.core]
    picked = [c for c in cases if c.core or rest.index(c) % SAMPLE_EVERY == 0]
    print("%s: sampled matrix, %d of %d cases (every core case and every %dth other one; "
          "`make check-full` runs all)" % (what, len(picked), len(cases), SAMPLE_EVERY))
    return picked


# ------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------

def _float_part(dt):
    """The native float type of a float or complex type's parts."""
    return np.dtype("f%d" % (dt.itemsize // 2 if dt.kind == "c" else dt.itemsize))


def _float_from_json(j, part):
    if isinstance(j, str) and j.startswith("0x"):
        return np.array([int(j, 16)], dtype="u%d" % part.itemsize).view(part)[0]
    return part.type({"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(j, j))


ARRAY_TO_BYTES = {"bytes", "sharding_indexed", "vlen-utf8", "vlen-bytes"}
VLEN_NAMES = {"string": "str", "variable_length_bytes": "bytes", "bytes": "bytes"}
NAN_PAYLOADS = {2: [0x7E01, 0xFE00], 4: [0x7FC00001, 0xFFC00000, 0x7F800001],
                8: [0x7FF8000000000001, 0xFFF8000000000000]}


class Case:
    """One array of a matrix.

    dtype: v3 data type JSON (format 3) or a NumPy typestr / "str" / "bytes" (format 2).
    codecs: the whole v3 codec list (format 3); compressor/filters/order for format 2.
    fill: the fill value in the format's JSON spelling. region: selection string of the
    written part (None = everything). lossy: the codecs change values (compare with the
    writer's read-back only). only: "peer" or "zarrc" when one side cannot write the case.
    refused: {side: reason} for a documented refusal (side "zarrc", "zarr-python", "zarrs",
    "tensorstore"): that side must refuse the case (write and read), with zarrc naming the
    reason in its message; when it stops refusing the test fails, so docs get updated.
    """

    def __init__(self, name, dtype, shape, chunks, codecs=None, fill=0, region=None, fmt=3,
                 compressor=None, filters=None, order="C", key_encoding=None, separator=None,
                 dimension_names=None, attributes=None, write_empty=None, lossy=False,
                 core=False, only=None, phase=0, data=None, refused=None):
        self.name, self.dtype, self.shape, self.chunks = name, dtype, list(shape), list(chunks)
        self.codecs, self.fill, self.region, self.fmt = codecs, fill, region, fmt
        self.compressor, self.filters, self.order = compressor, filters, order
        self.key_encoding, self.separator = key_encoding, separator
        self.dimension_names, self.attributes = dimension_names, attributes
        self.write_empty, self.lossy, self.core, self.only = write_empty, lossy, core, only
        self.phase, self._data = phase, data
        self.refused = refused or {}

    # --- types ----------------------------------------------------------------------------
    @property
    def dtype_name(self):
        return self.dtype["name"] if isinstance(self.dtype, dict) else self.dtype

    @property
    def kind(self):
        """"str" / "bytes" for variable-length types, else None."""
        if self.fmt == 3:
            return VLEN_NAMES.get(self.dtype_name)
        return self.dtype if self.dtype in ("str", "bytes") else None

    def zdtype(self):
        from zarr.dtype import parse_dtype
        if self.kind:  # the same data type object serves both formats
            return parse_dtype("string" if self.kind == "str" else "variable_length_bytes",
                               zarr_format=3)
        return parse_dtype(self.dtype, zarr_format=self.fmt)

    def np_dtype(self):
        if self.kind:
            return np.dtype(object)
        return self.zdtype().to_native_dtype()

    def fill_scalar(self):
        return self.scalar_from_json(self.fill)

    def scalar_from_json(self, j):
        """A fill value's JSON as a NumPy/Python scalar: floats decoded here (hex patterns bit
        for bit: zarr-python's parser loses float16 payloads), the rest by zarr-python."""
        if self.kind:
            return j if self.kind == "str" else base64.b64decode(j)
        dt = self.np_dtype()
        if j is None:  # v2 "no fill value": missing chunks read as zeros
            return np.zeros((), dtype=dt)[()]
        if dt.kind not in "fc":
            return self.zdtype().from_json_scalar(j, zarr_format=self.fmt)
        part = _float_part(dt)
        parts = j if dt.kind == "c" else [j]
        native = np.array([_float_from_json(p, part) for p in parts], dtype=part)
        return native.view(dt.newbyteorder("=")).astype(dt)[0]

    @property
    def nan_payload_fill(self):
        """The fill value holds a NaN other than the canonical one (a payload or the sign)."""
        if self.kind or self.fill is None or self.np_dtype().kind not in "fc":
            return False
        dt = self.np_dtype()
        canon = np.array(np.nan, dtype=_float_part(dt)).tobytes()
        return any(np.isnan(v) and v.tobytes() != canon
                   for v in np.array([self.fill_scalar()], dtype=dt).view(_float_part(dt)))

    # --- values ---------------------------------------------------------------------------
    def region_index(self):
        return C.parse_selection(self.region) if self.region else ()

    def data(self):
        """The values written into the region (deterministic)."""
        if self._data is not None:
            return self._data
        shape = np.empty(self.shape, dtype=np.int8)[self.region_index()].shape
        dt = self.np_dtype()
        a = C.make_data(dt, shape, self.phase, self.kind)
        if dt.kind in "fc" and a.size > 3:
            isz = dt.itemsize // (2 if dt.kind == "c" else 1)
            bits = a.reshape(-1).view("u%d" % isz)
            for i, p in enumerate(NAN_PAYLOADS[isz]):
                bits[(2 + 3 * i) % bits.size] = p
        return a

    def expected(self):
        a = np.empty(self.shape, dtype=self.np_dtype())
        a[...] = self.fill_scalar()
        d = self.data()
        a[self.region_index()] = d if d.ndim or not self.kind else d[()]
        return a

    # --- the codec list split the way zarr-python's create_array takes it ------------------
    def split_codecs(self):
        """(filters, serializer, compressors) of the v3 codec list."""
        at = next(i for i, c in enumerate(self.codecs) if c["name"] in ARRAY_TO_BYTES)
        return self.codecs[:at], self.codecs[at], self.codecs[at + 1:]

    def describe(self):
        if self.fmt == 3:
            how = "codecs %s" % json.dumps(self.codecs)
        else:
            how = "compressor %s filters %s order %s" % (json.dumps(self.compressor),
                                                        json.dumps(self.filters), self.order)
        return "%s [v%d %s shape %s chunks %s %s fill %s%s]" % (
            self.name, self.fmt, json.dumps(self.dtype), self.shape, self.chunks, how,
            json.dumps(self.fill), (" region " + self.region) if self.region else "")


# ------------------------------------------------------------------------------------------
# NumPy values in the CLI's JSON form, and comparisons
# ------------------------------------------------------------------------------------------

def to_doc(a, kind=None):
    a = np.asarray(a)
    if a.dtype.kind == "T":
        a = a.astype(object)
    return {"shape": list(a.shape), "data": C.encode_values(a, kind)}


def le_bytes(a):
    a = np.ascontiguousarray(a)
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def compare_arrays(label, case, want, got, bits=True):
    """Failure lines: element by element (NaN == NaN), then bit for bit for fixed-size types
    unless the case is lossy or bits is False."""
    got = np.asarray(got)
    if got.dtype.kind == "T":
        got = got.astype(object)
    fails = C.compare_docs(label, to_doc(want, case.kind), to_doc(got, case.kind),
                           want.dtype if not case.kind else object, case.kind,
                           check_dtype=False)
    if not fails and bits and not case.kind and not case.lossy and \
            le_bytes(want) != le_bytes(got):
        fails.append("%s: values are equal but the bytes differ (NaN payloads?): expected %s, "
                     "got %s" % (label, le_bytes(want)[:64].hex(), le_bytes(got)[:64].hex()))
    return fails


def record(tally, where, fails):
    if fails:
        tally.fail(where, "\n    ".join(fails))
    else:
        tally.ok()


# ------------------------------------------------------------------------------------------
# The zarrc side
# ------------------------------------------------------------------------------------------

def zarrc_create(z, case, node):
    """`zarrc create` for the case (and the chunk key encoding, which the CLI does not take).
    Returns None or a failure message."""
    dt = case.dtype
    if case.fmt == 2 and case.kind:
        dt = "string" if case.kind == "str" else "bytes"
    args = ["create", node, "--format", str(case.fmt),
            "--dtype", json.dumps(dt) if isinstance(dt, dict) else dt,
            "--shape", ",".join(map(str, case.shape)), "--chunks", ",".join(map(str, case.chunks)),
            "--fill-value", json.dumps(case.fill)]
    if case.fmt == 3:
        args += ["--codecs", json.dumps(case.codecs)]
    else:
        args += ["--compressor", json.dumps(case.compressor), "--filters",
                 json.dumps(case.filters), "--order", case.order]
    if case.separator:
        args += ["--separator", case.separator]
    if case.attributes is not None:
        args += ["--attrs", json.dumps(case.attributes)]
    if case.dimension_names is not None:
        args += ["--dimension-names", json.dumps(case.dimension_names)]
    r = z.run(*args)
    if r.rc != 0:
        return "create failed: " + r.describe()
    if case.key_encoding:
        path = os.path.join(node, "zarr.json")
        with open(path) as f:
            meta = json.load(f)
        meta["chunk_key_encoding"] = case.key_encoding
        with open(path, "w") as f:
            json.dump(meta, f)
    return None


def zarrc_put(z, case, node, work):
    """Write the case's data with `zarrc put` (raw bytes for fixed-size types)."""
    data = case.data()
    tmp = os.path.join(work, "put-%s.bin" % case.name.replace("/", "_"))
    if case.kind:
        with open(tmp, "w") as f:
            json.dump(to_doc(data, case.kind)["data"], f)
        args = ["put", node, "--json", tmp]
    else:
        with open(tmp, "wb") as f:
            f.write(le_bytes(data))
        args = ["put", node, "--raw", tmp]
    if case.region:
        args += ["--select", case.region]
    if case.write_empty:
        args += ["--write-empty-chunks"]
    r = z.run(*args)
    os.unlink(tmp)
    return None if r.rc == 0 else "put failed: " + r.describe()


def zarrc_read(z, case, node):
    """(array, None) read through `zarrc get` (--raw for fixed-size types, else --json), or
    (None, message). The --json form is compared too for fixed-size types."""
    want = case.np_dtype()
    doc, err = z.get_json(node)
    if err:
        return None, err
    if doc.get("shape") != case.shape:
        return None, "get --json: shape %s, expected %s" % (doc.get("shape"), case.shape)
    if case.kind:
        vals = doc["data"]
        if case.kind == "bytes":
            vals = [base64.b64decode(v) for v in vals]
        a = np.empty(len(vals), dtype=object)
        a[:] = vals
        return a.reshape(case.shape), None
    r = z.run("get", node, "--raw")
    if r.rc != 0:
        return None, r.describe()
    le = want.newbyteorder("<")
    n = int(np.prod(case.shape, dtype=np.int64))
    if len(r.out) != n * want.itemsize:
        return None, "get --raw: %d bytes, expected %d" % (len(r.out), n * want.itemsize)
    a = np.frombuffer(r.out, dtype=le).astype(want).reshape(case.shape)
    # the JSON form must say the same
    fails = C.compare_docs("get --json", to_doc(a), doc, want, None, check_dtype=False)
    if fails:
        return None, "; ".join(fails)
    return a, None


def zarrc_write_all(z, cases, root, work, tally, label):
    """Create and fill every case with zarrc (two at a time); return the cases that worked,
    each with ._written (zarrc's own read-back)."""
    def one(c):
        node = os.path.join(root, c.name)
        if "zarrc" in c.refused:
            err = zarrc_create(z, c, node)
            if err and c.refused["zarrc"] in err:
                return c, "refused"
            return c, "zarrc must refuse it naming %r (docs/compatibility.md): %s" % (
                c.refused["zarrc"], err or "it was created")
        err = zarrc_create(z, c, node) or zarrc_put(z, c, node, work)
        if err:
            return c, err
        got, err = zarrc_read(z, c, node)
        if err:
            return c, "zarrc's read-back: " + err
        if not c.lossy:
            fails = compare_arrays("zarrc's own read-back", c, c.expected(), got)
            if fails:
                return c, "\n    ".join(fails)
        c._written = got
        return c, None

    ok = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for c, err in ex.map(one, cases):
            where = "%s %s" % (label, c.describe())
            if err == "refused":
                tally.ok()
            elif err:
                tally.fail(where, err)
            else:
                ok.append(c)
    return ok


def zarrc_check_all(z, cases, root, tally, label):
    """zarrc reads what the peer wrote: each case needs ._written (the peer's read-back)."""
    def one(c):
        got, err = zarrc_read(z, c, os.path.join(root, c.name))
        if "zarrc" in c.refused:
            if err and c.refused["zarrc"] in err and "exit 1" in err:
                return c, []
            return c, ["zarrc must refuse it with exit 1 naming %r (docs/compatibility.md): %s"
                       % (c.refused["zarrc"], err or "it read it")]
        if err:
            return c, [err]
        return c, compare_arrays("zarrc vs the peer's read-back", c, c._written, got)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for c, fails in ex.map(one, cases):
            record(tally, "%s %s" % (label, c.describe()), fails)


def peer_readback_ok(tally, label, c, got, bits=True):
    """The peer's read-back of its own write must equal the intended array (bit for bit unless
    bits is False: a documented peer quirk)."""
    c._written = got
    if c.lossy:
        return True
    fails = compare_arrays("the peer's own read-back", c, c.expected(), got, bits)
    if fails:
        tally.fail("%s %s" % (label, c.describe()), "\n    ".join(fails))
        return False
    return True
