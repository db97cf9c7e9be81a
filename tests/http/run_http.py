"""Read-only HTTP store against Python's http.server (ignores Range) and nginx (Range and
suffix ranges), both on 127.0.0.1, started and stopped here.

usage: run_http.py ZARRC TMPDIR

zarrc writes a hierarchy (v3, v3 sharded, v2, consolidated) and a zip archive into a directory
the servers serve; zarrc then reads them over HTTP: whole arrays and selections, listings
through consolidated metadata, a zip archive through range reads. With
ZARRC_HTTP_REQUIRE_RANGE=1 a sharded read must fail on http.server (it answers 200 to ranged
requests) and succeed on nginx (206 with a matching Content-Range). Writes are refused.
"""
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nginx  # noqa: E402

ZARRC, TMP = sys.argv[1:3]
shutil.rmtree(TMP, ignore_errors=True)
ROOT = os.path.join(TMP, "www")
os.makedirs(ROOT)
CHECKS, FAILS = 0, []
t0 = time.time()


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, flush=True)


def zarrc(*args, stdin=None, env=None):
    return subprocess.run([ZARRC] + list(args), input=stdin, capture_output=True, text=True, timeout=120,
                          env=env)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


data = [[i * 10 + j for j in range(10)] for i in range(8)]
sharding = json.dumps([{"name": "sharding_indexed", "configuration": {
    "chunk_shape": [2, 5], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                      {"name": "gzip", "configuration": {"level": 1}}],
    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}])
g = os.path.join(ROOT, "g")
assert zarrc("create", g, "--group").returncode == 0
for name, opts in (("v3", ["--chunks", "3,4"]), ("sharded", ["--chunks", "4,10", "--codecs", sharding]),
                   ("v2", ["--format", "2", "--chunks", "3,4"])):
    r = zarrc("create", os.path.join(g, name), "--dtype", "int32", "--shape", "8,10", *opts)
    r2 = zarrc("put", os.path.join(g, name), "--json", "-", stdin=json.dumps(data))
    check(r.returncode == 0 and r2.returncode == 0, "setup %s: %s %s" % (name, r.stderr, r2.stderr))
r = zarrc("consolidate", g)
check(r.returncode == 0, "consolidate: %s" % r.stderr)
z = os.path.join(ROOT, "a.zip")
r = zarrc("create", z, "--dtype", "int32", "--shape", "8,10", "--chunks", "4,10", "--codecs", sharding)
r2 = zarrc("put", z, "--json", "-", stdin=json.dumps(data))
check(r.returncode == 0 and r2.returncode == 0, "setup zip: %s %s" % (r.stderr, r2.stderr))
n = os.path.join(ROOT, "n.zip")
for args in (("create", n, "--group"), ("create", n + "/g", "--group"),
             ("create", n + "/g/arr", "--dtype", "int32", "--shape", "8,10", "--chunks", "4,10", "--codecs", sharding)):
    r = zarrc(*args)
    check(r.returncode == 0, "setup %s: %s" % (" ".join(args), r.stderr))
r = zarrc("put", n + "/g/arr", "--json", "-", stdin=json.dumps(data))
check(r.returncode == 0, "setup zip node: %s" % r.stderr)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def start_python():
    port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=ROOT))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % port, srv.shutdown


def start_nginx():
    return nginx.start(ROOT, os.path.join(TMP, "nginx"))


def flat(x):
    return [v for row in x for v in row]


