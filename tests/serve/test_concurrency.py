"""Concurrent writers through `zarrc serve`: 16 client processes x 100 requests (PATCH
?extend=true and PUT block+slice) at random offsets into one array whose chunks (and, for the
second array, shards) are shared by all writers. The final array must equal the sequential
model (every element written, shape = the maximum, 0 lost), and readers polling meanwhile must
never see a torn chunk or a value that no writer wrote, nor the shape shrink.
Usage: test_concurrency.py ZARRC TMPDIR"""
import http.client
import json
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.parse

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from serve_common import CHECKS, check, server  # noqa: E402

import zarr  # noqa: E402

NPROC, NREQ = 16, 100
HALF = NPROC * NREQ // 2  # indices below HALF exist from the start (PUT), the rest are appended (PATCH)
KEY = {"Authorization": "Apikey wk"}


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def request(c, method, path, body=None, headers=None):
    h = dict(KEY)
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    return r.status, r.read()


def writer(url, name, bs, p, seed, out):
    rnd = random.Random(seed)
    idx = [k * NPROC + p for k in range(NREQ)]
    rnd.shuffle(idx)
    c = conn(url)
    bad = []
    for i in idx:
        v = np.array([i + 1], dtype="<i8").tobytes()
        if i < HALF:
            blk, off = divmod(i, bs)  # bs: the block (chunk or shard) size the server reports
            st, body = request(c, "PUT", f"/api/v1/array/block/{name}?block={blk}&slice={off}:{off + 1}", v,
                               {"Content-Type": "application/octet-stream"})
        else:
            st, body = request(c, "PATCH", f"/api/v1/array/full/{name}?offset={i}&shape=1&extend=true", v,
                               {"Content-Type": "application/octet-stream"})
        if st != 200:
            bad.append((i, st, body[:200].decode(errors="replace")))
    out.put(("w", p, bad))


def reader(url, name, stop, out):
    c = conn(url)
    torn, reads, last_shape, shrunk = [], 0, 0, 0
    while not stop.is_set():
        st, body = request(c, "GET", f"/api/v1/metadata/{name}")
        if st != 200:
            torn.append(("meta", st))
            continue
        shape = json.loads(body)["data"]["attributes"]["structure"]["shape"][0]
        if shape < last_shape:
            shrunk += 1
        last_shape = max(last_shape, shape)
        st, body = request(c, "GET", f"/api/v1/array/full/{name}?slice=0:{shape}&expected_shape={shape}")
        if st != 200:
            torn.append(("read", st, body[:200]))
            continue
        a = np.frombuffer(body, "<i8")
        ok = (a == 0) | (a == np.arange(1, a.size + 1))
        if not ok.all():
            torn.append(("value", int(np.argmin(ok)), int(a[np.argmin(ok)])))
        reads += 1
    out.put(("r", reads, torn, shrunk))


def main():
    zarrc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    subprocess.run([zarrc, "create", root + "/plain", "--dtype", "int64", "--shape", str(HALF), "--chunks", "10"],
                   check=True)
    subprocess.run([zarrc, "create", root + "/sharded", "--dtype", "int64", "--shape", str(HALF), "--chunks", "40",
                    "--codecs", '[{"name":"sharding_indexed","configuration":{"chunk_shape":[10],'
                    '"codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd"}],'
                    '"index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}]}}]'],
                   check=True)
    t0 = time.time()
    with server(zarrc, root, "--quiet", keys={"wk": "rw"}) as (url, proc):
        for name in ("plain", "sharded"):
            c = conn(url)
            st, body = request(c, "GET", f"/api/v1/metadata/{name}")
            bs = json.loads(body)["data"]["attributes"]["structure"]["chunks"][0][0]
            check(bs == (10 if name == "plain" else 40), f"{name}: block size {bs}")
            out, stop = mp.Queue(), mp.Event()
            readers = [mp.Process(target=reader, args=(url, name, stop, out)) for _ in range(2)]
            writers = [mp.Process(target=writer, args=(url, name, bs, p, 1000 + p, out)) for p in range(NPROC)]
            for pr in readers + writers:
                pr.start()
            results = [out.get(timeout=120) for _ in writers]
            stop.set()
            results += [out.get(timeout=60) for _ in readers]
            for pr in readers + writers:
                pr.join(timeout=30)
            failed = [(p, b) for kind, p, b in (r for r in results if r[0] == "w") if b]
            check(not failed, f"{name}: failed requests {failed[:3]}")
            for kind, reads, torn, shrunk in (r for r in results if r[0] == "r"):
                check(not torn, f"{name}: reader saw {torn[:3]}")
                check(shrunk == 0, f"{name}: reader saw the shape shrink {shrunk} times")
                check(reads > 0, f"{name}: reader made no read")
            a = zarr.open_array(os.path.join(root, name), mode="r")
            check(a.shape == (NPROC * NREQ,), f"{name}: final shape {a.shape}")
            got = a[...]
            model = np.arange(1, NPROC * NREQ + 1, dtype="<i8")
            lost = int((got != model).sum())
            check(lost == 0, f"{name}: {lost} elements differ from the sequential model")
            print(f"{name}: {NPROC} writers x {NREQ} requests, {sum(r[1] for r in results if r[0] == 'r')} "
                  f"concurrent reads, 0 lost")
    print(f"serve.concurrency: {CHECKS[0]} checks passed in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
