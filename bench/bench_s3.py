"""bench/bench_s3.py — S3 reads and writes: zarrc vs zarr-python 3.4 (obstore) vs tensorstore
0.1.86 (s3 kvstore), same run, on moto and on OpenStack Swift (both on 127.0.0.1, started
here), optionally on s3s-fs (a Rust server: `s3s`; binary from $ZARRC_BENCH_S3S, built by
bench/bench_s3.sh; skipped with a message when missing), with and without 20 ms added to every
request (the fault proxy of tests/s3 as a delay line); and zarrc's throughput against
zarrc_set_io_concurrency under the 20 ms latency. Under the latency, the proxy also counts each
implementation's requests and TCP connections (all four operations and the array's creation).

Every table has a "limit" column: bench/bench_s3_limit.c (BENCH_S3_BINARY + "_limit", built by
bench_s3.sh) sends the same objects (chunk keys, sizes, bytes, request count) as raw signed
PUTs and GETs through one libcurl multi handle with the same number in flight — no Zarr, no
codec — the most a client gets from that server here; "best peer / limit" says whether
1.5 x the best peer is within what the server serves. Client CPU (user + system of the
process, for zarrc and the limit) is printed per operation.

    PEER_PYTHON bench/bench_s3.py BENCH_S3_BINARY SCRATCH [--n N] [--chunk C] [--runs R]
                                  [--conc K] [--servers moto,swift,s3s] [--scaling 1,4,16,64]

Array: N x N float32 (default 8192: 256 MiB), chunks C x C (default 1024: 4 MiB, 64 chunks),
codec "bytes" only (no compression: the store I/O is measured). Operations: write whole (one
call), read whole, write chunk by chunk (one call per chunk, in C order), read chunk by chunk.
Every implementation gets K requests in flight (default 16: zarrc_set_io_concurrency,
zarr's async.concurrency, tensorstore's s3_request_concurrency). Medians of R runs
(default 1). Prints markdown; `bench/bench_s3.sh` builds the binary and saves
bench/RESULTS-s3.md.
"""
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "s3"))
import servers  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

args = sys.argv[1:]
if len(args) < 2:
    print(__doc__)
    sys.exit(2)
BIN, SCRATCH = args[0], os.path.abspath(args[1])


def opt(name, dflt):
    return args[args.index(name) + 1] if name in args else dflt


N, C, RUNS, K = int(opt("--n", 8192)), int(opt("--chunk", 1024)), int(opt("--runs", 1)), int(opt("--conc", 16))
SERVERS = opt("--servers", "moto,swift").split(",")
SCALING = [int(x) for x in opt("--scaling", "1,4,16,64").split(",") if x]
os.makedirs(SCRATCH, exist_ok=True)
OPS = ["write whole", "read whole", "write chunks", "read chunks"]
BUCKET = "zarrc-bench"

import numpy as np  # noqa: E402
import obstore.store  # noqa: E402
import tensorstore as ts  # noqa: E402
import zarr  # noqa: E402
import zarr.storage  # noqa: E402

SRC = np.arange(N * N, dtype="float64").astype("float32").reshape(N, N)
G = N // C


class UnconditionalStore(zarr.storage.ObjectStore):
    """Swift refuses conditional PUT (501): create-if-absent as check-then-put (one writer)."""

    async def set_if_not_exists(self, key, value):
        if not await self.exists(key):
            await self.set(key, value)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_zarrpy(server, endpoint, key, secret, prefix):
    s3 = obstore.store.S3Store(BUCKET, prefix=prefix, endpoint=endpoint, access_key_id=key,
                               secret_access_key=secret, region="us-east-1",
                               client_options={"allow_http": True, "timeout": "120s"})
    st = (UnconditionalStore if server == "swift" else zarr.storage.ObjectStore)(s3)
    res = {op: [] for op in OPS}
    with zarr.config.set({"async.concurrency": K}):
        a = zarr.create_array(st, shape=(N, N), chunks=(C, C), dtype="float32", compressors=None,
                              filters=None, overwrite=True)
        for _ in range(RUNS):
            res["write whole"].append(timed(lambda: a.__setitem__(slice(None), SRC)))
            out = {}
            res["read whole"].append(timed(lambda: out.setdefault("x", a[:])))
            assert np.array_equal(out["x"], SRC)
            tw = tr = 0.0
            for i in range(G):
                for j in range(G):
                    blk = SRC[i * C:(i + 1) * C, j * C:(j + 1) * C]
                    tw += timed(lambda: a.__setitem__((slice(i * C, (i + 1) * C), slice(j * C, (j + 1) * C)), blk))
            for i in range(G):
                for j in range(G):
                    t = time.perf_counter()
                    got = a[i * C:(i + 1) * C, j * C:(j + 1) * C]
                    tr += time.perf_counter() - t
                    assert got[-1, -1] == SRC[(i + 1) * C - 1, (j + 1) * C - 1]
            res["write chunks"].append(tw)
            res["read chunks"].append(tr)
    return {op: statistics.median(v) for op, v in res.items()}


