"""bench/bench_s3_multi.py — zarrc's HTTP client with libcurl multi (ZARRC_HTTP_MULTI=1, the
default) against the direct easy perform (ZARRC_HTTP_MULTI=0), and the limit tool, on one
server: per number in flight, bench_s3's four operations (median seconds and client CPU of
RUNS runs), the process's wall/user/system time and page faults (/usr/bin/time), the most
threads seen in /proc, the requests and new connections in ZARRC_HTTP_TRACE, and the
connections the latency proxy accepted. What docs/stores.md ("Requests in flight") quotes.

    PEER_PYTHON bench/bench_s3_multi.py BUILD_BENCH_DIR moto|s3s [--n N] [--chunk C]
                [--runs R] [--conc 16,64] [--latency SECONDS]

BUILD_BENCH_DIR holds bench_s3 and bench_s3_limit (bench/bench_s3.sh builds them there,
build-bench/); s3s-fs from $ZARRC_BENCH_S3S (default ~/.cache/zarrc/bench-s3s-fs/bin/s3s-fs).
--latency 0 (default 0.02) talks to the server directly.
"""
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "s3"))
import servers  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

args = sys.argv[1:]
if len(args) < 2:
    print(__doc__)
    sys.exit(2)
BUILD, SERVER = os.path.abspath(args[0]), args[1]


def opt(name, dflt):
    return args[args.index(name) + 1] if name in args else dflt


N, C, RUNS = int(opt("--n", 8192)), int(opt("--chunk", 1024)), opt("--runs", "3")
CONC = [int(x) for x in opt("--conc", "16,64").split(",")]
LAT = float(opt("--latency", 0.02))
TMP = os.path.join(BUILD, "s3-multi-scratch", SERVER)
os.makedirs(TMP, exist_ok=True)
BIN, LIMIT = os.path.join(BUILD, "bench_s3"), os.path.join(BUILD, "bench_s3_limit")


def run(binary, k, multi, env0, proxy):
    env = dict(env0, ZARRC_HTTP_TRACE="1", ZARRC_HTTP_MULTI=multi)
    c0 = proxy.connections if proxy else 0
    p = subprocess.Popen(["/usr/bin/time", "-f", "TIME %e %U %S %R", binary,
                          "s3://zarrc-bench/multi-%d-%s-%s" % (k, multi, os.path.basename(binary)), str(N), str(C),
                          RUNS, str(k)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():  # the benchmark process is /usr/bin/time's child
        while p.poll() is None:
            try:
                for kid in open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split():
                    peak[0] = max(peak[0], len(os.listdir("/proc/%s/task" % kid)))
            except OSError:
                pass
            time.sleep(0.02)

    th = threading.Thread(target=sample)
    th.start()
    out, err = p.communicate()
    th.join()
    if p.returncode:
        raise SystemExit("%s failed: %s" % (binary, err[-1000:]))
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    trace = [line.split() for line in err.splitlines() if line.startswith("zarrc http: [")]
    new_conn = sum(int(t[t.index("new_conn") + 1]) for t in trace)
    wall, user, sys_, faults = [line for line in err.splitlines() if line.startswith("TIME")][0].split()[1:]
    name = "limit" if binary == LIMIT else "zarrc, ZARRC_HTTP_MULTI=%s" % multi
    ops = "; ".join("%s %.2f s (CPU %.2f s)" % (d["op"], d["s"], d["cpu_s"]) for d in rows)
    traced = "%d requests, %d new connections in the trace" % (len(trace), new_conn) if trace else "no trace"
    print("| %d | %s | %s | %s s, user %s s, sys %s s, %s minor faults | %d | %s | %s |"
          % (k, name, ops, wall, user, sys_, faults, peak[0], traced,
             proxy.connections - c0 if proxy else "-"), flush=True)


procs = []
try:
    if SERVER == "s3s":
        binary = os.environ.get("ZARRC_BENCH_S3S") or os.path.expanduser("~/.cache/zarrc/bench-s3s-fs/bin/s3s-fs")
        endpoint, key, secret = servers.start_s3s(TMP, procs, binary)
    elif SERVER == "moto":
        endpoint, key, secret = servers.start_moto(TMP, procs, small_parts=False, atomic=False)
    else:
        raise SystemExit("server: moto or s3s")
    env0 = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env0.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1", HOME=TMP,
                AWS_ENDPOINT_URL=endpoint)
    r = subprocess.run([BIN, "s3://zarrc-bench/setup", str(C), str(C), "1", "1"], env=env0, capture_output=True,
                       text=True)
    if r.returncode:
        raise SystemExit("bucket setup: %s" % r.stderr)
    proxy = None
    if LAT:
        proxy = FaultProxy(endpoint)
        proxy.delay = LAT
        env0["AWS_ENDPOINT_URL"] = proxy.url
    print("%s, %s; array %d x %d float32, chunks %d x %d, median of %s runs; load average before: %s\n"
          % (SERVER, "+%d ms proxy" % (LAT * 1000) if LAT else "direct", N, N, C, C, RUNS,
             open("/proc/loadavg").read().split()[:3]))
    print("| in flight | client | operations | process | most threads | trace | proxy connections |")
    print("|---|---|---|---|---|---|---|")
    for k in CONC:
        for binary, multi in ((BIN, "1"), (BIN, "0"), (LIMIT, "1")):
            run(binary, k, multi, env0, proxy)
    print("\nload average after: %s" % open("/proc/loadavg").read().split()[:3])
    if proxy:
        proxy.server.shutdown()
finally:
    servers.stop(procs)
