#!/usr/bin/env python3
"""Write seed inputs for the fuzz targets with the zarrc CLI: metadata documents of many kinds
and, for every pipeline of fuzz_chunk.c (same order), a real encoded chunk prefixed with the
pipeline's selector byte. Usage: make_seeds.py ZARRC"""
import json, os, re, subprocess, sys, tempfile

zarrc = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(here, "fuzz_chunk.c")).read()
block = src[src.index("pipelines[] = {"):src.index("};", src.index("pipelines[] = {"))]
pipes = [json.loads(bytes(m, "ascii").decode("unicode_escape"))
         for m in re.findall(r'"((?:[^"\\]|\\.)*)"(?:\s*\n\s*"((?:[^"\\]|\\.)*)")?', block)
         for m in ["".join(m)]]
tmp = tempfile.mkdtemp()


def run(*a, stdin=None):
    subprocess.run([zarrc] + list(a), input=stdin, check=True, capture_output=True)


for i, codecs in enumerate(pipes):
    text = json.dumps(codecs)
    vlen = "vlen" in text
    dtype = ("string" if "utf8" in text else "bytes") if vlen else "int32"
    node = os.path.join(tmp, "p%d" % i)
    run("create", node, "--dtype", dtype, "--shape", "4,6", "--chunks", "4,4", "--codecs", text)
    vals = (["a", "bb", "", "dddd"] * 6) if dtype == "string" else \
           (["YQ==", "YmI=", "", "Y2Nj"] * 6) if dtype == "bytes" else list(range(1, 25))
    run("put", node, "--json", "-", stdin=json.dumps(vals).encode())
    with open(os.path.join(node, "c", "0", "0"), "rb") as f:
        chunk = f.read()
    with open(os.path.join(here, "corpus", "chunk", "seed_%02d" % i), "wb") as f:
        f.write(bytes([i]) + chunk)
    with open(os.path.join(node, "zarr.json"), "rb") as f:
        doc = f.read()
    with open(os.path.join(here, "corpus", "metadata", "seed_v3_%02d" % i), "wb") as f:
        f.write(doc)

for i, (dtype, extra) in enumerate([("<f8", ["--fill-value", '"NaN"', "--order", "F"]),
                                    ("|S5", []), ("<U3", []), (">i2", ["--separator", "/"]),
                                    ("<M8[ns]", []), ("string", []), ("|b1", [])]):
    node = os.path.join(tmp, "v2_%d" % i)
    run("create", node, "--format", "2", "--dtype", dtype, "--shape", "4,6", "--chunks", "4,4", *extra)
    with open(os.path.join(node, ".zarray"), "rb") as f:
        doc = f.read()
    with open(os.path.join(here, "corpus", "metadata", "seed_v2_%02d" % i), "wb") as f:
        f.write(doc)
print("seeds written for %d pipelines" % len(pipes))