def run_ts(server, endpoint, key, secret, prefix):
    ctx = ts.Context({"s3_request_concurrency": {"limit": K}, "data_copy_concurrency": {"limit": 2}})
    spec = {"driver": "zarr3", "kvstore": {"driver": "s3", "bucket": BUCKET, "path": prefix + "/",
                                           "endpoint": endpoint, "aws_region": "us-east-1"},
            "metadata": {"shape": [N, N], "data_type": "float32",
                         "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [C, C]}},
                         "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}}
    a = ts.open(spec, create=True, delete_existing=True, context=ctx).result()
    res = {op: [] for op in OPS}
    for _ in range(RUNS):
        res["write whole"].append(timed(lambda: a.write(SRC).result()))
        out = {}
        res["read whole"].append(timed(lambda: out.setdefault("x", a.read().result())))
        assert np.array_equal(out["x"], SRC)
        tw = tr = 0.0
        for i in range(G):
            for j in range(G):
                blk = SRC[i * C:(i + 1) * C, j * C:(j + 1) * C]
                tw += timed(lambda: a[i * C:(i + 1) * C, j * C:(j + 1) * C].write(blk).result())
        for i in range(G):
            for j in range(G):
                t = time.perf_counter()
                got = a[i * C:(i + 1) * C, j * C:(j + 1) * C].read().result()
                tr += time.perf_counter() - t
                assert got[-1, -1] == SRC[(i + 1) * C - 1, (j + 1) * C - 1]
        res["write chunks"].append(tw)
        res["read chunks"].append(tr)
    return {op: statistics.median(v) for op, v in res.items()}


def run_c(binary, endpoint, key, secret, prefix, conc):
    """bench_s3 or bench_s3_limit: {op: seconds, "cpu": {op: client CPU seconds}}."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_ENDPOINT_URL=endpoint,
               AWS_REGION="us-east-1", HOME=SCRATCH)
    r = subprocess.run([binary, "s3://%s/%s" % (BUCKET, prefix), str(N), str(C), str(RUNS), str(conc)],
                       env=env, capture_output=True, text=True, timeout=3600)
    if r.returncode:
        raise RuntimeError(r.stderr.strip())
    rows = list(map(json.loads, r.stdout.splitlines()))
    res = {d["op"]: d["s"] for d in rows}
    res["cpu"] = {d["op"]: d["cpu_s"] for d in rows if "cpu_s" in d}
    return res


def run_zarrc(endpoint, key, secret, prefix, conc):
    return run_c(BIN, endpoint, key, secret, prefix, conc)


LIMIT_BIN = BIN + "_limit"
LIMIT = "limit (raw libcurl multi)"


def run_limit(endpoint, key, secret, prefix, conc):
    if not os.access(LIMIT_BIN, os.X_OK):
        raise RuntimeError("%s not built (bench/bench_s3.sh builds it)" % LIMIT_BIN)
    return run_c(LIMIT_BIN, endpoint, key, secret, prefix, conc)


def guard(fn, *a):
    try:
        return fn(*a)
    except Exception as e:  # a peer that cannot do it on this server: reported, not hidden
        print("  failed: %s: %s" % (fn.__name__, str(e)[:300]), file=sys.stderr, flush=True)
        return {"error": str(e)[:200]}


MB = N * N * 4 / 1e6
results = {}  # (server, latency) -> impl -> op -> s
traffic = {}  # server -> impl -> (requests, connections) at the 20 ms proxy
skipped = []
scaling = {}  # server -> conc -> op -> s
scaling_limit = {}  # the same for the limit
procs = []
try:
    for server in SERVERS:
        tmp = os.path.join(SCRATCH, server)
        os.makedirs(tmp, exist_ok=True)
        try:
            if server == "moto":
                endpoint, key, secret = servers.start_moto(tmp, procs, small_parts=False, atomic=False)
            elif server == "swift":
                endpoint, key, secret = servers.start_swift(tmp, procs)
            elif server == "s3s":
                endpoint, key, secret = servers.start_s3s(tmp, procs, os.environ.get("ZARRC_BENCH_S3S"))
            else:
                raise SystemExit("unknown server %r (moto, swift, s3s)" % server)
        except FileNotFoundError as e:
            print("SKIPPED %s: %s" % (server, e), file=sys.stderr, flush=True)
            skipped.append("%s: %s" % (server, e))
            continue
        os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1")
        proxy = FaultProxy(endpoint)
        # the bucket
        r = subprocess.run([BIN, "s3://%s/setup" % BUCKET, str(C), str(C), "1", "1"], capture_output=True, text=True,
                           env=dict(os.environ, AWS_ENDPOINT_URL=endpoint, HOME=SCRATCH))
        if r.returncode:
            raise SystemExit("bucket setup on %s: %s" % (server, r.stderr))
        for lat in (0.0, 0.02):
            proxy.delay = lat
            ep = proxy.url if lat else endpoint
            row = results.setdefault((server, lat), {})
            for impl, fn in (("zarrc", lambda p: run_zarrc(ep, key, secret, p, K)),
                             ("zarr-python 3.4 (obstore)", lambda p: run_zarrpy(server, ep, key, secret, p)),
                             ("tensorstore 0.1.86", lambda p: run_ts(server, ep, key, secret, p)),
                             (LIMIT, lambda p: run_limit(ep, key, secret, p, K))):
                t0 = time.time()
                print("[%s, +%d ms] %s ..." % (server, lat * 1000, impl), file=sys.stderr, flush=True)
                n0, c0 = len(proxy.log), proxy.connections
                row[impl] = guard(fn, "%s-%d" % (impl.split()[0], lat * 1000))
                if lat:
                    traffic.setdefault(server, {})[impl] = (len(proxy.log) - n0, proxy.connections - c0)
                print("  %.0f s: %s" % (time.time() - t0, row[impl]), file=sys.stderr, flush=True)
        proxy.delay = 0.02
        for conc in SCALING:
            print("[%s, +20 ms] zarrc with %d in flight ..." % (server, conc), file=sys.stderr, flush=True)
            scaling.setdefault(server, {})[conc] = guard(lambda p: run_zarrc(proxy.url, key, secret, p, conc),
                                                         "scale-%d" % conc)
            print("[%s, +20 ms] limit with %d in flight ..." % (server, conc), file=sys.stderr, flush=True)
            scaling_limit.setdefault(server, {})[conc] = guard(
                lambda p: run_limit(proxy.url, key, secret, p, conc), "limit-scale-%d" % conc)
        proxy.server.shutdown()
        servers.stop(procs)
        procs.clear()
finally:
    servers.stop(procs)


def cell(d, op):
    return "n/a" if "error" in d or op not in d else "%.2f s (%.0f MB/s)" % (d[op], MB / d[op])


print("Array %d x %d float32 (%.0f MB), chunks %d x %d (%d chunks of %.1f MB), codec bytes only; "
      "%d request(s) in flight for every implementation; median of %d run(s).\n"
      % (N, N, MB, C, C, G * G, C * C * 4 / 1e6, K, RUNS))
for (server, lat), row in results.items():
    print("\n### %s, %s\n" % (server, "+20 ms per request" if lat else "no added latency"))
    impls = list(row)
    # ratios of speeds (time of the other / time of the one named first)
    print("| operation | " + " | ".join(impls) + " | zarrc / best peer | best peer / limit | zarrc / limit |")
    print("|---" * (len(impls) + 4) + "|")
    lim = row.get(LIMIT, {})
    for op in OPS:
        peers = [row[i][op] for i in impls[1:] if i != LIMIT and op in row[i]]
        zc = row["zarrc"].get(op)
        ratio = "%.2f x" % (min(peers) / zc) if peers and zc else "n/a"
        peer_lim = "%.2f x" % (lim[op] / min(peers)) if peers and op in lim else "n/a"
        zc_lim = "%.2f x" % (lim[op] / zc) if zc and op in lim else "n/a"
        print("| %s | " % op + " | ".join(cell(row[i], op) for i in impls) + " | %s | %s | %s |"
              % (ratio, peer_lim, zc_lim))
    cpus = [(i, row[i]["cpu"]) for i in ("zarrc", LIMIT) if i in row and row[i].get("cpu")]
    if cpus:
        print("\nclient CPU (user + system): " + "; ".join(
            "%s: %s" % (i, ", ".join("%s %.2f s" % (op, c[op]) for op in OPS if op in c)) for i, c in cpus))
    errs = ["%s: %s" % (i, row[i]["error"]) for i in impls if "error" in row[i]]
    for e in errs:
        print("\nn/a: " + e)
for server, tr in traffic.items():
    print("\n### %s, +20 ms: requests and TCP connections at the proxy (create + the four operations)\n" % server)
    print("| implementation | requests | connections |")
    print("|---|---|---|")
    for impl, (nreq, nconn) in tr.items():
        print("| %s | %d | %d |" % (impl, nreq, nconn))
for s in skipped:
    print("\nskipped: " + s)
for server, sc in scaling.items():
    print("\n### zarrc on %s, +20 ms per request, against zarrc_set_io_concurrency\n" % server)
    print("| in flight | " + " | ".join(OPS) + " |")
    print("|---" * (len(OPS) + 1) + "|")
    for conc, d in sc.items():
        print("| %d | " % conc + " | ".join(cell(d, op) for op in OPS) + " |")
        lim = scaling_limit.get(server, {}).get(conc)
        if lim:
            print("| %d, limit | " % conc + " | ".join(cell(lim, op) for op in OPS) + " |")
