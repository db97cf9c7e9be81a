"""zarrc_harness.py — shared helpers for the script-driven test layers (conformance, interop).

Runs the zarrc CLI, normalises values of every data type to a comparable form, compares flat
C-order value lists element by element (NaN == NaN, -0.0 != 0.0, S items without trailing NULs),
and keeps the "N passed, M failed, K skipped" tally that every test prints.

Only the Python standard library and numpy are used (run with /usr/bin/python3).
"""
import base64
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

CRASH_HINT = "crashed (killed by a signal or exit > 128)"


# ------------------------------------------------------------------------------------------
# Running zarrc
# ------------------------------------------------------------------------------------------

class Result:
    def __init__(self, args, rc, out, err):
        self.args, self.rc, self.out, self.err = args, rc, out, err

    @property
    def crashed(self):
        return self.rc is None or self.rc < 0 or self.rc > 128

    def describe(self):
        err = self.err
        if isinstance(err, bytes):
            err = err.decode("utf-8", "replace").strip()
        if len(err) > 400:
            err = err[:400] + "..."
        rc = "timeout" if self.rc is None else self.rc
        return "`zarrc %s` -> exit %s%s" % (" ".join(self.args), rc,
                                              (", stderr: " + err) if err else "")


class Zarrc:
    def __init__(self, exe, timeout=60):
        self.exe = exe
        self.timeout = timeout
        env = dict(os.environ)
        env.setdefault("ZARRC_NUM_THREADS", "2")
        self.env = env

    def run(self, *args, stdin=None, timeout=None):
        args = [str(a) for a in args]
        try:
            p = subprocess.run([self.exe] + args, input=stdin, capture_output=True,
                               timeout=timeout or self.timeout, env=self.env)
            return Result(args, p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired as e:
            return Result(args, None, e.stdout or b"", b"timed out")

    def get_json(self, node, select=None):
        """(doc, None) on success, (None, message) on failure."""
        args = ["get", node, "--json"]
        if select is not None:
            args[2:2] = ["--select", select]
        r = self.run(*args)
        if r.rc != 0:
            return None, r.describe()
        try:
            return parse_json(r.out), None
        except ValueError as e:
            return None, "%s: output is not JSON (%s): %.200r" % (r.describe(), e, r.out[:200])

    def info_json(self, node):
        r = self.run("info", node, "--json")
        if r.rc != 0:
            return None, r
        try:
            return parse_json(r.out), r
        except ValueError:
            return None, r


def parse_json(data):
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    # Python's json keeps big integers exact and accepts bare NaN/Infinity tokens.
    return json.loads(data)


def find_key(doc, *names):
    """Look a member up at the top level of `doc`, then inside a "metadata" member."""
    if not isinstance(doc, dict):
        return None, False
    for n in names:
        if n in doc:
            return doc[n], True
    for sub in ("metadata", "array", "node"):
        if isinstance(doc.get(sub), dict):
            for n in names:
                if n in doc[sub]:
                    return doc[sub][n], True
    return None, False


# ------------------------------------------------------------------------------------------
# Data types and values
# ------------------------------------------------------------------------------------------

V2_TO_V3 = {"b1": "bool", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
            "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
            "f2": "float16", "f4": "float32", "f8": "float64",
            "c8": "complex64", "c16": "complex128"}

FLOAT_NP = {"float16": np.float16, "float32": np.float32, "float64": np.float64}
FLOAT_UINT = {"float16": np.uint16, "float32": np.uint32, "float64": np.uint64}
COMPLEX_PART = {"complex64": "float32", "complex128": "float64"}


def v3_name(dtype):
    """The v3 name zarrc prints for a data type given as a v2 typestr or a v3 name/object."""
    if isinstance(dtype, dict):
        return dtype.get("name")
    if isinstance(dtype, list):
        return "struct"
    if dtype and dtype[0] in "<>|=":
        body = dtype[1:]
        if body in V2_TO_V3:
            return V2_TO_V3[body]
        k = body[0]
        if k == "S":
            return "null_terminated_bytes"
        if k == "U":
            return "fixed_length_utf32"
        if k == "V":
            return "r%d" % (8 * int(body[1:]))
        if k == "O":
            return "string"
        if k == "M":
            return "numpy.datetime64"
        if k == "m":
            return "numpy.timedelta64"
    if dtype in ("variable_length_bytes",):
        return "bytes"
    return dtype


def kind_of(name):
    if name == "bool":
        return "bool"
    if name in FLOAT_NP or name == "bfloat16":
        return "float"
    if name in COMPLEX_PART:
        return "complex"
    if name.startswith("int") or name.startswith("uint"):
        return "int"
    if name in ("numpy.datetime64", "numpy.timedelta64"):
        return "int"
    if name in ("string", "fixed_length_utf32"):
        return "str"
    if name == "null_terminated_bytes":
        return "sbytes"
    if name == "bytes" or (name.startswith("r") and name[1:].isdigit()) or name == "raw_bytes":
        return "bytes"
    return "other"


def _float_bits(name, v):
    """Canonical form of one float: ('nan',) or ('bits', int) for the type `name`."""
    if isinstance(v, str):
        if v == "NaN":
            return ("nan",)
        if v == "Infinity":
            x = math.inf
        elif v == "-Infinity":
            x = -math.inf
        elif v in ("-0", "-0.0"):
            x = -0.0
        elif v.lower().startswith("0x"):
            bits = int(v, 16)
            arr = np.array([bits], dtype=FLOAT_UINT[name]).view(FLOAT_NP[name])
            if np.isnan(arr[0]):
                return ("nan",)
            return ("bits", bits)
        else:
            x = float(v)  # lenient numeric strings
    elif isinstance(v, bool) or v is None:
        raise ValueError("not a float: %r" % (v,))
    else:
        x = float(v)
    if math.isnan(x):
        return ("nan",)
    arr = np.array([x], dtype=FLOAT_NP[name])
    return ("bits", int(arr.view(FLOAT_UINT[name])[0]))


def _bytes_of(v):
    if isinstance(v, dict) and "base64" in v:
        return base64.b64decode(v["base64"])
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if isinstance(v, str):
        return base64.b64decode(v, validate=True)
    if isinstance(v, list):
        return bytes(v)
    raise ValueError("not bytes: %r" % (v,))


def norm(name, v):
    """A hashable, comparable form of one element of data type `name` (v3 name)."""
    k = kind_of(name)
    if k == "bool":
        if not isinstance(v, bool):
            raise ValueError("not a bool: %r" % (v,))
        return v
    if k == "int":
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            if isinstance(v, float) and v.is_integer():
                return ("int", int(v), "float-spelled")
            raise ValueError("not an integer: %r" % (v,))
        return int(v)
    if k == "float":
        return _float_bits("float16" if name == "bfloat16" else name, v)
    if k == "complex":
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise ValueError("not a complex pair: %r" % (v,))
        p = COMPLEX_PART[name]
        return (_float_bits(p, v[0]), _float_bits(p, v[1]))
    if k == "str":
        if not isinstance(v, str):
            raise ValueError("not a string: %r" % (v,))
        return v
    if k == "sbytes":
        return _bytes_of(v).rstrip(b"\0")
    if k == "bytes":
        return _bytes_of(v)
    return json.dumps(v, sort_keys=True)


def show(v, limit=80):
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, (bytes, np.generic)) else repr(v)
    return s if len(s) <= limit else s[:limit] + "..."


