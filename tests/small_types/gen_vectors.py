"""Reference vectors for zarrc's 8/6/4-bit floats, computed by ml_dtypes (the Python
implementation every zarr-extensions float README names).

Writes lines to argv[1]:
  D <type> <code> <value as float64 hex bits | nan>    decoding of every code
  E <type> <float64 hex bits> <code>                   encoding (round to nearest)
For float8 types every one of the 256 bytes is decoded; for float6/float4 every valid code
(ml_dtypes gives no meaning to the unused upper bits). Encoding covers every value, every
midpoint between neighbours (ties), a hair either side of each midpoint, values past the
largest and below the smallest, and their negatives. NaN and infinities are left out of the
encode list for float6/float4, which cannot hold them (zarrc refuses them).
"""
import struct
import sys

import ml_dtypes
import numpy as np

np.seterr(over="ignore")

TYPES = ["float8_e4m3", "float8_e5m2", "float8_e3m4", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
         "float8_e5m2fnuz", "float8_e8m0fnu", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn"]


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def main(path):
    out = []
    for name in TYPES:
        t = getattr(ml_dtypes, name)
        width = 6 if name.startswith("float6") else 4 if name.startswith("float4") else 8
        codes = np.arange(1 << width, dtype=np.uint8)
        vals = codes.view(t).astype(np.float64)
        for c, v in zip(codes, vals):
            out.append("D %s %d %s" % (name, c, "nan" if np.isnan(v) else "%016x" % bits(v)))
        finite = sorted(set(float(v) for v in vals if np.isfinite(v) and v >= 0))
        probe = set(finite)
        for a, b in zip(finite, finite[1:]):
            m = (a + b) / 2
            probe.update([m, np.nextafter(m, -np.inf), np.nextafter(m, np.inf)])
        mx, mn = finite[-1], finite[0] if finite[0] > 0 else finite[1]
        probe.update([mx * 1.01, mx * 1.2, mx * 1.5, mx * 2, mx * 4, 1e300, mn / 2, mn / 3, mn / 4,
                      mn * 0.75, 1e-300, 5e-324, 0.1, 1 / 3, 2 / 3, 3.14159])
        if name.startswith("float8"):
            probe.update([np.inf, -np.inf, np.nan])
        for x in sorted(probe, key=lambda v: (np.isnan(v), v)):
            for y in ([x, -x] if not np.isnan(x) else [x]):
                if name == "float8_e8m0fnu" and (y <= 0 or np.isinf(y)):
                    continue  # checked separately: zarrc gives NaN, as ml_dtypes does for <= 0
                code = int(np.array([y], dtype=np.float64).astype(t).view(np.uint8)[0])
                out.append("E %s %016x %d" % (name, bits(y), code))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote %d vectors (ml_dtypes %s) to %s" % (len(out), ml_dtypes.__version__, path))


if __name__ == "__main__":
    import os
    import subprocess
    os.makedirs(os.path.dirname(os.path.abspath(sys.argv[1])), exist_ok=True)
    main(sys.argv[1])
    if len(sys.argv) > 2:  # the zarrc test binary checks every line
        sys.exit(subprocess.call([sys.argv[2], sys.argv[1]]))
