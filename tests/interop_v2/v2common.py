"""Shared helpers for the zarr-python 2.13 interop tests (run with /usr/bin/python3).

- require_peer(): import zarr/numcodecs/numpy or fail telling the user to run `make check`.
- make_data(): deterministic test values per NumPy dtype (extremes, NaN, unicode, empty items).
- encode_doc(): a NumPy array in the `zarrc get --json` form of the CLI contract.
- compare_docs(): element-by-element comparison of two such documents (exact, floats bit-exact at
  the array's precision, NaN == NaN), returning readable failure lines.
- Zarrc: runs the CLI with a timeout and returns (rc, stdout, stderr).
"""
import base64
import json
import math
import os
import subprocess
import sys

PEER_HINT = ("run `make check` (or `scripts/install-deps.sh test`) to install the test peers: "
             "Debian's python3-zarr python3-numcodecs python3-numpy for /usr/bin/python3")


def require_peer():
    """The peers are a required part of the suite: a missing peer is a failure, not a skip."""
    try:
        import numpy  # noqa: F401
        import numcodecs  # noqa: F401
        import zarr
    except ImportError as e:
        print("FAIL: %s cannot import the v2 peer (%s); %s" % (sys.executable, e, PEER_HINT))
        sys.exit(1)
    if not zarr.__version__.startswith("2."):
        print("FAIL: zarr-python %s found, the v2 interop tests need zarr-python 2.x (Debian 12 "
              "ships 2.13); %s" % (zarr.__version__, PEER_HINT))
        sys.exit(1)
    return zarr


try:
    import numpy as np
except ImportError:  # require_peer() reports it
    np = None

MAX_REPORTED_PER_ARRAY = 6


# --------------------------------------------------------------------------------------------
# deterministic data

UNICODE_POOL = ["", "a", "ü", "日本語", "😀x", "abc", "Ωμ", "e\u0301", "z\u00a0z", "\u4e2d",
                "tab\t", "q\"'", "\\/", "\U0001F600\U0001F680"]
BYTES_POOL = [b"", b"a", b"ab\x00c", b"\xff\xfe\x80", b"hello", b"\x00\x01", b"zarr!", b" sp ",
              b"\x7f", b"xyz"]
VLEN_STR_POOL = ["", "alpha", "βeta", "日本語テキスト", "😀", "x" * 40, "new\nline", "\u0000nul",
                 "tab\tq\"", "end"]
VLEN_BYTES_POOL = [b"", b"\x00", b"\xff" * 9, b"bytes", b"a\x00b\x00", b"x" * 33, b"\x80\x81"]


