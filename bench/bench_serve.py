"""bench_serve.py — zarrc serve against tiled's own server (`tiled serve catalog --temp`) in the
same run, through the same tiled HTTP protocol: block reads, full reads, block writes and
PATCH-extend appends with 1, 4 and 16 concurrent client processes (raw keep-alive HTTP, so the
clients cost the same for both servers). Reports requests/s, p50/p99 latency, the server's peak
RSS, and for the appends how many writes were lost (read back and compared).

  python bench/bench_serve.py ZARRC [--seconds S] [--out bench/RESULTS-serve.md]

Needs the peer venv (tiled[server] 0.2.1, numpy): scripts/install-deps.sh venv-path."""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

KEY = "benchkey"
H = {"Authorization": f"Apikey {KEY}"}
BIG = (1024, 1024)       # float64, chunks 128x128: a block is 128 KiB
BIG_CHUNK = (128, 128)
SMALL = (64, 64)         # full reads: 32 KiB
APPEND = 64              # float64 elements per PATCH


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_up(port, proc, secs=90):
    t0 = time.time()
    while time.time() - t0 < secs:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api/v1/")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def rss_peak(pid):
    """VmHWM of the server and its children, in MiB."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        pids += [int(x) for x in out.split()]
    except Exception:
        pass
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def call(c, method, path, body=None, ctype=None):
    h = dict(H)
    if body is not None:
        h["Content-Type"] = ctype or "application/octet-stream"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    return r.status, r.read()


def create(port, key, shape, chunks):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    st = {"data_type": {"endianness": "little", "kind": "f", "itemsize": 8, "dt_units": None},
          "chunks": [[ch] * (n // ch) + ([n % ch] if n % ch else []) for n, ch in zip(shape, chunks)],
          "shape": list(shape), "dims": None, "resizable": False}
    body = {"metadata": {}, "structure_family": "array", "specs": [], "id": key, "access_blob": {},
            "data_sources": [{"structure_family": "array", "structure": st, "id": None, "mimetype": None,
                              "parameters": {}, "assets": [], "management": "writable"}]}
    s, b = call(c, "POST", "/api/v1/metadata/", json.dumps(body).encode(), "application/json")
    if s != 200:
        raise RuntimeError(f"create {key}: {s} {b[:300]}")
    return c


def worker(port, workload, cid, nclients, seconds, q):
    log = f"log{nclients}"
    rnd = random.Random(cid)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    lat, errors, k, done = [], 0, 0, []
    blk = np.full(BIG_CHUNK, float(cid), dtype="<f8").tobytes()
    nb = BIG[0] // BIG_CHUNK[0]
    t_end = time.time() + seconds
    while time.time() < t_end:
        t0 = time.perf_counter()
        if workload == "block read":
            s, b = call(c, "GET", f"/api/v1/array/block/big?block={rnd.randrange(nb)},{rnd.randrange(nb)}"
                                  f"&expected_shape={BIG_CHUNK[0]},{BIG_CHUNK[1]}")
            ok = s == 200 and len(b) == len(blk)
        elif workload == "full read":
            s, b = call(c, "GET", f"/api/v1/array/full/small?expected_shape={SMALL[0]},{SMALL[1]}")
            ok = s == 200 and len(b) == SMALL[0] * SMALL[1] * 8
        elif workload == "block write":
            s, b = call(c, "PUT", f"/api/v1/array/block/big?block={rnd.randrange(nb)},{rnd.randrange(nb)}", blk)
            ok = s == 200
        else:  # PATCH-extend appends at distinct offsets: segment k*nclients+cid
            seg = 16 + k * nclients + cid
            data = np.full(APPEND, seg + 1, dtype="<f8").tobytes()
            s, b = call(c, "PATCH", f"/api/v1/array/full/{log}?offset={seg * APPEND}&shape={APPEND}&extend=true", data)
            ok = s == 200
            if ok:
                done.append(seg)
        lat.append(time.perf_counter() - t0)
        errors += not ok
        k += 1
    q.put((lat, errors, k, done))


def run_server(kind, zarrc, tmp, port):
    if kind == "zarrc serve":
        root = os.path.join(tmp, "zroot")
        os.makedirs(root, exist_ok=True)
        kf = os.path.join(tmp, "keys")
        open(kf, "w").write(f"{KEY} rw\n")
        cmd = [zarrc, "serve", root, "--listen", f"127.0.0.1:{port}", "--api-keys", kf, "--quiet"]
    else:
        shim = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiled_shim.py")
        cmd = [sys.executable, shim, "serve", "catalog", "--temp", "--api-key", KEY, "--port", str(port), "--host", "127.0.0.1"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, kind.replace(" ", "_") + ".log"), "w"),
                         cwd=tmp, start_new_session=True)
    wait_up(port, p)
    return p


def bench_one(kind, zarrc, tmp, seconds, concs):
    port = free_port()
    p = run_server(kind, zarrc, tmp, port)
    rows = []
    try:
        c = create(port, "big", BIG, BIG_CHUNK)
        # fill the big array block by block, the small one at once
        for i in range(BIG[0] // BIG_CHUNK[0]):
            for j in range(BIG[1] // BIG_CHUNK[1]):
                s, b = call(http.client.HTTPConnection("127.0.0.1", port, timeout=120), "PUT", f"/api/v1/array/block/big?block={i},{j}",
                            np.full(BIG_CHUNK, i * 10 + j, "<f8").tobytes())
                assert s == 200, (s, b)
        create(port, "small", SMALL, SMALL)
        s, b = call(http.client.HTTPConnection("127.0.0.1", port, timeout=120), "PUT", "/api/v1/array/full/small", np.arange(SMALL[0] * SMALL[1], dtype="<f8").tobytes())
        assert s == 200, (s, b)
        for workload in ("block read", "full read", "block write", "patch append"):
            for n in concs:
                if workload == "patch append":
                    create(port, f"log{n}", (APPEND * 16,), (APPEND * 16,))  # appends start past it
                q = mp.Queue()
                procs = [mp.Process(target=worker, args=(port, workload, i, n, seconds, q)) for i in range(n)]
                t0 = time.time()
                for pr in procs:
                    pr.start()
                res = [q.get(timeout=seconds + 300) for _ in procs]
                for pr in procs:
                    pr.join()
                wall = time.time() - t0
                lat = np.sort(np.concatenate([np.array(r[0]) for r in res]))
                nreq = int(sum(r[2] for r in res))
                errors = int(sum(r[1] for r in res))
                lost = ""
                if workload == "patch append":
                    segs = sorted(x for r in res for x in r[3])
                    want = (segs[-1] + 1) * APPEND if segs else 0
                    s, b = call(http.client.HTTPConnection("127.0.0.1", port, timeout=120), "GET", f"/api/v1/metadata/log{n}")
                    shape = json.loads(b)["data"]["attributes"]["structure"]["shape"][0]
                    s, b = call(http.client.HTTPConnection("127.0.0.1", port, timeout=120), "GET", f"/api/v1/array/full/log{n}?expected_shape={shape}")
                    got = np.frombuffer(b, "<f8") if s == 200 else np.zeros(0)
                    lostn = sum(1 for seg in segs if not (got[seg * APPEND:(seg + 1) * APPEND] == seg + 1).all()
                                or got[seg * APPEND:(seg + 1) * APPEND].size != APPEND)
                    lost = f"{lostn} of {len(segs)}" + (f" (shape {shape}, should be {want})" if shape != want else "")
                rows.append(dict(server=kind, workload=workload, clients=n, reqs=nreq, rps=nreq / seconds,
                                 p50=float(lat[len(lat) // 2]) * 1e3 if len(lat) else 0,
                                 p99=float(lat[min(len(lat) - 1, int(len(lat) * 0.99))]) * 1e3 if len(lat) else 0,
                                 errors=errors, lost=lost, rss=rss_peak(p.pid), wall=wall))
                print(json.dumps(rows[-1]), flush=True)
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("zarrc")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    concs = [int(x) for x in a.clients.split(",")]
    tmp = tempfile.mkdtemp(prefix="bench_serve_")
    try:
        rows = bench_one("zarrc serve", a.zarrc, tmp, a.seconds, concs) + bench_one("tiled serve", a.zarrc, tmp, a.seconds, concs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    lines = [f"| workload | clients | zarrc req/s | tiled req/s | ratio | zarrc p50/p99 ms | tiled p50/p99 ms | "
             f"zarrc lost | tiled lost | errors z/t |", "|---|---|---|---|---|---|---|---|---|---|"]
    for w in ("block read", "full read", "block write", "patch append"):
        for n in concs:
            z = next(r for r in rows if r["server"] == "zarrc serve" and r["workload"] == w and r["clients"] == n)
            t = next(r for r in rows if r["server"] == "tiled serve" and r["workload"] == w and r["clients"] == n)
            ratio = z["rps"] / t["rps"] if t["rps"] else float("inf")
            lines.append(f"| {w} | {n} | {z['rps']:.0f} | {t['rps']:.0f} | {ratio:.1f}x | {z['p50']:.2f} / {z['p99']:.2f} | "
                         f"{t['p50']:.2f} / {t['p99']:.2f} | {z['lost'] or '-'} | {t['lost'] or '-'} | "
                         f"{z['errors']}/{t['errors']} |")
    zr = max(r["rss"] for r in rows if r["server"] == "zarrc serve")
    tr = max(r["rss"] for r in rows if r["server"] == "tiled serve")
    lines.append("")
    lines.append(f"Peak server RSS: zarrc serve {zr:.0f} MiB, tiled serve {tr:.0f} MiB. "
                 f"Load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}.")
    print("\n".join(lines))
    if a.out:
        with open(a.out + ".table", "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(a.out + ".json", "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
