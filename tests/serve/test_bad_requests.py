"""Every malformed request to `zarrc serve` gets the right 4xx with a JSON {"detail": ...} body
and Content-Type application/json — never a 5xx, never a crash (this suite also runs in the
ASan/UBSan build: it needs only Debian's python3 and the zarrc binary). Covers slices, blocks,
expected shapes, PATCH offset/shape/extend, body lengths, unknown nodes, API keys, path escapes
(.., %2e%2e, absolute, symlinks, internal files), POST bodies, oversize bodies (Content-Length
and chunked), methods, formats, response limits, Range headers, slow clients.
Usage: test_bad_requests.py ZARRC TMPDIR"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from serve_common import CHECKS, check, server, stop  # noqa: E402

zarrc, tmp = sys.argv[1], sys.argv[2]
shutil.rmtree(tmp, ignore_errors=True)
root = os.path.join(tmp, "root")
os.makedirs(root)
os.makedirs(os.path.join(tmp, "outside", "arr"))
subprocess.run([zarrc, "create", root + "/a", "--dtype", "float64", "--shape", "10,4", "--chunks", "3,2"], check=True)
subprocess.run([zarrc, "create", root + "/g", "--group"], check=True)
subprocess.run([zarrc, "create", root + "/big", "--dtype", "uint8", "--shape", "5000", "--chunks", "1000"], check=True)
subprocess.run([zarrc, "create", os.path.join(tmp, "outside", "arr"), "--dtype", "int8", "--shape", "3",
                "--overwrite"], check=True)
os.symlink(os.path.join(tmp, "outside"), os.path.join(root, "out"))
# Symbolic links below an array's directory (the tiled face's chunk I/O runs in the library):
# a chunk key linked to a file outside, a chunk directory linked outside, a shard linked
# outside, and a chunk linked to another array's chunk inside ROOT (allowed).
with open(os.path.join(tmp, "outside", "secret-chunk"), "wb") as f:
    f.write(b"S" * 16)
for name, extra in [("lchunk", []), ("ldir", []), ("lshard", ["--codecs", json.dumps([{"name": "sharding_indexed", "configuration": {
                 "chunk_shape": [1], "codecs": [{"name": "bytes"}],
                 "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}}])]), ("linside", [])]:
    subprocess.run([zarrc, "create", root + "/" + name, "--dtype", "uint8", "--shape", "8",
                    "--chunks", "4" if extra else "2", *extra], check=True)
    subprocess.run([zarrc, "put", root + "/" + name, "--json", "-"], input=b"[1,2,3,4,5,6,7,8]", check=True)
os.remove(os.path.join(root, "lchunk", "c", "1"))
os.symlink(os.path.join(tmp, "outside", "secret-chunk"), os.path.join(root, "lchunk", "c", "1"))
os.makedirs(os.path.join(tmp, "outside", "cdir"))
shutil.rmtree(os.path.join(root, "ldir", "c"))
os.symlink(os.path.join(tmp, "outside", "cdir"), os.path.join(root, "ldir", "c"))
os.remove(os.path.join(root, "lshard", "c", "0"))
os.symlink(os.path.join(tmp, "outside", "secret-chunk"), os.path.join(root, "lshard", "c", "0"))
os.remove(os.path.join(root, "linside", "c", "3"))
os.symlink(os.path.join(root, "lchunk", "c", "0"), os.path.join(root, "linside", "c", "3"))
with open(os.path.join(root, ".zarrc-secret"), "w") as f:
    f.write("SECRETCONTENT")

W = {"Authorization": "Apikey wkey"}


def req(url, method, path, body=None, headers=None):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.putrequest(method, path, skip_accept_encoding=True)
    h = dict(headers if headers is not None else W)
    if body is not None and "Content-Length" not in h:
        h["Content-Length"] = str(len(body))
    for k, v in h.items():
        c.putheader(k, v)
    c.endheaders()
    if body:
        c.send(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data, {k.lower(): v for k, v in r.getheaders()}


def bad(url, method, path, want, body=None, headers=None, contains=None):
    st, data, h = req(url, method, path, body, headers)
    check(st == want, f"{method} {path}: status {st}, wanted {want}: {data[:300]!r}")
    check(h.get("content-type") == "application/json", f"{method} {path}: status {st} content-type {h.get('content-type')} {h}")
    try:
        detail = json.loads(data)["detail"]
    except Exception:
        detail = None
    check(isinstance(detail, str) and detail, f"{method} {path}: no detail in {data[:200]!r}")
    if contains:
        check(contains in detail, f"{method} {path}: detail {detail!r} lacks {contains!r}")
    return detail


A = "/api/v1/array/full/a"
B = "/api/v1/array/block/a"
f8 = lambda n: b"\0" * (8 * n)  # noqa: E731

with server(zarrc, root, "--max-body", "100000", keys={"wkey": "rw", "rkey": "ro"}) as (url, proc):
    # slices
    for s in ["a:b", "1:2:3:4", "x", "1:2:0", ",", "1,,2", "99999999999999999999", "1,2,3",
              "--1", "1:2:-9223372036854775808", "1e3"]:
        want = 400 if s in ("1,2,3",) else 422
        bad(url, "GET", f"{A}?slice={urllib.parse.quote(s)}", want)
    bad(url, "GET", f"{A}?slice=10", 400, contains="out of bounds")
    bad(url, "GET", f"{A}?slice=-11", 400)
    bad(url, "GET", f"{A}?slice=" + ",".join(["0"] * 70), 422)
    # blocks
    for b in ["", "a", "1", "1,2,3", "-1,0", "4,0", "0,2", "1.5,0", "99999999999999999999,0", "0,,"]:
        bad(url, "GET", f"{B}?block={urllib.parse.quote(b)}", 422)
    bad(url, "GET", B, 422, contains="block")
    bad(url, "PUT", f"{B}?block=9,9", 422, body=f8(6))
    # expected_shape
    bad(url, "GET", f"{A}?expected_shape=10,5", 422)
    bad(url, "GET", f"{A}?expected_shape=abc", 422)
    bad(url, "GET", f"{A}?expected_shape=scalar", 422)
    bad(url, "GET", f"{B}?block=0,0&expected_shape=3,3", 422)
    # formats
    bad(url, "GET", f"{A}?format=text/csv", 406)
    # PATCH
    bad(url, "PATCH", f"{A}?shape=1,4", 422, body=f8(4))
    bad(url, "PATCH", f"{A}?offset=10", 422, body=f8(4))
    bad(url, "PATCH", f"{A}?offset=x&shape=1,4", 422, body=f8(4))
    bad(url, "PATCH", f"{A}?offset=10&shape=1", 422, body=f8(1))
    bad(url, "PATCH", f"{A}?offset=10&shape=1,4,1", 422, body=f8(4))
    bad(url, "PATCH", f"{A}?offset=1,2,3&shape=1,4", 422, body=f8(4))
    bad(url, "PATCH", f"{A}?offset=-1&shape=1,4", 422, body=f8(4))
    bad(url, "PATCH", f"{A}?offset=10&shape=1,4&extend=maybe", 422, body=f8(4))
    bad(url, "PATCH", f"{A}?offset=10&shape=1,4&extend=true", 422, body=f8(3))
    bad(url, "PATCH", f"{A}?offset=9223372036854775807&shape=1,4&extend=true", 422, body=f8(4))
    bad(url, "PATCH", f"{A}?offset=10&shape=1,4&extend=false", 409, body=f8(4),
        contains="does not fit within current array shape (10, 4). Use ?extend=true")
    bad(url, "PATCH", f"{A}?offset=9223372036854775000&shape=1,4&extend=true", 400, body=f8(4))
    # PUT body length
    bad(url, "PUT", A, 422, body=f8(39))
    bad(url, "PUT", A, 422, body=b"")
    bad(url, "PUT", f"{B}?block=0,0", 422, body=f8(5))
    bad(url, "PUT", f"{B}?block=3,1", 422, body=f8(4))  # the edge block holds 1x2 elements
    bad(url, "PUT", f"{A}?slice=0:4:2", 422, body=f8(8), contains="steps")
    # unknown nodes and wrong kinds
    bad(url, "GET", "/api/v1/metadata/nope", 404, contains="No such entry: ['nope']")
    bad(url, "GET", "/api/v1/metadata/g/x/y", 404, contains="No such entry: ['g', 'x', 'y']")
    bad(url, "GET", "/api/v1/array/full/nope", 404)
    bad(url, "GET", "/api/v1/array/full/g", 404)
    bad(url, "GET", "/api/v1/search/a", 404)
    bad(url, "GET", "/api/v1/search/?page[offset]=x", 422)
    bad(url, "GET", "/api/v1/nothing/here", 404)
    bad(url, "GET", "/elsewhere", 404)
    bad(url, "DELETE", "/api/v1/metadata/nope", 404)
    bad(url, "DELETE", "/api/v1/metadata/", 405)
    bad(url, "POST", A, 405, body=b"{}")
    bad(url, "PATCH", "/api/v1/metadata/a", 405, body=b"{}")
    bad(url, "POST", "/zarr/a/zarr.json", 405, body=b"x")
    # keys
    bad(url, "GET", "/api/v1/metadata/a", 401, headers={})
    bad(url, "GET", "/api/v1/metadata/a", 401, headers={"Authorization": "Apikey nope"}, contains="Invalid API key")
    bad(url, "GET", "/api/v1/metadata/a", 401, headers={"Authorization": "Bearer xyz"})
    bad(url, "GET", "/api/v1/metadata/a", 401, headers={"Authorization": "Apikey "})
    bad(url, "PUT", A, 403, body=f8(40), headers={"Authorization": "Apikey rkey"})
    bad(url, "PATCH", f"{A}?offset=0&shape=1,4", 403, body=f8(4), headers={"Authorization": "Apikey rkey"})
    bad(url, "POST", "/api/v1/metadata/", 403, body=b"{}", headers={"Authorization": "Apikey rkey"})
    bad(url, "DELETE", "/api/v1/metadata/a", 403, headers={"Authorization": "Apikey rkey"})
    # escapes
    for p in ["/api/v1/metadata/../a", "/api/v1/metadata/g/../../x", "/api/v1/metadata/%2e%2e/x",
              "/api/v1/metadata/a/%2E%2E/%2E%2E/outside", "/api/v1/metadata/out/arr", "/api/v1/array/full/out/arr",
              "/api/v1/metadata/.zarrc-secret", "/zarr/.zarrc-secret", "/zarr/out/arr/zarr.json", "/zarr/../x",
              "/zarr/%2e%2e/outside/arr/zarr.json", "/zarr/a/%252e%252e/x", "/api/v1/metadata/a%00b",
              "/zarr/a\\..\\x", "/api/v1/metadata/%2e"]:
        detail = bad(url, "GET", p, 404 if "out/" in p else 400)
        check("SECRETCONTENT" not in detail, f"{p}: internal file content leaked")
    st, data, _ = req(url, "GET", "//etc/passwd")
    check(st == 404, "absolute path")
    st, data, _ = req(url, "GET", "/zarr//etc/passwd")
    check(st == 404 and b"root:" not in data, "absolute path under /zarr")
    bad(url, "DELETE", "/api/v1/metadata/out/arr", 404)
    check(os.path.exists(os.path.join(tmp, "outside", "arr", "zarr.json")), "nothing deleted outside ROOT")
    # symlinks below an array's directory, on every route: refused (403), never followed out
    octet = {"Accept": "application/octet-stream", **W}
    for path in ["/api/v1/array/full/lchunk", "/api/v1/array/block/lchunk?block=1", "/api/v1/array/full/lshard",
                 "/api/v1/array/block/lshard?block=0", "/api/v1/array/full/lchunk?slice=2:4"]:
        detail = bad(url, "GET", path, 403, headers=octet, contains="symbolic link")
        check("SSSS" not in detail, f"{path}: outside content leaked")
    bad(url, "GET", "/zarr/lchunk/c/1", 404)
    bad(url, "PUT", "/api/v1/array/block/lchunk?block=1", 403, body=bytes([9, 9]), contains="symbolic link")
    bad(url, "PUT", "/api/v1/array/full/ldir", 403, body=bytes(8), contains="symbolic link")
    bad(url, "PATCH", "/api/v1/array/full/ldir?offset=8&shape=2&extend=true", 403, body=bytes([1, 2]),
        contains="symbolic link")
    bad(url, "GET", "/api/v1/array/full/ldir", 403, headers=octet, contains="symbolic link")
    with open(os.path.join(tmp, "outside", "secret-chunk"), "rb") as f:
        check(f.read() == b"S" * 16, "the file outside ROOT is unchanged")
    check(os.listdir(os.path.join(tmp, "outside", "cdir")) == [], "nothing written into the directory outside ROOT")
    st, data, _ = req(url, "GET", "/api/v1/array/full/linside", headers=octet)
    check(st == 200 and data == bytes([1, 2, 3, 4, 5, 6, 1, 2]), f"a link inside ROOT is followed: {st} {data[:40]!r}")
    st, data, _ = req(url, "GET", "/api/v1/array/full/lchunk?slice=0:2", headers=octet)
    check(st == 200 and data == bytes([1, 2]), f"chunks not behind the link still read: {st} {data[:40]!r}")
    # POST bodies
    P = "/api/v1/metadata/"
    arr = lambda st, **kw: json.dumps({"structure_family": "array", "id": kw.get("id", "n"), "metadata": {},  # noqa
                                       "data_sources": [{"structure": st}]}).encode()
    dt = {"endianness": "little", "kind": "f", "itemsize": 8, "dt_units": None}
    good = {"data_type": dt, "chunks": [[2, 2]], "shape": [4], "dims": None, "resizable": False}
    for body in [b"", b"not json", b"[1,2]", b"{\"a\":", b"{} trailing", b"\"str\"", b"{\"id\": 5}",
                 b"{\"structure_family\": \"table\"}", b"{\"structure_family\": \"array\"}",
                 b"{\"structure_family\": \"array\", \"data_sources\": []}",
                 b"{\"metadata\": [1]}", b"[" * 5000]:
        bad(url, "POST", P, 422, body=body)
    for st in [dict(good, data_type=dict(dt, kind="z")), dict(good, data_type=dict(dt, itemsize=3)),
               dict(good, data_type=dict(dt, itemsize=-1)), dict(good, data_type=dict(dt, endianness="middle")),
               dict(good, data_type={"itemsize": 8, "fields": []}), dict(good, data_type=dict(dt, kind="M")),
               dict(good, shape=[-4]), dict(good, shape=[4.5]), dict(good, shape="4"),
               dict(good, chunks=[[0, 4]]), dict(good, chunks=[[4, 0]]), dict(good, chunks=[[2, 1]]), dict(good, chunks=[[2, 2], [1]]),
               dict(good, chunks=[[-2, 6]]), dict(good, dims=["a", "b"]), dict(good, dims=[1]),
               dict(good, shape=[1] * 65, chunks=[[1]] * 65)]:
        bad(url, "POST", P, 422, body=arr(st))
    for key in ["a/b", "..", ".", ".zarrc-x", "zarr.json", "", "x" * 300, "bad\nkey"]:
        bad(url, "POST", P, 422, body=arr(good, id=key))
    # uneven declared chunks make a rectilinear grid (not an error)
    st, data, _ = req(url, "POST", P, arr(dict(good, chunks=[[1, 3]]), id="irr"))
    check(st == 200, f"POST with uneven chunks: {st} {data[:200]!r}")
    st, data, _ = req(url, "GET", "/api/v1/metadata/irr", None, W)
    got = json.loads(data)["data"]["attributes"]["structure"]["chunks"] if st == 200 else None
    check(got == [[1, 3]], f"the uneven chunks are kept: {st} {got}")
    bad(url, "POST", P, 409, body=arr(good, id="a"), contains="/a")
    bad(url, "POST", "/api/v1/metadata/a", 405, body=arr(good))
    bad(url, "POST", "/api/v1/metadata/nope", 404, body=arr(good))
    # oversize bodies: declared, chunked, and a response over the limit
    bad(url, "PUT", A, 413, body=b"\0" * 100001)
    bad(url, "PUT", A, 413, body=b"", headers=dict(W, **{"Content-Length": "200000"}))
    # A Content-Length beyond 2^64 is refused by libmicrohttpd itself (its own 413 page, not JSON).
    st, data, _ = req(url, "PUT", A, b"", dict(W, **{"Content-Length": "99999999999999999999999"}))
    check(st == 413, f"Content-Length beyond 2^64: {st}")
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("PUT", "/zarr/chunked", body=iter([b"x" * 60000, b"y" * 60000]), headers=W, encode_chunked=True)
    r = c.getresponse()
    check(r.status == 413 and json.loads(r.read())["detail"], f"chunked oversize body: {r.status}")
    c.close()
    check(not os.path.exists(os.path.join(root, "chunked")), "oversize body not stored")
    st, data, _ = req(url, "GET", "/api/v1/array/full/big")
    check(st == 200 and len(data) == 5000, "5000-byte response is under the 100000-byte limit")
    subprocess.run([zarrc, "create", root + "/huge", "--dtype", "float64", "--shape", "100000", "--chunks", "10000"],
                   check=True)
    bad(url, "GET", "/api/v1/array/full/huge", 400, contains="limit")
    bad(url, "GET", "/api/v1/array/full/huge?slice=0:20000", 400)
    st, data, _ = req(url, "GET", "/api/v1/array/full/huge?slice=0:100")
    check(st == 200 and len(data) == 800, "a slice under the limit")
    # Range headers that are not satisfiable or not understood
    bad(url, "GET", "/zarr/a/zarr.json", 416, headers=dict(W, Range="bytes=999999-"))
    bad(url, "GET", "/zarr/a/zarr.json", 416, headers=dict(W, Range="bytes=-0"))
    for rg in ["bytes=5-2", "bytes=a-b", "items=0-5", "bytes=0-1,3-4", "bytes=--5", "bytes=99999999999999999999-"]:
        st, data, h = req(url, "GET", "/zarr/a/zarr.json", headers=dict(W, Range=rg))
        check(st == 200 and data.startswith(b"{"), f"Range {rg!r} ignored: {st}")
    # a slow client is dropped after --timeout (here the 2 s server below); the server lives on
    st, data, _ = req(url, "GET", "/healthz")
    check(st == 200, "still healthy after the bad requests")
    check(stop(proc) == 0, "graceful stop exits 0")

with server(zarrc, root, "--timeout", "1", "--public", keys={"wkey": "rw"}) as (url, proc):
    u = urllib.parse.urlparse(url)
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    s.sendall(b"PUT /zarr/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Apikey wkey\r\nContent-Length: 100\r\n\r\nabc")
    t0 = time.time()
    try:
        got = s.recv(4096)
    except (ConnectionResetError, socket.timeout):
        got = b""
    check(time.time() - t0 < 8, f"stuck client dropped after {time.time() - t0:.1f} s")
    check(not os.path.exists(os.path.join(root, "slow")), "the partial body was not stored")
    s.close()
    st, data, _ = req(url, "GET", "/healthz", headers={})
    check(st == 200, "healthy after a stuck client")
    # usage errors of the verb itself
for args, code in [([], 2), ([root], 2), ([root, "--public", "--listen", "nonsense"], 1),
                   ([root, "--public", "--max-body", "0"], 2), ([root, "--api-keys", "/nonexistent"], 1),
                   ([os.path.join(tmp, "missing-root"), "--public"], 1)]:
    p = subprocess.run([zarrc, "serve", *args], capture_output=True, text=True, timeout=20)
    check(p.returncode == code and "zarrc" in p.stderr, f"zarrc serve {args}: exit {p.returncode}: {p.stderr}")
kf = os.path.join(tmp, "badkeys")
for content in ["key-with-dash rw\n", "k rx\n", "k rw extra\n", "\n# only a comment\n"]:
    with open(kf, "w") as f:
        f.write(content)
    p = subprocess.run([zarrc, "serve", root, "--api-keys", kf], capture_output=True, text=True, timeout=20)
    check(p.returncode == 1 and "api-keys" in p.stderr, f"key file {content!r}: {p.returncode} {p.stderr}")
print(f"serve.bad_requests: {CHECKS[0]} checks passed")