def _float_values(dt, n, phase=0):
    dt = np.dtype(dt)
    fi = np.finfo(dt)
    base = (np.arange(n, dtype=np.float64) - n // 2 + phase) * 0.37 + 0.1
    a = base.astype(dt)
    specials = [np.nan, np.inf, -np.inf, -0.0, fi.max, -fi.max, fi.tiny,
                np.nextafter(dt.type(0), dt.type(1)), 1 / 3]
    specials = np.array(specials, dtype=np.float64).astype(dt)
    for i in range(min(n, len(specials))):
        a[(i * 5 + phase) % n] = specials[i]
    return a


def make_data(dtype, shape, phase=0, kind=None):
    """Deterministic values of NumPy `dtype` (kind 'str'/'bytes' for object arrays)."""
    n = int(np.prod(shape, dtype=np.int64))
    idx = np.arange(n, dtype=np.int64)
    if kind == "str":
        a = np.empty(n, dtype=object)
        for i in range(n):
            a[i] = VLEN_STR_POOL[(i + phase) % len(VLEN_STR_POOL)]
        return a.reshape(shape)
    if kind == "bytes":
        a = np.empty(n, dtype=object)
        for i in range(n):
            a[i] = VLEN_BYTES_POOL[(i + phase) % len(VLEN_BYTES_POOL)]
        return a.reshape(shape)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        a = ((idx + phase) % 3 == 0) ^ ((idx + phase) % 7 == 1)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        # a multiplicative hash, wrapped to the type's width
        v = ((idx + phase).astype(np.uint64) * np.uint64(2654435761)) % np.uint64(1 << 63)
        if dt.itemsize < 8:
            span = 1 << (8 * dt.itemsize)
            v = (v % np.uint64(span)).astype(np.int64)
            a = (v + int(info.min)).astype(dt)
        elif dt.kind == "i":
            a = (v.astype(np.int64) - np.int64(1 << 62)).astype(dt)
        else:
            a = (v * np.uint64(2) + np.uint64(1)).astype(dt)
        extremes = [info.min, info.max, 0, 1] + ([-1] if dt.kind == "i" else [])
        for i, e in enumerate(extremes[:n]):
            a[(i * 3 + phase) % n] = e
    elif dt.kind == "f":
        a = _float_values(dt, n, phase)
    elif dt.kind == "c":
        ft = np.dtype("f%d" % (dt.itemsize // 2)).newbyteorder(dt.byteorder)
        a = np.empty(n, dtype=dt)
        a.real = _float_values(ft, n, phase)
        a.imag = _float_values(ft, n, phase + 3)[::-1]
    elif dt.kind == "S":
        items = []
        for i in range(n):
            b = BYTES_POOL[(i + phase) % len(BYTES_POOL)]
            if i % 4 == 3:
                b = bytes((65 + (i * 7 + k) % 26) for k in range(dt.itemsize))  # full width
            items.append(b[: dt.itemsize])
        a = np.array(items, dtype=dt)
    elif dt.kind == "U":
        chars = dt.itemsize // 4
        a = np.array([UNICODE_POOL[(i + phase) % len(UNICODE_POOL)][:chars] for i in range(n)],
                     dtype=dt)
    elif dt.kind == "V":
        raw = bytes(((i * 37 + k * 11 + phase) % 256) for i in range(n) for k in range(dt.itemsize))
        a = np.frombuffer(raw, dtype=dt).copy()
    elif dt.kind in "Mm":
        unit = np.datetime_data(dt)[0]
        step = {"ns": 1_000_000_007, "us": 1_000_003, "ms": 86_400_013, "s": 86_401,
                "D": 17, "h": 1001}.get(unit, 7)
        v = (idx - n // 2 + phase) * step + (1_600_000_000_000_000_000 if unit == "ns" else 0)
        if n > 2:
            v[n // 3] = np.iinfo(np.int64).min  # NaT
            v[n - 1] = np.iinfo(np.int64).max if dt.kind == "m" else v[n - 1]
        a = v.astype(np.int64).view(dt.newbyteorder("=")).astype(dt)
    else:
        raise ValueError("no data generator for %r" % (dt,))
    return a.reshape(shape)


# --------------------------------------------------------------------------------------------
# the CLI's JSON form

def v3_dtype_name(dt, kind=None):
    if kind == "str":
        return "string"
    if kind == "bytes":
        return "bytes"
    dt = np.dtype(dt)
    if dt.kind == "b":
        return "bool"
    if dt.kind in "iu":
        return "%sint%d" % ("u" if dt.kind == "u" else "", dt.itemsize * 8)
    if dt.kind == "f":
        return "float%d" % (dt.itemsize * 8)
    if dt.kind == "c":
        return "complex%d" % (dt.itemsize * 8)
    if dt.kind == "S":
        return "null_terminated_bytes"
    if dt.kind == "U":
        return "fixed_length_utf32"
    if dt.kind == "V":
        return "r%d" % (dt.itemsize * 8)
    if dt.kind == "M":
        return "numpy.datetime64"
    if dt.kind == "m":
        return "numpy.timedelta64"
    raise ValueError(dt)


def _enc_float(x):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def _b64(b):
    return base64.b64encode(bytes(b)).decode("ascii")


def encode_values(a, kind=None):
    """Flat C-order list of JSON values for array `a` (NumPy item semantics)."""
    flat = np.ascontiguousarray(a).reshape(-1)
    dt = a.dtype
    if dt.kind == "O":
        out = []
        for v in flat:
            if kind == "bytes":
                out.append(_b64(v))
            elif isinstance(v, str):
                out.append(v)
            else:
                raise ValueError("object item %r is not a str" % (v,))
        return out
    if dt.kind == "b":
        return [bool(v) for v in flat]
    if dt.kind in "iu":
        return [int(v) for v in flat]
    if dt.kind == "f":
        return [_enc_float(v) for v in flat]
    if dt.kind == "c":
        return [[_enc_float(v.real), _enc_float(v.imag)] for v in flat]
    if dt.kind == "S":
        return [_b64(v) for v in flat.tolist()]        # NumPy strips trailing NULs
    if dt.kind == "U":
        return [str(v) for v in flat.tolist()]
    if dt.kind == "V":
        return [_b64(v.tobytes()) for v in flat]
    if dt.kind in "Mm":
        return [int(v) for v in flat.astype(dt.newbyteorder("=")).view(np.int64)]
    raise ValueError(dt)


def encode_doc(a, kind=None):
    return {"shape": list(a.shape), "dtype": v3_dtype_name(a.dtype, kind),
            "data": encode_values(a, kind)}


# --------------------------------------------------------------------------------------------
# comparison

def _float_bits(v, ftype):
    """(is_nan, bits) of JSON value v at precision ftype, or None when v is not a float value."""
    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        if v == "NaN":
            return (True, None)
        if v == "Infinity":
            f = np.inf
        elif v == "-Infinity":
            f = -np.inf
        else:
            return None
    elif isinstance(v, (int, float)):
        f = float(v)
    else:
        return None
    x = np.array([f], dtype=np.float64).astype(ftype)
    if np.isnan(x[0]):
        return (True, None)
    return (False, x.view("u%d" % ftype.itemsize)[0].item())


def _eq(e, g, dt, kind):
    """Is got value g equal to expected value e (both JSON) for NumPy dtype dt?"""
    if kind in ("str", "bytes") or dt.kind in "SUV":
        if kind == "str" or dt.kind == "U":
            return isinstance(g, str) and g == e
        if not isinstance(g, str):
            return False
        try:
            return base64.b64decode(g, validate=True) == base64.b64decode(e)
        except (ValueError, TypeError):
            return False
    if dt.kind == "b":
        return isinstance(g, bool) and g == e
    if dt.kind in "iuMm":
        return isinstance(g, int) and not isinstance(g, bool) and g == e
    if dt.kind == "f":
        ft = np.dtype(dt).newbyteorder("=")
        ge, gg = _float_bits(e, ft), _float_bits(g, ft)
        return gg is not None and ge == gg
    if dt.kind == "c":
        ft = np.dtype("f%d" % (dt.itemsize // 2))
        if not (isinstance(g, list) and len(g) == 2):
            return False
        return all(_float_bits(x, ft) is not None and _float_bits(x, ft) == _float_bits(y, ft)
                   for x, y in zip(e, g))
    raise ValueError(dt)


def _unravel(i, shape):
    if not shape:
        return "()"
    return str(tuple(int(x) for x in np.unravel_index(i, shape)))


def _short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 120 else s[:117] + "..."


def compare_docs(label, expected, got, np_dtype, kind=None, check_dtype=True):
    """Failure lines (empty when equal). `got` is the parsed `zarrc get --json` output."""
    dt = np.dtype(np_dtype)
    if not isinstance(got, dict) or "data" not in got or "shape" not in got:
        return ["%s: output is not {shape, dtype, data}: %s" % (label, _short(got))]
    fails = []
    if list(got["shape"]) != list(expected["shape"]):
        fails.append("%s: shape: expected %s, got %s" % (label, expected["shape"], got["shape"]))
    if check_dtype:
        gd = got.get("dtype")
        gname = gd.get("name") if isinstance(gd, dict) else gd
        if gname != expected["dtype"]:
            fails.append("%s: dtype: expected %r, got %s" % (label, expected["dtype"], _short(gd)))
    ed, gdata = expected["data"], got["data"]
    if not isinstance(gdata, list):
        return fails + ["%s: data is not a list: %s" % (label, _short(gdata))]
    if len(gdata) != len(ed):
        fails.append("%s: %d values, expected %d" % (label, len(gdata), len(ed)))
    bad = 0
    for i, (e, g) in enumerate(zip(ed, gdata)):
        if not _eq(e, g, dt, kind):
            bad += 1
            if bad <= MAX_REPORTED_PER_ARRAY:
                fails.append("%s: index %s (flat %d): expected %s, got %s" % (
                    label, _unravel(i, expected["shape"]), i, _short(e), _short(g)))
    if bad > MAX_REPORTED_PER_ARRAY:
        fails.append("%s: ... %d of %d values differ" % (label, bad, len(ed)))
    return fails


# --------------------------------------------------------------------------------------------
# selections "1:5,::2,3" -> numpy index

def parse_selection(sel):
    out = []
    for part in sel.split(","):
        part = part.strip()
        if ":" in part:
            bits = [int(b) if b.strip() else None for b in part.split(":")]
            out.append(slice(*bits))
        else:
            out.append(int(part))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# running the CLI

class Zarrc:
    def __init__(self, exe, timeout=60):
        self.exe = exe
        self.timeout = timeout
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            print("FAIL: zarrc executable not found: %s" % exe)
            sys.exit(1)

    def run(self, *args, stdin=None):
        try:
            p = subprocess.run([self.exe] + [str(a) for a in args], input=stdin,
                               capture_output=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return 124, "", "timed out after %ds" % self.timeout
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace").strip())

    def cmdline(self, *args):
        return "zarrc " + " ".join(_shell_quote(str(a)) for a in args)


def _shell_quote(s):
    if s and all(c.isalnum() or c in "-_./:,=+@" for c in s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


class Results:
    """Collects failures; prints them with a summary; exit status for ctest."""

    def __init__(self, title):
        self.title = title
        self.failures = []
        self.checked = 0
        self.failed_cases = []

    def case(self, name, fails):
        self.checked += 1
        if fails:
            self.failed_cases.append(name)
            self.failures.extend(fails)
            for f in fails:
                print("FAIL " + f, flush=True)

    def finish(self):
        print("%s: %d cases checked, %d failed" % (self.title, self.checked,
                                                  len(self.failed_cases)))
        if self.failed_cases:
            print("failed cases: " + " ".join(self.failed_cases))
            return 1
        return 0
