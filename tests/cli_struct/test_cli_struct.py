"""CLI tests for struct (record) arrays and unknown data types: exact output and exit codes.
usage: test_cli_struct.py ZARRC TMPDIR"""
import json
import os
import shutil
import subprocess
import sys

ZARRC, TMP = sys.argv[1], os.path.join(sys.argv[2], "cli_struct")
checks = failures = 0


def check(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what)


def run(*args, stdin=None):
    p = subprocess.run([ZARRC, *args], input=stdin, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


shutil.rmtree(TMP, ignore_errors=True)
os.makedirs(TMP)
v2 = os.path.join(TMP, "v2")
v3 = os.path.join(TMP, "v3")

rc, out, err = run("create", v2, "--format", "2", "--shape", "3", "--compressor", "null",
                   "--dtype", '[["t","<i8"],["v",">f4",[2]],["p",[["x","<f4"],["ok","|b1"]]]]',
                   "--fill-value", '"' + "AQAAAAAAAAA/wAAAAAAAAAAAAAAB" + '"')
check(rc == 0, "create v2 record array: %s" % err)
rc, out, err = run("info", v2, "--no-stats")
check(rc == 0 and "fields:" in out, "info lists the fields: %s %s" % (out, err))
check("  v            offset 8      size 8      float32 (>f4) shape [2]\n" in out, "info: field v: %s" % out)
check("    ok           offset 4      size 1      bool (|b1)\n" in out, "info: nested field ok: %s" % out)
rc, out, err = run("get", v2)
check(out == '{"shape":[3],"dtype":"struct","data":[{"t":1,"v":[1.5,0.0],"p":{"x":0.0,"ok":true}},'
      '{"t":1,"v":[1.5,0.0],"p":{"x":0.0,"ok":true}},{"t":1,"v":[1.5,0.0],"p":{"x":0.0,"ok":true}}]}\n',
      "get of the fill records: %r" % out)
rc, out, err = run("put", v2, "--select", "1:3", "--json", "-",
                   stdin='[{"t":-2,"v":["NaN",2],"p":{"x":0.5,"ok":false}},{"t":9007199254740993}]')
check(rc == 0, "put records: %s" % err)
rc, out, err = run("get", v2, "--field", "v")
check(out == '{"shape":[3,2],"dtype":"float32","data":[1.5,0.0,"NaN",2.0,0.0,0.0]}\n', "get --field v: %r" % out)
rc, out, err = run("get", v2, "--field", "p.x", "--select", "1:")
check(out == '{"shape":[2],"dtype":"float32","data":[0.5,0.0]}\n', "get --field p.x: %r" % out)
rc, out, err = run("get", v2, "--field", "t", "--json")
check(out == '{"shape":[3],"dtype":"int64","data":[1,-2,9007199254740993]}\n', "get --field t: %r" % out)
rc, out, err = run("get", v2, "--field", "nope")
check(rc == 1 and "no field named 'nope'" in err, "unknown field: %d %s" % (rc, err))
rc, out, err = run("get", v2, "--field", "t", "--raw")
check(rc == 2 and "--field" in err, "--field with --raw is a usage error: %d %s" % (rc, err))
rc, out, err = run("put", v2, "--json", "-", stdin='[{"t":1},{"t":"x"},{"t":3}]')
check(rc == 1 and "record 1" in err and "field 't'" in err, "bad record refused: %s" % err)
rc, out, err = run("put", v2, "--json", "-", stdin='[{"t":1},{"t":2}]')
check(rc == 1 and "expected 3 records, got 2" in err, "record count: %s" % err)
rc, out, err = run("put", v2, "--json", "-", stdin='[1, 2, 3]')
check(rc == 1 and "a record must be a JSON object" in err, "non-object records: %s" % err)

rc, out, err = run("create", v3, "--shape", "2", "--dtype",
                   '{"name":"struct","configuration":{"fields":[{"name":"a","data_type":"int16"},'
                   '{"name":"b","data_type":"float64"}]}}', "--fill-value", '{"a": 7, "b": "-Infinity"}')
check(rc == 0, "create v3 struct: %s" % err)
meta = json.load(open(os.path.join(v3, "zarr.json")))
check(meta["fill_value"] == {"a": 7, "b": "-Infinity"}, "v3 fill value object: %s" % meta["fill_value"])
rc, out, err = run("get", v3)
check(out == '{"shape":[2],"dtype":"struct","data":[{"a":7,"b":"-Infinity"},{"a":7,"b":"-Infinity"}]}\n', out)
rc, out, err = run("create", os.path.join(TMP, "bad"), "--shape", "2", "--dtype", '[["v","<f4",[2]]]')
check(rc == 1 and "sub-array" in err and not os.path.exists(os.path.join(TMP, "bad")), "v3 sub-array: %s" % err)
rc, out, err = run("create", os.path.join(TMP, "bad"), "--shape", "2", "--dtype", '[["a","<i2"],["a","<i2"]]')
check(rc == 1 and "appears twice" in err, "duplicate field: %s" % err)
rc, out, err = run("create", os.path.join(TMP, "bad"), "--shape", "2", "--dtype",
                   '{"name":"struct","configuration":{"fields":[{"name":"a","data_type":"uint8"}]}}',
                   "--fill-value", '{"a": 256}')
check(rc == 1 and "field 'a'" in err and not os.path.exists(os.path.join(TMP, "bad")), "fill refused: %s" % err)

# an unknown data type: info works, get fails naming it
unk = os.path.join(TMP, "unknown")
os.makedirs(unk)
json.dump({"zarr_format": 3, "node_type": "array", "shape": [2], "data_type": {"name": "acme.decimal",
           "configuration": {"digits": 9}}, "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
           "chunk_key_encoding": {"name": "default"}, "fill_value": "0.00", "codecs": [{"name": "bytes"}]},
          open(os.path.join(unk, "zarr.json"), "w"))
rc, out, err = run("info", unk, "--no-stats")
check(rc == 0 and 'data type:    {"name":"acme.decimal","configuration":{"digits":9}}' in out and
      'fill value:   "0.00"' in out, "info of an unknown type: %s %s" % (out, err))
rc, out, err = run("get", unk)
check(rc == 1 and "unknown data type 'acme.decimal'" in err, "get of an unknown type: %s" % err)
print("cli_struct: %d checks, %d failures" % (checks, failures))
sys.exit(1 if failures else 0)
