#!/usr/bin/python3
"""report.py - turn bench/run.sh's results (JSON lines) into the markdown report (bench/RESULTS.md).

  report.py RESULTS.jsonl --size S --shape N --chunks C --inner I --threads T --runs R --command CMD
            [--loadavg FILE] [--cpu FILE] [--top FILE] [--skipped FILE] [--py3 PYTHON]
            [--zarrs-bin DIR] [--cold 0|1] [--label TEXT]

Per cell: the median of the timed runs' seconds gives decoded MB/s (10^6 bytes of the array per
second); the range is the slowest..fastest run; peak RSS is the highest of the runs. Run 0 of a
cell is its verification run: not timed, but its error makes the cell an error. A cell with an
error has no number.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
from collections import OrderedDict, defaultdict
from datetime import datetime, timezone

MiB = 1 << 20
OPS = OrderedDict([
    ("write", "Write the whole array"),
    ("read", "Read the whole array into one buffer"),
    ("read-cold", "Read the whole array into one buffer, cold page cache"),
    ("read-chunks", "Read chunk by chunk (N = concurrent readers)"),
    ("read-inner", "Read inner chunk by inner chunk (sharded; N = concurrent readers)"),
    ("roundtrip", "Round trip: read and write a copy with the same encoding"),
])
ENCODINGS = ["none", "zstd", "sharded", "blosc"]
IMPL_ORDER = ["limit", "limit (files)", "limit (fresh output)", "limit (cat)", "zarrc", "zarrc (malloc'd output)",
              "zarrs", "tensorstore",
              "zarr-python 3.4 + zarrs", "zarr-python 3.4", "zarr-python 2.13", "zarrita"]
PEERS = ["zarrs", "tensorstore", "zarr-python 3.4 + zarrs", "zarr-python 3.4", "zarr-python 2.13", "zarrita"]
# The targets: zarrc's throughput / the peer's, per cell.
TARGETS = [("zarrs", 1.2), ("tensorstore", 1.5), ("zarr-python 3.4 + zarrs", 2.0)]
SHORT = {"zarrs": "zarrs", "tensorstore": "tensorstore", "zarr-python 3.4 + zarrs": "zp3 + zarrs"}


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
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
    thp = sh("cat /sys/kernel/mm/transparent_hugepage/enabled")
    return {"cpus": os.cpu_count(), "cpu": cpu, "mem": mem, "kernel": platform.release(), "os": osname,
            "thp": thp}


def versions(root, py3, zarrs_bin):
    v = OrderedDict()
    rev = sh(f"git -C '{root}' rev-parse --short HEAD")
    dirty = sh(f"git -C '{root}' status --porcelain --untracked-files=no")
    v["zarrc"] = f"0.1.0 @ {rev}{' + uncommitted changes' if dirty else ''}" if rev else "0.1.0"
    zv = sh(f"'{zarrs_bin}/zarrs_reencode' --version") if zarrs_bin else ""
    v["native zarrs"] = zv or "n/a"
    if py3:
        q = ("import importlib.metadata as m; print(' '.join(m.version(p) for p in "
             "('tensorstore','zarr','zarrs','numcodecs','numpy')))")
        got = sh(f"'{py3}' -c \"{q}\"").split()
        if len(got) == 5:
            v["tensorstore"], v["zarr-python 3"], v["zarrs-python"], v["numcodecs (venv)"], v["numpy (venv)"] = got
    v["zarr-python 2"] = sh("/usr/bin/python3 -c 'import zarr; print(zarr.__version__)'") or "n/a"
    v["numcodecs (Debian)"] = sh("/usr/bin/python3 -c 'import numcodecs; print(numcodecs.__version__)'") or "n/a"
    pkg = os.path.join(root, "tests/peers/node_modules/zarrita/package.json")
    v["zarrita"] = json.load(open(pkg))["version"] if os.path.exists(pkg) else "n/a"
    v["node"] = sh("node --version") or "n/a"
    v["c-blosc"] = sh("pkg-config --modversion blosc")
    v["zstd"] = sh("pkg-config --modversion libzstd")
    v["gcc"] = sh("gcc -dumpfullversion")
    v["rustc"] = sh("rustc --version").replace("rustc ", "") or "n/a"
    return v


def load_cells(path):
    cells = OrderedDict()
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        key = (r["op"], r["enc"], r["impl"], r["variant"])
        c = cells.setdefault(key, {"runs": [], "errors": [], "na": None, "checked": False})
        if "result" in r:
            if r["run"] == 0:
                c["checked"] = True
            else:
                c["runs"].append(r["result"])
        elif "error" in r:
            c["errors"].append(r["error"])
        elif "na" in r:
            c["na"] = r["na"]
    # An error against a cell's variant "-" (a failed verification of an output) applies to
    # the cell; zarrs' read verification applies to all its read cells of that encoding.
    for (op, enc, impl, var), c in list(cells.items()):
        if c["errors"] and not c["runs"] and op == "read" and impl == "zarrs":
            for k2, c2 in cells.items():
                if k2[1] == enc and k2[2] == "zarrs" and k2[0].startswith("read") and k2 != (op, enc, impl, var):
                    c2["errors"] += c["errors"]
    return cells


def summarize(c):
    runs = c["runs"]
    if not runs or c["errors"]:
        return None
    secs = [r["seconds"] for r in runs]
    nbytes = runs[0]["bytes"]
    med = statistics.median(secs)
    return {"mbs": nbytes / med / 1e6, "sec": med, "lo": nbytes / max(secs) / 1e6,
            "hi": nbytes / min(secs) / 1e6, "rss": max(r["peak_rss_kib"] for r in runs) / 1024,
            "n": len(runs)}


def fx(x):
    return "" if x is None else f"{x:.2f}x"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    for a in ("--size", "--command", "--loadavg", "--cpu", "--top", "--skipped", "--py3", "--zarrs-bin",
              "--label", "--impls"):
        ap.add_argument(a, default="")
    for a in ("--shape", "--chunks", "--inner", "--threads", "--runs", "--cold", "--ref-runs"):
        ap.add_argument(a, type=int, default=0)
    o = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cells = load_cells(o.results)
    S = {k: summarize(c) for k, c in cells.items()}
    array_bytes = o.shape ** 3 * 2
    T = o.threads
    enc_label = {"none": "uncompressed", "zstd": "zstd 0",
                 "sharded": f"sharded ({o.chunks}³ shards, {o.inner}³ inner, zstd 0)",
                 "blosc": "blosclz 9 bitshuffle"}

    def get(op, enc, impl, variant="-"):
        return S.get((op, enc, impl, variant))

    def mbs(op, enc, impl, variant="-"):
        c = get(op, enc, impl, variant)
        return c["mbs"] if c else None

    def limit(op, enc, impl):
        """The limit a cell is compared with: the codec alone (bench/limit.c)."""
        hot = mbs("read", enc, "limit")
        # writes go to files: compared with the encode plus the file writes where that was run
        files = None if impl.startswith("limit") else mbs("write", enc, "limit (files)")
        if op == "write":
            return files or mbs("write", enc, "limit")
        if op == "roundtrip":
            w = files or mbs("write", enc, "limit")
            return 1 / (1 / hot + 1 / w) if hot and w else None
        if op == "read-cold":
            return mbs("read-cold", enc, "limit (cat)")
        if op == "read" and not impl.startswith("limit"):
            return mbs("read", enc, "limit (fresh output)")
        if impl.startswith("limit"):
            return None
        return hot

    out = []
    w = out.append
    m = machine()
    w("# zarrc benchmark results\n")
    w(f"Generated by `{o.command}` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. "
      "Reproduce with the same command from the repository root (`--save` writes this file; "
      "`bench/run.sh --full --save` is the 1024³ run).\n")
    if o.label:
        w(f"**{o.label}**\n")
    w("## Machine\n")
    w(f"- {m['cpus']} CPUs: {m['cpu']}; {m['mem']} RAM; Linux {m['kernel']}; {m['os']}; "
      f"transparent huge pages: {m['thp']}")
    vs = versions(root, o.py3, o.zarrs_bin)
    w("- Versions: " + "; ".join(f"{k} {v}" for k, v in vs.items()))
    load = []
    if o.loadavg and os.path.exists(o.loadavg):
        load = [float(line.split()[0]) for line in open(o.loadavg) if line.strip()]
    if load:
        w(f"- 1-minute load average during the run (includes the benchmark itself, which keeps up to "
          f"{T} threads busy): mean {statistics.mean(load):.2f}, max {max(load):.2f} "
          f"({len(load)} samples, every 10 s)")
    loaded = False
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
            loaded = other > 0.15 * total
            w(f"- CPU used by other processes during the run: {100 * other / total:.0f}% of the "
              f"machine ({100 * ours / total:.0f}% by the benchmark)" +
              (" — **the machine was loaded: numbers are pessimistic and noisy**" if loaded
               else " — the machine was quiet"))
        except (IndexError, ValueError, ZeroDivisionError):
            pass
    if o.top and os.path.exists(o.top):
        agg, samples = defaultdict(float), 0
        for line in open(o.top):
            parts = line.split(None, 1)
            if len(parts) == 1 and ":" in parts[0]:
                samples += 1
            elif len(parts) == 2:
                try:
                    agg[parts[1].strip()] += float(parts[0])
                except ValueError:
                    pass
        if samples:
            busiest = sorted(agg.items(), key=lambda kv: -kv[1])[:8]
            w("- Busiest processes (mean %CPU of one core over " + f"{samples} `top` samples of 2 s, every "
              "~30 s; the benchmark's own are zarrc_bench, limit, python, node, zarrs_*, zarrc, cat): " +
              ", ".join(f"{k} {v / samples:.0f}%" for k, v in busiest))
    w("")
    w("## Workload\n")
    w(f"- zarr_benchmarks' array: uint16 {o.shape}³ ({array_bytes / MiB:.0f} MiB), value at (z,y,x) = "
      f"(x + y·y/32 + z·z·z) mod 65536, fill 0; chunks {o.chunks}³ "
      f"({o.chunks ** 3 * 2 / MiB:g} MiB decoded).")
    w(f"- Encodings: uncompressed (`bytes`); zstd level 0 (zstd's default level, 3); sharded: shards "
      f"of {o.chunks}³ holding {o.chunks // o.inner if o.inner else 0}³ inner chunks of {o.inner}³, each "
      "zstd 0, index (bytes + crc32c) at the end; blosc blosclz clevel 9 bitshuffle typesize 2.")
    sizes = []
    for enc in ENCODINGS:
        c = cells.get(("read", enc, "limit", "-"))
        if c and c["runs"] and c["runs"][0].get("stored_bytes"):
            sb = c["runs"][0]["stored_bytes"]
            sizes.append(f"{enc_label[enc]} {sb / MiB:.1f} MiB ({array_bytes / sb:.1f}x)")
    if sizes:
        w("- Chunk bytes stored (ratio): " + "; ".join(sizes) + ".")
    w("- **Same files for everyone**: the stores are written once by zarrc (v3; a v2 copy with the same "
      "codec for zarr-python 2.13, which cannot read v3) and verified; every implementation reads them. "
      "Writes and round trips go to a scratch directory (page cache, no fsync); the output of each "
      "cell's last run is read back by zarrc and checked value by value (a wrong value is an error "
      "of that cell, shown instead of a number).")
    w("- **Values checked**: every whole-array read checks all values (outside the timing); the first "
      "run of each chunk-by-chunk cell is an untimed verification run that checks every block, the "
      "timed runs check each reader's last block. Native zarrs' read benchmark "
      "(`zarrs_benchmark_read_sync`) only counts decoded bytes (the count is checked); its decoding "
      "of each store is checked by having `zarrs_reencode` (the same zarrs) write it out, which zarrc "
      "verifies value by value.")
    w(f"- **Warm page cache** (every store is read once before its read cells)" +
      (", and **cold** whole-array reads (`echo 3 > /proc/sys/vm/drop_caches` before each run)"
       if o.cold else "; cold cells were not run (`--cold`; dropping the caches works on this "
                      "machine as root)") +
      f". {o.runs} timed runs per cell" +
      (f" ({o.ref_runs} for the reference rows: zarr-python 3.4's default pipeline, zarr-python 2.13, "
       "zarrita)" if o.ref_runs and o.ref_runs != o.runs else "") + ", a fresh process per run; MB/s = 10⁶ decoded bytes per "
      "second of the median run; seconds = the median run; the range is the slowest..fastest run; "
      "peak RSS is the highest run's (ru_maxrss of the process; for writes it includes the source "
      "array, except zarrs', which streams from a store).")
    w("- Timing: each implementation's own clock from before opening the array to the end of the "
      "operation (interpreter start-up and imports excluded); native zarrs' binaries start their "
      "clock after opening the array (`zarrs_reencode`: after creating its output array and "
      "writing its metadata), and so do zarrc's writes and round trips (`zarrc_bench write` / "
      "`copy`: the clock starts once the array to write exists; zarrc's metadata writes, fsynced, "
      "and zarrs', not fsynced, are outside both clocks).")
    w("- **Writes alike**: every writer writes into a fresh directory (removed, then `sync`, "
      "before each run), into the page cache, without fsync of chunks, and nobody's write "
      "starts writeback (zarrc before 2026-12-02 07:10 UTC did: its per-key lock file was "
      "truncated to zero before each chunk was written into it, which on ext4 "
      "(auto_da_alloc) starts writeback of the file on close — every chunk went to the disk in "
      "the writer's time); native zarrs reads its source with buffered I/O (zarrs_tools 0.8.1: "
      "`--direct-io` off by default).")
    w("- **limit** = the codec library alone, no Zarr (bench/limit.c): all chunk files (or inner "
      "chunks) in memory first, then ZSTD_decompressDCtx / blosc_decompress_ctx / memcpy (read) or "
      "ZSTD_compressCCtx / blosc_compress_ctx / memcpy (write) on the same thread count, into "
      "per-thread buffers; \"limit (files)\" (writes, not sharded) adds one write of each encoded chunk to its own new file of a fresh flat directory, and is the limit of writes and round trips where it was run (the file system's cost included; without it the uncompressed write limit is a memcpy); \"limit (fresh output)\" decodes once into one new array-sized buffer "
      "(its page faults included, each chunk's part faulted in by one madvise(MADV_POPULATE_WRITE) as zarrc does) and is the limit of whole-array reads; the round-trip limit is "
      "1 / (1/decode + 1/encode (with files where run)); \"limit (cat)\" (cold reads) is `cat` of the chunk files.")
    w("")
    w("## Implementations and threads\n")
    w(f"Every implementation is held to {T} threads (this machine has {m['cpus']} CPUs):\n")
    w(f"- **zarrc**: `ZARRC_NUM_THREADS={T}` (bench/zarrc_bench.c; round trip = `zarrc_bench copy`, "
      f"i.e. zarrc_array_copy, the engine of `zarrc cp --no-raw`, which decodes and re-encodes every "
      f"chunk, streaming {2 * T} chunks (or shards) at a time); chunk-by-chunk cells use 1 or {T} caller threads "
      "(each also may use the library's pool).")
    w(f"- **zarrs** (native, Rust): zarrs_tools' `zarrs_benchmark_read_sync` (`--read-all`; chunk by "
      f"chunk / `--inner-chunks` with `--concurrent-chunks 1|{T}`) and `zarrs_reencode` (round trip: "
      "SRC to DST with the same encoding; **write**: the uncompressed store re-encoded into the "
      f"encoding, so zarrs' write includes reading {array_bytes / MiB:.0f} MiB from the page cache); "
      f"`RAYON_NUM_THREADS={T}`.")
    w(f"- **tensorstore**: context `data_copy_concurrency` and `file_io_concurrency` limits {T}; chunk "
      f"by chunk = 1 or {T} Python threads each reading one box at a time; round trip = "
      "`dst.write(src)` (tensorstore streams the copy).")
    w(f"- **zarr-python 3.4** (default pipeline) and **zarr-python 3.4 + zarrs** "
      f"(`codec_pipeline.path = zarrs.ZarrsCodecPipeline`): `threading.max_workers = {T}`, "
      f"`async.concurrency = {T}`; zarrs-python's rayon pool also `RAYON_NUM_THREADS={T}`; chunk by "
      f"chunk = 1 or {T} Python threads; round trip = box by box (chunk or shard) on {T} threads.")
    w(f"- **zarr-python 2.13** (Debian, reads the v2 copy): one thread per request, blosc with "
      f"`BLOSC_NTHREADS={T}`; chunk-by-chunk and round trip with a {T}-thread pool. **zarrita** "
      "(Node): decodes on Node's main thread, N requests in flight; it ignores blosc's `shuffle` when "
      "encoding (its blosc output is unshuffled) and cannot encode sharding.")
    w("- The whole array is written and read in one call by everyone; a whole-array read allocates "
      "its output (numpy asks for transparent huge pages on large arrays; zarrc_bench, like a C "
      "caller following zarrc_array_read's advice for outputs larger than a core's cache, aligns it to "
      "64 bytes with aligned_alloc, so that zarrc's streaming stores cover whole rows; the row "
      "\"zarrc (malloc'd output)\" is the same read into plain malloc's buffer, 16 bytes past a page); "
      "zarrc_bench's chunk-by-chunk readers also read into 64-byte-aligned buffers (one per reader, "
      "reused).")
    if o.skipped and os.path.exists(o.skipped):
        sk = [line.rstrip("\n").split("\t", 1) for line in open(o.skipped) if line.strip()]
        for name, why in sk:
            w(f"- **{name} skipped**: {why}")
    w("")

    ratio_cols = [p for p, _ in TARGETS]
    for op, title in OPS.items():
        rows = [k for k in cells if k[0] == op]
        if not rows:
            continue
        w(f"## {title}\n")
        w("| encoding | implementation | N | seconds | MB/s | range | × limit | " +
          " | ".join(f"zarrc ÷ {SHORT[p]}" for p in ratio_cols) + " | peak RSS MiB |")
        w("|---|---|---|---:|---:|---|---:|" + "---:|" * len(ratio_cols) + "---:|")
        for enc in ENCODINGS:
            keys = [k for k in rows if k[1] == enc]
            keys.sort(key=lambda k: (k[3] if k[3] != "-" else "", IMPL_ORDER.index(k[2]) if k[2] in IMPL_ORDER else 99))
            for k in keys:
                _, _, impl, variant = k
                c, s = cells[k], S[k]
                if s is None:
                    why = c["na"] or ("**error**: " + c["errors"][0][:200].replace("|", "/").replace("\n", " ")
                                      if c["errors"] else "no result")
                    w(f"| {enc_label[enc]} | {impl} | {variant} | | n/a ({why}) | | |" + " |" * len(ratio_cols) + " |")
                    continue
                lim = limit(op, enc, impl)
                rs = []
                for p in ratio_cols:
                    q = get(op, enc, p, variant) if impl == "zarrc" else None
                    rs.append(fx(s["mbs"] / q["mbs"]) if q else "")
                name = f"**{impl}**" if impl == "zarrc" else impl
                w(f"| {enc_label[enc]} | {name} | {variant} | {s['sec']:.3f} | {s['mbs']:.0f} | "
                  f"{s['lo']:.0f}..{s['hi']:.0f} | {fx(s['mbs'] / lim) if lim else ''} | " +
                  " | ".join(rs) + f" | {s['rss']:.0f} |")
            if op == "roundtrip" and limit(op, enc, "zarrc"):
                lim = limit(op, enc, "zarrc")
                w(f"| {enc_label[enc]} | limit (decode + encode) | - | {array_bytes / lim / 1e6:.3f} | "
                  f"{lim:.0f} | | 1.00x |" + " |" * len(ratio_cols) + " |")
        w("")

    # ---- targets ----
    w("## Targets\n")
    w("Per zarrc cell: throughput ≥ 1.2 × native zarrs, ≥ 1.5 × tensorstore, ≥ 2 × zarr-python 3.4 + "
      "zarrs pipeline; whole-array reads ≥ 0.85 × the codec decoding into a fresh array-sized buffer "
      "(\"limit (fresh output)\"); peak RSS ≤ the best (lowest) peer's in the same cell (for writes: "
      "among the peers that also hold the source array in memory, i.e. not zarrs).\n")
    w("| operation | encoding | N | zarrc MB/s | ≥ 1.2 × zarrs | ≥ 1.5 × tensorstore | ≥ 2 × zp3 + zarrs "
      "| ≥ 0.85 × limit | RSS ≤ best peer |")
    w("|---|---|---|---:|---|---|---|---|---|")
    met = missed = 0
    per_target = defaultdict(lambda: [0, 0])

    def status(name, ratio, goal):
        nonlocal met, missed
        if ratio is None:
            return "n/a"
        ok = ratio >= goal
        met += ok
        missed += not ok
        per_target[name][0 if ok else 1] += 1
        return f"{ratio:.2f}x met" if ok else f"{ratio:.2f}x **MISSED**"

    for op in OPS:
        for enc in ENCODINGS:
            for k in [k for k in cells if k[0] == op and k[1] == enc and k[2] == "zarrc"]:
                variant = k[3]
                s = S[k]
                if s is None:
                    w(f"| {op} | {enc_label[enc]} | {variant} | error | | | | | |")
                    continue
                cols = []
                for p, goal in TARGETS:
                    q = get(op, enc, p, variant)
                    cols.append(status(f"≥ {goal} × {p}", s["mbs"] / q["mbs"] if q else None, goal))
                if op in ("read", "read-cold"):
                    lim = limit(op, enc, "zarrc")
                    cols.append(status("≥ 0.85 × limit", s["mbs"] / lim if lim else None, 0.85))
                else:
                    cols.append("")
                prs = [(p, get(op, enc, p, variant)) for p in PEERS if not (op == "write" and p == "zarrs")]
                prs = [(p, q) for p, q in prs if q]
                if prs:
                    bp, bq = min(prs, key=lambda pq: pq[1]["rss"])
                    ok = s["rss"] <= bq["rss"]
                    met += ok
                    missed += not ok
                    per_target["RSS ≤ best peer"][0 if ok else 1] += 1
                    cols.append(f"{s['rss']:.0f} vs {bq['rss']:.0f} MiB ({bp}) " + ("met" if ok else "**MISSED**"))
                else:
                    cols.append("n/a")
                w(f"| {op} | {enc_label[enc]} | {variant} | {s['mbs']:.0f} | " + " | ".join(cols) + " |")
    w("")
    w(f"**{met} targets met, {missed} missed** — " +
      "; ".join(f"{name}: {v[0]} met, {v[1]} missed" for name, v in per_target.items()) + ".")
    if loaded:
        w("\nThe machine was loaded during this run (see Machine): ratios between implementations measured "
          "minutes apart carry that noise.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