_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}


def _fast_equal(name, expected, got):
    """True when the lists are certainly equal (vectorised); False = look element by element."""
    k = kind_of(name)
    try:
        if k in ("int", "str"):
            t = int if k == "int" else str
            return expected == got and all(type(x) is t for x in got)
        if k == "bool":
            return expected == got and all(type(x) is bool for x in got)
        if k == "float" and name in FLOAT_NP:
            def arr(vals):
                a = np.array([_SPECIAL[v] if isinstance(v, str) else v for v in vals],
                             dtype=np.float64)
                if any(isinstance(v, bool) or v is None for v in vals):
                    raise ValueError
                return a.astype(FLOAT_NP[name])
            e, g = arr(expected), arr(got)
            en, gn = np.isnan(e), np.isnan(g)
            ub = FLOAT_UINT[name]
            return bool(np.array_equal(en, gn) and
                        np.array_equal(e.view(ub)[~en], g.view(ub)[~gn]))
    except (ValueError, TypeError, KeyError, OverflowError):
        return False
    return False


def compare_values(name, expected, got, max_report=5):
    """List of mismatch descriptions (empty = equal). Both lists are flat, C order."""
    problems = []
    if not isinstance(got, list):
        return ["data is not a list: %s" % show(got)]
    if len(expected) != len(got):
        problems.append("length: expected %d elements, got %d" % (len(expected), len(got)))
        return problems
    if _fast_equal(name, expected, got):
        return problems
    bad = 0
    for i, (e, g) in enumerate(zip(expected, got)):
        try:
            ne = norm(name, e)
        except (ValueError, TypeError) as ex:
            problems.append("index %d: bad expected value %s (%s)" % (i, show(e), ex))
            bad += 1
            continue
        try:
            ng = norm(name, g)
        except (ValueError, TypeError, Exception) as ex:  # noqa: B014 — binascii errors
            ng = ("unparseable", str(ex))
        if ne != ng:
            bad += 1
            if bad <= max_report:
                problems.append("index %d: expected %s, got %s" % (i, show(e), show(g)))
    if bad > max_report:
        problems.append("... %d mismatching elements in all (of %d)" % (bad, len(expected)))
    return problems


