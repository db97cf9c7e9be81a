#!/usr/bin/env python3
"""Write seed inputs for the fuzz targets with the zarrc CLI: metadata documents of many kinds
and, for every pipeline of fuzz_chunk.c (same order), a real encoded chunk prefixed with the
pipeline's selector byte; selections (fuzz_select.c layout) and argument vectors
(fuzz_args.c layout). Usage: make_seeds.py ZARRC"""
import json, os, re, struct, subprocess, sys, tempfile

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


# the dtypes[] table of fuzz_chunk.c: [index] = "dtype"
dtab = src[src.index("dtypes[sizeof"):src.index("};", src.index("dtypes[sizeof"))]
dtypes = {int(k): bytes(v + w, "ascii").decode("unicode_escape")
          for k, v, w in re.findall(r'\[(\d+)\] = "((?:[^"\\]|\\.)*)"(?:\s*\n\s*"((?:[^"\\]|\\.)*)")?', dtab)}
values = {"int4": [(i % 16) - 8 for i in range(24)], "bool": [i % 3 == 0 for i in range(24)],
          "float6_e2m3fn": [0.5 * (i % 8) - 1 for i in range(24)],
          "complex_float6_e3m2fn": [[i % 5, -0.25 * (i % 3)] for i in range(24)]}

for i, codecs in enumerate(pipes):
    text = json.dumps(codecs)
    vlen = "vlen" in text
    dtype = dtypes.get(i) or (("string" if "utf8" in text else "bytes") if vlen else "int32")
    node = os.path.join(tmp, "p%d" % i)
    run("create", node, "--dtype", dtype, "--shape", "4,6", "--chunks", "4,4", "--codecs", text)
    if "zarrs.optional" in dtype:  # nulls and values (nested too: a value is present at every level)
        inner = json.loads(dtype)["configuration"]["name"]
        values[dtype] = [None if k % 3 == 0 else ("s%d" % k if inner == "string" else "YQ==" if inner == "bytes"
                                                   else k - 12) for k in range(24)]
    vals = (["a", "bb", "", "dddd"] * 6) if dtype == "string" else \
           (["YQ==", "YmI=", "", "Y2Nj"] * 6) if dtype == "bytes" else values.get(dtype, list(range(1, 25)))
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


def write(target, name, data):
    os.makedirs(os.path.join(here, "corpus", target), exist_ok=True)
    with open(os.path.join(here, "corpus", target, name), "wb") as f:
        f.write(data)


# fuzz_select: ndim, per dimension (shape, chunks, start, count, step), then --select text
BIG = 2 ** 63 - 1
for i, (dims, text) in enumerate([
        ([(10, 3, 0, 10, 1)], "::2"),
        ([(10, 3, 9, 1, BIG)], "::9223372036854775807"),
        ([(BIG, 2 ** 62, BIG - 1, 1, 1)], "-1:9223372036854775807:9223372036854775807"),
        ([(2 ** 62, 1, 0, 2, 2 ** 62 - 1), (2 ** 62, 1, 5, 3, 7)], "::4611686018427387903,5::7"),
        ([(7, 2, 1, 3, 2), (5, 5, 0, 5, 1), (6, 4, 5, 1, 1)], "1:6:2,:,-1"),
        ([(4, 3, 0, 0, 1), (2 ** 40, 2 ** 20, 3, 4, 2 ** 30)], "0:0,3::1073741824"),
        ([(100, 7, 0, 100, 1)], "-9223372036854775808:9223372036854775807"),
        ([], "")]):
    data = bytes([len(dims)]) + b"".join(struct.pack("<5q", *d) for d in dims) + text.encode()
    write("select", "seed_%02d" % i, data)

# fuzz_args: verb selector byte, then NUL-separated arguments
for i, (verb, args) in enumerate([
        (0, ["data/a", "--select", "0:10,::2", "--json"]),
        (0, ["--select=-1", "--raw", "a"]),
        (1, ["a", "--json", "-", "--select", "::9223372036854775807"]),
        (2, ["a", "--dtype", "int32", "--shape", "[100, 200]", "--chunks", "(10,20)", "--overwrite"]),
        (2, ["a", "--shape", "00000000000000000000000000000000000000000000000000000000000000000001"]),
        (3, ["-r", "src", "dst", "--chunks", "4,4", "--shards", "8,8", "--no-raw", "--json"]),
        (4, ["g", "--depth", "2", "--", "--help"]),
        (5, ["root", "spec.json", "--format=3", "--overwrite"]),
        (0, ["a", "b", "--bogus"]),
        (3, ["only-one", "--format"])]):
    write("args", "seed_%02d" % i, bytes([verb]) + b"\0".join(a.encode() for a in args))
print("selection and argument seeds written")
