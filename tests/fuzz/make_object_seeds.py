#!/usr/bin/env python3
"""Seed inputs for fuzz_object.c: for every array of its table (same order), a real chunk
written by the zarrc CLI, prefixed with the array's selector byte. Usage: make_object_seeds.py ZARRC"""
import json, os, re, subprocess, sys, tempfile

zarrc = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(here, "fuzz_object.c")).read()
block = src[src.index("arrays[] = {"):src.index("};", src.index("arrays[] = {"))]
rows = re.findall(r'\{(\d), "([^"]+)", ((?:"(?:[^"\\]|\\.)*"\s*)+)\}', block)
tmp = tempfile.mkdtemp()
values = {"json": [None, 1, "a", [1.5, {"k": "é"}], {}, True, -7, "x" * 20] * 3,
          "<i2": [[1, 2], [], [-3], [4, 5, 6]] * 6, ">f8": [[1.5], [], [-0.25, 1e300], [2.0]] * 6,
          "string": ["a", "bb", "", "dddd"] * 6, "bytes": ["YQ==", "YmI=", "", "Y2Nj"] * 6}
for i, (fmt, dtype, codecs) in enumerate(rows):
    codecs = "".join(bytes(m, "ascii").decode("unicode_escape") for m in re.findall(r'"((?:[^"\\]|\\.)*)"', codecs))
    node = os.path.join(tmp, "a%d" % i)
    args = ["create", node, "--format", fmt, "--dtype", dtype, "--shape", "4,6", "--chunks", "4,4"]
    args += ["--filters", codecs, "--compressor", "null"] if fmt == "2" else ["--codecs", codecs]
    subprocess.run([zarrc] + args, check=True)
    kind = dtype if fmt == "3" else ("<i2" if "<i2" in codecs else ">f8" if ">f8" in codecs else "json")
    subprocess.run([zarrc, "put", node, "--json", "-"], input=json.dumps(values[kind]).encode(), check=True)
    with open(os.path.join(node, "0.0" if fmt == "2" else "c/0/0"), "rb") as f:
        chunk = f.read()
    with open(os.path.join(here, "corpus", "object", "seed_%02d" % i), "wb") as f:
        f.write(bytes([i]) + chunk)
print("wrote %d seeds" % len(rows))