for server, start in (("http.server", start_python), ("nginx", start_nginx)):
    base, stop = start()
    try:
        for name in ("v3", "sharded", "v2"):
            r = zarrc("get", "%s/g/%s" % (base, name), "--json")
            ok = r.returncode == 0 and json.loads(r.stdout)["data"] == flat(data)
            check(ok, "%s: zarrc reads %s over HTTP: %s" % (server, name, r.stderr))
            r = zarrc("get", "%s/g/%s" % (base, name), "--select", "5,1:9:3", "--json")
            ok = r.returncode == 0 and json.loads(r.stdout)["data"] == data[5][1:9:3]
            check(ok, "%s: selection of %s: %s" % (server, name, r.stderr))
        r = zarrc("ls", base + "/g")
        # The v2 array is not in the v3 group's consolidated metadata, so HTTP cannot list it.
        check(r.returncode == 0 and "v3" in r.stdout and "sharded" in r.stdout and "v2" not in r.stdout,
              "%s: ls through consolidated metadata: %s %s" % (server, r.stdout, r.stderr))
        r = zarrc("get", base + "/a.zip", "--json")
        check(r.returncode == 0 and json.loads(r.stdout)["data"] == flat(data),
              "%s: zip archive over HTTP: %s" % (server, r.stderr))
        r = zarrc("get", base + "/n.zip/g/arr", "--json")
        check(r.returncode == 0 and json.loads(r.stdout)["data"] == flat(data),
              "%s: a node inside a zip archive over HTTP: %s" % (server, r.stderr))
        strict = dict(os.environ, ZARRC_HTTP_REQUIRE_RANGE="1")
        r = zarrc("get", base + "/g/sharded", "--json", env=strict)
        if server == "nginx":
            check(r.returncode == 0 and json.loads(r.stdout)["data"] == flat(data),
                  "nginx: sharded read with 206 required: %s" % r.stderr)
        else:
            check(r.returncode == 1 and "ignored the Range" in r.stderr,
                  "http.server: a 200 to a ranged request is refused when 206 is required: %s" % r.stderr)
        r = zarrc("get", base + "/g/missing")
        check(r.returncode == 1 and "not a Zarr node" in r.stderr, "%s: missing node: %s" % (server, r.stderr))
        r = zarrc("put", base + "/g/v3", "--select", "0,0", "--json", "-", stdin="5")
        check(r.returncode == 1 and "read-only" in r.stderr, "%s: writes refused: %s" % (server, r.stderr))
    finally:
        stop()

r = zarrc("get", "http://127.0.0.1:%d/g/v3" % free_port(), env=dict(os.environ, ZARRC_HTTP_RETRIES="1",
                                                                    ZARRC_HTTP_RETRY_BASE_MS="10"))
check(r.returncode == 1 and "Couldn't connect" in r.stderr, "unreachable server: %s" % r.stderr)

# libcurl (and libcrypto) are loaded when the first remote store opens, not at start: glibc's
# LD_DEBUG=libs lists every library the process loads.
r = zarrc("ls", g, env=dict(os.environ, LD_DEBUG="libs"))
check(r.returncode == 0 and "calling init" in r.stderr and "libcurl" not in r.stderr,
      "a local command loads no libcurl: %s" % r.stderr[-400:])
r = zarrc("get", "http://127.0.0.1:%d/g/v3" % free_port(),
          env=dict(os.environ, LD_DEBUG="libs", ZARRC_HTTP_RETRIES="0"))
check("libcurl" in r.stderr, "an http:// store loads libcurl: %s" % r.stderr[-400:])
r = zarrc("get", "http://127.0.0.1:%d/g/v3" % free_port(),
          env=dict(os.environ, ZARRC_LIBCURL="/nonexistent/libcurl.so.4"))
check(r.returncode == 1 and "need libcurl" in r.stderr and "/nonexistent/libcurl.so.4" in r.stderr
      and "cannot be loaded" in r.stderr, "libcurl missing: a clear error: %s" % r.stderr)
long_path = "/nonexistent/" + "d" * 600 + "/libcrypto.so.3"  # a message longer than any fixed buffer
r = zarrc("get", "http://127.0.0.1:%d/g/v3" % free_port(), env=dict(os.environ, ZARRC_LIBCRYPTO=long_path))
check(r.returncode == 1 and "need OpenSSL's libcrypto" in r.stderr and long_path in r.stderr,
      "libcrypto missing: the whole path in the error: %s" % r.stderr[:300])
print("http: %d checks, %d failed, %.1f s" % (CHECKS, len(FAILS), time.time() - t0))
sys.exit(1 if FAILS else 0)
