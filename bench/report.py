#!/usr/bin/python3
"""report.py - turn bench/run.sh's results (JSON lines) into the markdown report.

  report.py RESULTS.jsonl --size S --shape N --chunks C --inner I --threads T --runs R
            --command CMD [--loadavg FILE] [--cpu FILE] [--have-cp 0|1]

Per cell: the median of the runs' seconds gives decoded MB/s (10^6 bytes of the array per
second); the range shows the slowest and fastest run; peak RSS is the highest of the runs.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections import OrderedDict
from datetime import datetime, timezone

MiB = 1 << 20
OPS = OrderedDict([
    ("write", "Write the whole array"),
    ("read", "Read the whole array into one buffer"),
    ("read-chunks", "Read chunk by chunk (1 = one caller, N = N concurrent callers)"),
    ("read-inner", "Read inner chunk by inner chunk (sharded)"),
    ("roundtrip", "Round trip: decode and re-encode into the same encoding"),
])
ENCODINGS = ["none", "zstd", "blosc", "sharded"]
ENC_LABEL = {"none": "uncompressed", "zstd": "zstd 3", "blosc": "blosc lz4 shuffle",
             "sharded": "sharded (zstd 3 inner)"}
IMPL_ORDER = ["limit", "limit (fresh output)", "limit (write files)", "cat", "zarrc",
              "zarrc (pre-faulted buffer)", "zarrc cp", "zarrc_array_copy", "zarrc cp (stored bytes copied)",
              "zarr-python", "zarrita"]
# Rows compared with the peers and checked against the targets (apples to apples: fresh output
# buffers, decode + re-encode round trips).
ZARRC_MAIN = ("zarrc", "zarrc cp", "zarrc_array_copy")


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    osname = "?"
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip().strip('"')
    return {"cpus": os.cpu_count(), "cpu": cpu, "mem": mem, "kernel": platform.release(), "os": osname}


def versions(root):
    v = OrderedDict()
    rev = sh(f"git -C '{root}' rev-parse --short HEAD")
    dirty = sh(f"git -C '{root}' status --porcelain --untracked-files=no")
    v["zarrc"] = f"0.1.0 @ {rev}{' + uncommitted changes' if dirty else ''}" if rev else "0.1.0"
    v["zarr-python"] = sh("/usr/bin/python3 -c 'import zarr; print(zarr.__version__)'") or "n/a"
    v["numcodecs"] = sh("/usr/bin/python3 -c 'import numcodecs; print(numcodecs.__version__)'") or "n/a"
    pkg = os.path.join(root, "tests/peers/node_modules/zarrita/package.json")
    v["zarrita"] = json.load(open(pkg))["version"] if os.path.exists(pkg) else "n/a"
    v["node"] = sh("node --version") or "n/a"
    v["c-blosc"] = sh("pkg-config --modversion blosc")
    v["zstd"] = sh("pkg-config --modversion libzstd")
    v["gcc"] = sh("gcc -dumpfullversion")
    return v


def load_rows(path):
    cells = OrderedDict()
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        key = (r["op"], r["enc"], r["fmt"], r["impl"], r["variant"])
        c = cells.setdefault(key, {"runs": [], "errors": [], "na": None})
        if "result" in r:
            c["runs"].append(r["result"])
        elif "error" in r:
            c["errors"].append(r["error"])
        elif "na" in r:
            c["na"] = r["na"]
    return cells


def summarize(c):
    """(MB/s of the median, slowest MB/s, fastest MB/s, peak RSS MiB) or None."""
    runs = c["runs"]
    if not runs or c["errors"]:
        return None
    secs = [r["seconds"] for r in runs]
    nbytes = runs[0]["bytes"]
    med = statistics.median(secs)
    return {
        "mbs": nbytes / med / 1e6,
        "lo": nbytes / max(secs) / 1e6,
        "hi": nbytes / min(secs) / 1e6,
        "rss": max(r["peak_rss_kib"] for r in runs) / 1024,
        "n": len(runs),
    }


def fmt_ratio(x):
    return "" if x is None else f"{x:.2f}x"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    for a in ("--size", "--command", "--loadavg", "--cpu", "--cp-flag"):
        ap.add_argument(a, default="")
    for a in ("--shape", "--chunks", "--inner", "--threads", "--runs", "--have-cp", "--cp-decodes"):
        ap.add_argument(a, type=int, default=0)
    o = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cells = load_rows(o.results)
    S = {k: summarize(c) for k, c in cells.items()}
    array_bytes = o.shape ** 3 * 2
    chunk_bytes = o.chunks ** 3 * 2

    def get(op, enc, fmt, impl, variant="-"):
        return S.get((op, enc, fmt, impl, variant))

    def mbs(op, enc, impl):
        c = get(op, enc, "-", impl) or get(op, enc, "v3", impl)
        return c["mbs"] if c else None

    def limit(op, enc, impl="zarrc"):
        """The limit a cell is compared with. Uncompressed: the I/O (cat, file writes), since
        there is no codec; a whole-array read into a new buffer: the codec decoding into a new
        array-sized buffer (page faults included); else the codec alone."""
        hot_read = mbs("read", enc, "cat") if enc == "none" else mbs("read", enc, "limit")
        write = mbs("write", enc, "limit (write files)" if enc == "none" else "limit")
        if op == "write":
            return write
        if op == "roundtrip":
            return 1 / (1 / hot_read + 1 / write) if hot_read and write else None
        if op == "read" and impl in ("zarrc", "zarr-python", "zarrita"):
            return mbs("read", enc, "limit (fresh output)")
        if impl.startswith("limit"):
            return mbs(op, enc, impl)
        return hot_read

    out = []
    w = out.append
    m = machine()
    w("# zarrc benchmark results\n")
    w(f"Generated by `{o.command}` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. "
      "Reproduce with the same command from the repository root (`--save` writes this file).\n")
    w("## Machine\n")
    w(f"- {m['cpus']} CPUs: {m['cpu']}; {m['mem']} RAM; Linux {m['kernel']}; {m['os']}")
    vs = versions(root)
    w("- " + "; ".join(f"{k} {v}" for k, v in vs.items()))
    load = []
    if o.loadavg and os.path.exists(o.loadavg):
        load = [float(line.split()[0]) for line in open(o.loadavg) if line.strip()]
    if load:
        w(f"- 1-minute load average during the run (includes the benchmark itself, which keeps up to "
          f"{o.threads} threads busy): mean {statistics.mean(load):.2f}, max {max(load):.2f} "
          f"({len(load)} samples, every 10 s)")
    if o.cpu and os.path.exists(o.cpu):
        lines = open(o.cpu).read().split("\n")
        try:
            a = [int(x) for x in lines[0].split()[1:]]
            b = [int(x) for x in lines[1].split()[1:]]
            st = lines[2].rsplit(")", 1)[1].split()
            ours = int(st[13]) + int(st[14])  # cutime + cstime of run.sh (waited-for children)
            total = sum(b) - sum(a)
            busy = total - ((b[3] + b[4]) - (a[3] + a[4]))
            other = max(0, busy - ours)
            w(f"- CPU used by other processes during the run: {100 * other / total:.0f}% of the "
              f"machine ({100 * ours / total:.0f}% by the benchmark)" +
              (" — **the machine was loaded: numbers are pessimistic and noisy**"
               if other > 0.15 * total else " — the machine was quiet"))
        except (IndexError, ValueError, ZeroDivisionError):
            pass
    w("")
    w("## Workload\n")
    w(f"- uint16 array {o.shape}³ ({array_bytes / MiB:.0f} MiB), value at (z,y,x) = (x + y·y/32 + z·z·z) "
      f"mod 65536, fill 0; chunks {o.chunks}³ ({chunk_bytes / MiB:g} MiB decoded).")
    w("- Encodings: uncompressed (`bytes`); zstd level 3; blosc lz4 clevel 5 byte-shuffle typesize 2; "
      f"sharded: shards of {o.chunks}³ holding {o.chunks // o.inner if o.inner else 0}³ inner chunks of "
      f"{o.inner}³, each zstd 3 (v3 only), index at the end with crc32c.")
    sizes = []
    for enc in ENCODINGS:
        c = cells.get(("read", enc, "-", "limit", "-"))
        if c and c["runs"] and c["runs"][0].get("stored_bytes"):
            sb = c["runs"][0]["stored_bytes"]
            sizes.append(f"{ENC_LABEL[enc]} {sb / MiB:.1f} MiB ({array_bytes / sb:.1f}x)")
    if sizes:
        w("- Chunk bytes stored (ratio): " + "; ".join(sizes) + ".")
    w("- The stores are written once by zarrc (v3, and v2 where the encoding exists in v2); every "
      "implementation reads the same files. Writes go to a scratch directory (page cache, no fsync).")
    w(f"- **Warm page cache**: every store is read once before its read cells. {o.runs} runs per cell, a "
      "fresh process per run; MB/s = 10⁶ decoded bytes per second of the median run; the range is "
      "the slowest..fastest run; peak RSS is the highest run's (getrusage ru_maxrss of the process, "
      "which for writes includes the source array).")
    w(f"- Threads: zarrc uses {o.threads} (ZARRC_NUM_THREADS); \"N\" cells use {o.threads} concurrent "
      "callers (zarrc: threads calling zarrc_array_read; zarr-python: a thread pool; zarrita: async "
      "requests in flight). zarr-python 2.13 reads and writes whole arrays chunk by chunk in one "
      "thread (its blosc may use internal threads); zarrita decodes on Node's main thread.")
    w("- **limit** = the codec library alone on all cores, no Zarr: all chunk files (or inner chunks) "
      "loaded into memory first, then ZSTD_decompressDCtx / blosc_decompress_ctx / memcpy (read) or "
      "ZSTD_compressCCtx / blosc_compress_ctx / memcpy (write) in a tight loop into per-thread buffers "
      "(bench/limit.c). The round-trip limit combines both (1 / (1/decode + 1/encode)). **cat** = "
      "`cat` of the chunk files to /dev/null (I/O from the page cache only).")
    w("- Peers' own choices that matter here: numpy (under zarr-python) asks for transparent huge pages "
      "for its large arrays, so its page faults on a new 256 MiB output cost about half of those on "
      "plain malloc memory, which zarrc_bench uses as a C caller would; numcodecs' blosc decompresses "
      "with blosc's internal threads; zarrita 0.7.5 ignores blosc's `shuffle` when encoding (its blosc "
      "chunks are unshuffled: same codec, other bytes) and cannot encode sharding.")
    w("- Limits used for the ratios: uncompressed = the I/O (`cat` for reads, \"limit (write files)\" = "
      "the same chunk bytes written to new files on all cores for writes); whole-array reads into a new "
      "buffer (zarrc, zarr-python, zarrita) = \"limit (fresh output)\", the codec decoding into one new "
      "array-sized buffer, since the kernel's page faults on a new buffer are a large fixed cost here; "
      "\"zarrc (pre-faulted buffer)\" reads into a buffer touched before the timing and is compared with "
      "the hot limit, which shows the engine's own overhead.")
    if not o.have_cp:
        w("- `zarrc cp` was not available in this build: its cells are n/a.")
    if not o.cp_decodes:
        w(f"- `zarrc cp SRC DST` with the same encoding copies the stored chunk bytes without decoding "
          f"(it has no `{o.cp_flag}` option yet), so it is not a round trip: it is shown as \"zarrc cp "
          f"(stored bytes copied)\" and not compared. zarrc's round trip is **zarrc_array_copy** (the "
          f"engine of `zarrc cp`) with raw copies disabled, called by bench/zarrc_bench.c (`copy`).")
    w("")

    for op, title in OPS.items():
        rows = [k for k in cells if k[0] == op]
        if not rows:
            continue
        w(f"## {title}\n")
        w("| encoding | implementation | format | N | MB/s | range | × limit | × zarr-python | × zarrita "
          "| peak RSS MiB |")
        w("|---|---|---|---|---:|---|---:|---:|---:|---:|")
        for enc in ENCODINGS:
            keys = [k for k in rows if k[1] == enc]
            keys.sort(key=lambda k: (IMPL_ORDER.index(k[3]) if k[3] in IMPL_ORDER else 99, k[2], k[4]))
            for k in keys:
                _, _, fmt, impl, variant = k
                c, s = cells[k], S[k]
                label = impl
                if s is None:
                    why = c["na"] or ("error: " + c["errors"][0][:160].replace("|", "/").replace("\n", " ")
                                      if c["errors"] else "no result")
                    w(f"| {ENC_LABEL[enc]} | {label} | {fmt} | {variant} | n/a ({why}) | | | | | |")
                    continue
                lim = limit(op, enc, impl)
                r_lim = s["mbs"] / lim if lim else None
                r_py = r_zt = None
                if impl in ZARRC_MAIN:
                    peer_impl = "zarr-python" if fmt == "v2" else "zarrita"
                    p = get(op, enc, fmt, peer_impl, variant)
                    if p:
                        if fmt == "v2":
                            r_py = s["mbs"] / p["mbs"]
                        else:
                            r_zt = s["mbs"] / p["mbs"]
                w(f"| {ENC_LABEL[enc]} | {label} | {fmt} | {variant} | {s['mbs']:.0f} | "
                  f"{s['lo']:.0f}..{s['hi']:.0f} | {fmt_ratio(r_lim)} | {fmt_ratio(r_py)} | "
                  f"{fmt_ratio(r_zt)} | {s['rss']:.0f} |")
            lim = limit(op, enc)
            if op == "roundtrip" and lim:
                w(f"| {ENC_LABEL[enc]} | limit (decode+encode) | - | - | {lim:.0f} | | 1.00x | | | |")
        w("")

    # ---- targets ----
    w("## Targets\n")
    w("| target | cell | value | status |")
    w("|---|---|---|---|")
    met = missed = 0

    def target(name, cell, value, ok):
        nonlocal met, missed
        if ok is None:
            w(f"| {name} | {cell} | {value} | not measured |")
            return
        met += ok
        missed += not ok
        w(f"| {name} | {cell} | {value} | {'met' if ok else '**MISSED**'} |")

    for op, impl in (("read", "zarrc"), ("read", "zarrc (pre-faulted buffer)"), ("write", "zarrc")):
        for enc in ENCODINGS:
            lim = limit(op, enc, impl)
            for fmt in ("v3", "v2"):
                if (op, enc, fmt, impl, "-") not in cells:
                    continue
                s = get(op, enc, fmt, impl)
                ok = None if not (s and lim) else s["mbs"] >= 0.85 * lim
                val = f"{s['mbs'] / lim:.2f}x limit" if s and lim else "n/a"
                target(f"{op} ≥ 0.85 × limit", f"{ENC_LABEL[enc]} {fmt} {impl}", val, ok)
    for k in cells:
        op, enc, fmt, impl, variant = k
        if impl not in ZARRC_MAIN:
            continue
        for peer, fmt_, ops in (("zarr-python", "v2", None), ("zarrita", "v3", ("read", "read-chunks", "read-inner"))):
            if fmt != fmt_ or (ops and op not in ops):
                continue
            p, s = get(op, enc, fmt, peer, variant), S[k]
            if (op, enc, fmt, peer, variant) not in cells:
                continue
            ok = None if not (p and s) else s["mbs"] >= 3 * p["mbs"]
            val = f"{s['mbs'] / p['mbs']:.2f}x" if p and s else "n/a"
            lim = limit(op, enc, impl)
            if p and lim and 3 * p["mbs"] > lim:
                val += f" (3 × {peer} = {3 * p['mbs']:.0f} MB/s > the limit, {lim:.0f})"
            cell = f"{op} {ENC_LABEL[enc]} {fmt} {impl}" + ("" if variant == "-" else f" ({variant})")
            target(f"≥ 3 × {peer}", cell, val, ok)
    for enc in ENCODINGS:
        for fmt in ("v3", "v2"):
            s = get("read", enc, fmt, "zarrc")
            if s:
                cap = 1.1 * array_bytes / MiB + 64
                target("read RSS ≤ 1.1 × array + 64 MiB", f"{ENC_LABEL[enc]} {fmt}",
                       f"{s['rss']:.0f} MiB (cap {cap:.0f})", s["rss"] <= cap)
    for enc in ENCODINGS:
        for fmt in ("v3", "v2"):
            for impl in ("zarrc cp", "zarrc cp (stored bytes copied)", "zarrc_array_copy"):
                if ("roundtrip", enc, fmt, impl, "-") not in cells:
                    continue
                s = get("roundtrip", enc, fmt, impl)
                cap = 64 + o.threads * 4 * chunk_bytes / MiB
                target("cp RSS ≤ 64 MiB + threads × 4 × chunk", f"{ENC_LABEL[enc]} {fmt} {impl}",
                       f"{s['rss']:.0f} MiB (cap {cap:.0f})" if s else "n/a", s["rss"] <= cap if s else None)
    w(f"\n{met} targets met, {missed} missed. \"> the limit\" marks a peer target that no implementation "
      "could meet on this machine: three times the peer is faster than the codec alone.\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
