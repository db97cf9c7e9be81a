"""A variable-length user-defined data type (examples/user_vlen_dtype.c) against its peers.

usage: run_user_vlen.py ZARRC EXAMPLE OUTDIR

The example registers "example.polyline" (lists of float32 points, vlen-bytes on storage) and
writes OUTDIR/tracks (v3), tracks_sharded (v3, sharding_indexed) and tracks_v2 (v2, dtype
"example.polyline", filters [vlen-bytes]). Then:
  - a fresh process of the example (--read) reopens the three arrays and prints the elements:
    they must equal the data computed here;
  - zarr-python 3.4 refuses the unknown type with ValueError "No Zarr data type found that
    matches ..." (v3 and v2; the exact text is printed and asserted);
  - zarr-python 3.4 reads the chunks as raw bytes once a copy of the metadata names the core
    type instead (v3: "variable_length_bytes" with the fill value as Base64; v2: "|O" with fill
    null): every element's bytes must decode as the expected little-endian float32 points;
  - zarr-python 2.13 (/usr/bin/python3) refuses the v2 spelling (MetadataError) and reads the
    "|O" copy as bytes;
  - the zarrc CLI, which does not know the type: `zarrc info` shows each array's metadata (exit
    0), `zarrc get` fails naming the type ("unknown data type 'example.polyline' (register it
    with zarrc_dtype_register ...").
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import zarr

checks = failures = 0


def check(ok, what):
    global checks, failures
    checks += 1
    if not ok:
        failures += 1
        print("FAIL: %s" % what)


def expected():
    """Element i: (2 i) % 5 points; point p: x = 10 i + p, y = x + 0.25, z = x + 0.5 - 100; element 5
    is the fill value [[0, 0, -1]]."""
    out = []
    for i in range(5):
        pts = []
        for p in range((i * 2) % 5):
            x = np.float32(i * 10 + p)
            pts.append([x, x + np.float32(0.25), x + np.float32(0.5) - np.float32(100)])
        out.append(np.array(pts, "<f4").reshape(-1, 3))
    out.append(np.array([[0, 0, -1]], "<f4"))
    return out


def same_points(got, want):
    return len(got) == len(want) and all(np.asarray(g, "<f4").reshape(-1, 3).tobytes() == w.tobytes()
                                         for g, w in zip(got, want))


def raw_copy(src, dst, fmt):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    if fmt == 3:
        m = json.load(open(os.path.join(dst, "zarr.json")))
        m["data_type"] = "variable_length_bytes"
        m["fill_value"] = base64.b64encode(np.array([0, 0, -1], "<f4").tobytes()).decode()
        json.dump(m, open(os.path.join(dst, "zarr.json"), "w"))
    else:
        m = json.load(open(os.path.join(dst, ".zarray")))
        m["dtype"] = "|O"
        m["fill_value"] = None
        json.dump(m, open(os.path.join(dst, ".zarray"), "w"))


ZARR2_READ = r"""
import sys, json, numpy as np, zarr
try:
    zarr.open_array(sys.argv[1], mode="r")
    print(json.dumps({"refused": None}))
except Exception as e:
    refused = "%s: %s" % (type(e).__name__, e)
a = zarr.open_array(sys.argv[2], mode="r")
print(json.dumps({"refused": refused, "version": zarr.__version__,
                  "elems": [list(np.frombuffer(b, "<f4").astype(float)) for b in a[...]]}))
"""


def main():
    zarrc, example, out = sys.argv[1:4]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    want = expected()
    p = subprocess.run([example, out], capture_output=True, text=True)
    check(p.returncode == 0, "example writes: %s %s" % (p.stdout, p.stderr))
    if p.returncode:
        return
    print(p.stdout.strip())

    # a fresh process reopens and reads
    p = subprocess.run([example, out, "--read"], capture_output=True, text=True)
    check(p.returncode == 0, "example --read: %s" % p.stderr)
    lines = dict(l.split(" ", 1) for l in p.stdout.splitlines() if " " in l)
    for name in ("tracks", "tracks_sharded", "tracks_v2"):
        got = json.loads(lines.get(name, "[]"))
        check(same_points(got, want), "fresh process reads %s: %s" % (name, lines.get(name)))

    print("zarr-python %s, numpy %s" % (zarr.__version__, np.__version__))
    warnings.simplefilter("ignore")
    for name, fmt in (("tracks", 3), ("tracks_sharded", 3), ("tracks_v2", 2)):
        path = os.path.join(out, name)
        try:
            zarr.open_array(path, mode="r", zarr_format=fmt)
            check(False, "zarr-python %s opened the unknown data type of %s" % (zarr.__version__, name))
        except ValueError as e:
            msg = str(e)
            print("zarr-python on %s: ValueError: %s" % (name, msg))
            want_msg = ("No Zarr data type found that matches {'name': 'example.polyline', 'configuration': "
                        "{'dimensions': 3}}" if fmt == 3 else
                        "No Zarr data type found that matches {'name': 'example.polyline', 'object_codec_id': "
                        "'vlen-bytes'}")
            check(msg == want_msg, "zarr-python refuses %s with %r (got %r)" % (name, want_msg, msg))
        raw = os.path.join(out, name + "_raw")
        raw_copy(path, raw, fmt)
        a = zarr.open_array(raw, mode="r", zarr_format=fmt)
        got = [np.frombuffer(b, "<f4") for b in a[...]]
        check(a.dtype == object and same_points(got, want),
              "zarr-python reads %s as raw bytes: %r" % (name, got))

    # zarr-python 2.13 (Debian's python3) on the v2 spelling and on the raw copy
    if os.path.exists("/usr/bin/python3"):
        p = subprocess.run(["/usr/bin/python3", "-c", ZARR2_READ, os.path.join(out, "tracks_v2"),
                            os.path.join(out, "tracks_v2_raw")], capture_output=True, text=True)
        check(p.returncode == 0, "zarr-python 2 script: %s" % p.stderr[-500:])
        if p.returncode == 0:
            r = json.loads(p.stdout.strip().splitlines()[-1])
            print("zarr-python %s on tracks_v2: %s" % (r["version"], r["refused"]))
            check(r["refused"] == "MetadataError: error decoding metadata",
                  "zarr-python 2 refuses the v2 spelling (%s)" % r["refused"])
            check(same_points(r["elems"], want), "zarr-python 2 reads the |O copy as bytes")
    else:
        check(False, "/usr/bin/python3 (zarr-python 2.13) missing")

    # the zarrc CLI does not know the type: info works, reading names the type
    for name in ("tracks", "tracks_sharded", "tracks_v2"):
        path = os.path.join(out, name)
        p = subprocess.run([zarrc, "info", path], capture_output=True, text=True)
        check(p.returncode == 0 and "example.polyline" in p.stdout and "fill value:   [[0,0,-1]]" in p.stdout,
              "zarrc info %s: %s %s" % (name, p.stdout[:300], p.stderr[:300]))
        p = subprocess.run([zarrc, "get", path], capture_output=True, text=True)
        check(p.returncode != 0 and "unknown data type 'example.polyline' (register it with zarrc_dtype_register"
              in p.stderr, "zarrc get %s fails naming the type: %s" % (name, p.stderr.strip()))
        if name == "tracks":
            print("zarrc get (unregistered): %s" % p.stderr.strip())


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report, do not hide
        check(False, "run_user_vlen: %r" % e)
    print("interop_user_vlen: %d checks, %d failures" % (checks, failures))
    sys.exit(1 if failures or not checks else 0)