def npy_to_flat(arr):
    """Flat C-order list of JSON-style values for a numpy array (from an .npy file)."""
    flat = np.ascontiguousarray(arr).reshape(-1)
    k = arr.dtype.kind
    if k == "b":
        return [bool(x) for x in flat]
    if k in "iu":
        return [int(x) for x in flat]
    if k == "f":
        out = []
        for x in flat:
            x = float(x)
            out.append("NaN" if math.isnan(x) else "Infinity" if x == math.inf
                       else "-Infinity" if x == -math.inf else x)
        return out
    if k == "c":
        return [[float(x.real), float(x.imag)] for x in flat]
    if k == "S":
        return [{"base64": base64.b64encode(bytes(x)).decode()} for x in flat]
    if k == "V":
        return [{"base64": base64.b64encode(bytes(x)).decode()} for x in flat]
    if k == "U":
        return [str(x) for x in flat]
    if k in "Mm":
        return [int(x) for x in flat.view(np.int64)]
    if k == "O":
        return [x for x in flat]
    raise ValueError("unsupported npy dtype %s" % arr.dtype)


# ------------------------------------------------------------------------------------------
# Tally
# ------------------------------------------------------------------------------------------

class Tally:
    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = []
        self.skipped = 0
        self.skip_lines = []
        print("== %s" % title, flush=True)

    def ok(self, what=None):
        self.passed += 1

    def fail(self, where, msg):
        self.failed.append((where, msg))
        print("FAIL %s: %s" % (where, msg), flush=True)

    def check(self, cond, where, msg):
        if cond:
            self.ok()
        else:
            self.fail(where, msg)
        return cond

    def skip_category(self, reason, items):
        """One visible line per out-of-scope category."""
        items = list(items)
        if not items:
            return
        self.skipped += len(items)
        shown = ", ".join(items[:6]) + (", ..." if len(items) > 6 else "")
        line = "SKIP (out of scope: %s): %d item(s): %s" % (reason, len(items), shown)
        self.skip_lines.append(line)
        print(line, flush=True)

    def finish(self):
        print("%s: %d passed, %d failed, %d skipped" % (self.title, self.passed,
                                                       len(self.failed), self.skipped))
        if self.failed:
            print("failures:")
            for where, msg in self.failed:
                print("  - %s: %s" % (where, msg))
        sys.stdout.flush()
        return 1 if self.failed else 0


def shared_or_skip(shared_dir, title):
    """Exit 0 with the one allowed skip when ../shared is absent."""
    if not shared_dir or not os.path.isdir(os.path.join(shared_dir, "fixtures")):
        print("SKIP: ../shared not found (%s): %s not run" % (shared_dir, title))
        sys.exit(0)


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    return path


def copy_writable(src, dst, ignore=None):
    """Copy a (possibly read-only) fixture tree to a writable place."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=ignore, copy_function=shutil.copyfile)
    for dirpath, _, _ in os.walk(dst):
        os.chmod(dirpath, 0o755)
    return dst


def check_zarrc(exe):
    if not exe or not os.access(exe, os.X_OK):
        print("FAIL: zarrc executable not found at %r" % exe)
        sys.exit(1)


# ------------------------------------------------------------------------------------------
# Selections (numpy-like "0:10,:,5" / "::2,3:") on flat C-order lists
# ------------------------------------------------------------------------------------------

def selection_indices(shape, sel):
    """(flat C-order indices of the selection, result shape) for a selection string."""
    parts = [p.strip() for p in sel.split(",")] if sel else []
    if len(parts) > len(shape):
        raise ValueError("too many indices")
    parts += [":"] * (len(shape) - len(parts))
    axes, out_shape = [], []
    for p, n in zip(parts, shape):
        if ":" in p:
            f = p.split(":")
            start = int(f[0]) if f[0] else None
            stop = int(f[1]) if len(f) > 1 and f[1] else None
            step = int(f[2]) if len(f) > 2 and f[2] else None
            r = range(*slice(start, stop, step).indices(n))
            axes.append(list(r))
            out_shape.append(len(r))
        else:
            i = int(p)
            axes.append([i + n if i < 0 else i])
    strides = []
    s = 1
    for n in reversed(shape):
        strides.append(s)
        s *= n
    strides.reverse()
    idx = [0]
    for ax, st in zip(axes, strides):
        idx = [b + a * st for b in idx for a in ax]
    return idx, out_shape


def take(flat, shape, sel):
    idx, out_shape = selection_indices(shape, sel)
    return [flat[i] for i in idx], out_shape
