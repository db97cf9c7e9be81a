#!/usr/bin/env python3
"""The v3 spellings `numcodecs.vlen-utf8`, `numcodecs.vlen-bytes` and `numcodecs.vlen-array` (on
string and bytes arrays; the vlen-bytes layout, as zarrs documents them): zarrc writes and reads
them element by element, and this test records that no peer reads them — zarrs 0.23.14 (the
zarrc-zarrs-vlen program), zarr-python 3.4.2 (numcodecs 0.17.1 has no v3 wrappers for the vlen
codecs: numcodecs.zarr3.__all__ lists none) and tensorstore 0.1.86 (zarr3 has no string/bytes data
types) each refuse them with the message asserted here. If a peer starts reading them this test
fails, so the proof can be upgraded to a both-ways one.

usage: run_vlen_names.py ZARRC WORKDIR"""
import json
import os
import subprocess
import sys
import warnings

import zarrs_common as zc
from zarrs_common import check

ZARRC = WORK = None  # from the command line (main)


CASES = [("numcodecs.vlen-utf8", "string"), ("numcodecs.vlen-bytes", "bytes"),
         ("numcodecs.vlen-array", "string"), ("numcodecs.vlen-array", "bytes")]
VALUES = {"string": ["a", "bb", "", "héllo", "z"], "bytes": ["YQ==", "", "AP8=", "eno=", "AA=="]}


def main():
    global ZARRC, WORK
    ZARRC, WORK = zc.args()
    prog = zc.build("zarrc-zarrs-vlen")
    nodes = []
    for codec, dt in CASES:
        node = os.path.join(WORK, "%s_%s" % (codec, dt))
        r = subprocess.run([ZARRC, "create", node, "--dtype", dt, "--shape", "5", "--chunks", "2", "--codecs",
                            json.dumps([{"name": codec, "configuration": {}}])], capture_output=True, text=True)
        if not check(r.returncode == 0, "zarrc create %s %s: %s" % (codec, dt, r.stderr)):
            continue
        r = subprocess.run([ZARRC, "put", node, "--json", "-"], input=json.dumps(VALUES[dt]), capture_output=True,
                           text=True)
        check(r.returncode == 0, "zarrc put %s %s: %s" % (codec, dt, r.stderr))
        # zarrc writes vlen-utf8/vlen-bytes under their plain names; keep the numcodecs.* one
        path = os.path.join(node, "zarr.json")
        with open(path) as f:
            meta = json.load(f)
        meta["codecs"][0]["name"] = codec
        with open(path, "w") as f:
            json.dump(meta, f)
        r = subprocess.run([ZARRC, "get", node, "--json"], capture_output=True, text=True)
        check(r.returncode == 0 and json.loads(r.stdout)["data"] == VALUES[dt],
              "zarrc reads %s on %s element by element: %s %s" % (codec, dt, r.stdout[:200], r.stderr[:200]))
        nodes.append((codec, dt, node))
    # zarrs 0.23.14
    got = zc.run_cases(prog, "read", [{"dir": n} for *_, n in nodes], os.path.join(WORK, "read.json"))
    for codec, dt, node in nodes:
        want = "ERROR: codec %s is not supported" % codec
        check(got.get(node) == want, "zarrs refuses %s on %s with %r: got %r" % (codec, dt, want, got.get(node)))
    # zarr-python 3.4.2 (+ numcodecs 0.17.1)
    import zarr
    import numcodecs.zarr3
    check(not [n for n in numcodecs.zarr3.__all__ if "vlen" in n.lower()],
          "numcodecs.zarr3 has v3 vlen wrappers now: %s" % numcodecs.zarr3.__all__)
    for codec, dt, node in nodes:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = zarr.open_array(node, mode="r")[:]
            check(False, "zarr-python %s reads %s on %s now: %s" % (zarr.__version__, codec, dt, v))
        except Exception as e:
            want = "An implementation for codec '%s' is not available" % codec
            check(type(e).__name__ == "UnknownCodecError" and want in str(e),
                  "zarr-python refuses %s on %s: %s: %s" % (codec, dt, type(e).__name__, e))
    # tensorstore 0.1.86
    import tensorstore as ts
    for codec, dt, node in nodes:
        try:
            ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": node}}).result()
            check(False, "tensorstore opens %s on %s now" % (codec, dt))
        except Exception as e:
            check("%s data type is not one of" % dt in str(e), "tensorstore refuses %s on %s: %s" % (codec, dt, e))
    return zc.finish("vlen names")


if __name__ == "__main__":
    sys.exit(main())
