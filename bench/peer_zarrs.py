#!/usr/bin/python3
"""peer_zarrs.py - runs native zarrs (the zarrs_tools benchmark binaries) for bench/run.sh and
turns their output into the suite's JSON line.

  peer_zarrs.py BIN_DIR read DIR [--read-all] [--concurrent-chunks N] [--inner-chunks]
        zarrs_benchmark_read_sync: the whole array in one retrieve (--read-all), chunk by chunk
        or inner chunk by inner chunk (--inner-chunks) with N chunks in flight
  peer_zarrs.py BIN_DIR reencode SRC DST [zarrs_reencode options...]
        zarrs_reencode: read SRC and write DST (same encoding unless options say otherwise)

"seconds" is the binary's own timing (it starts after the array is opened: the open of one
zarr.json is not counted, which favours zarrs slightly); "wall_seconds" is the whole process.
"peak_rss_kib" is the child's (wait4); "cpu_seconds" its user + system CPU, whole process (its
opening of the arrays included, which the timed seconds leave out). The read benchmark only counts decoded bytes: their count
is checked against the array's size here (a mismatch exits 1); the values zarrs decodes are
checked by bench/run.sh, which has zarrs_reencode write each store uncompressed and verifies
that copy value by value. Threads: RAYON_NUM_THREADS (set by run.sh) bounds zarrs' rayon pool;
the binaries size their concurrency from std::thread::available_parallelism (the CPUs this
process may use).
"""
import json
import math
import os
import re
import subprocess
import sys
import time


def array_info(d):
    with open(os.path.join(d, "zarr.json")) as f:
        meta = json.load(f)
    shape = meta["shape"]
    size = {"uint16": 2, "uint8": 1, "int16": 2, "uint32": 4, "float32": 4}.get(meta["data_type"], 0)
    return math.prod(shape) * size


def run(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    # communicate() has reaped the child; its rusage is in RUSAGE_CHILDREN (only child we ran).
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.stderr.write(err[-2000:])
        sys.exit(f"peer_zarrs: {os.path.basename(argv[0])} failed (status {p.returncode})")
    return out, wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime


def version(bin_dir):
    try:
        return subprocess.run([os.path.join(bin_dir, "zarrs_reencode"), "--version"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except Exception:
        return "?"


def main(args):
    if len(args) < 3:
        sys.exit(__doc__)
    bin_dir, cmd = args[0], args[1]
    if cmd == "read":
        d, rest = args[2], args[3:]
        out, wall, rss, cpu = run([os.path.join(bin_dir, "zarrs_benchmark_read_sync"), d] + rest)
        m = re.search(r"Decoded .* in ([0-9.]+)ms \(([0-9.]+)MB decoded", out)
        if not m:
            sys.exit(f"peer_zarrs: cannot parse: {out.strip()[-300:]}")
        secs, mb = float(m.group(1)) / 1e3, float(m.group(2))
        want = array_info(d)
        if abs(mb * 1e6 - want) > 0.01 * want + 1e4:  # printed with 2 decimals, as f32
            sys.exit(f"peer_zarrs: decoded {mb} MB, the array has {want / 1e6} MB")
        what = "read" if "--read-all" in rest else "read-inner" if "--inner-chunks" in rest else "read-chunks"
    elif cmd == "reencode":
        src, dst, rest = args[2], args[3], args[4:]
        out, wall, rss, cpu = run([os.path.join(bin_dir, "zarrs_reencode"), src, dst] + rest)
        m = re.search(r"total: ([0-9.]+)ms", out)
        if not m:
            sys.exit(f"peer_zarrs: cannot parse: {out.strip()[-300:]}")
        secs, want, what = float(m.group(1)) / 1e3, array_info(src), "reencode"
    else:
        sys.exit(__doc__)
    print(json.dumps({"what": what, "seconds": secs, "bytes": want, "peak_rss_kib": rss,
                      "wall_seconds": wall, "cpu_seconds": cpu, "zarrs": version(bin_dir),
                      "rayon_threads": os.environ.get("RAYON_NUM_THREADS", "")}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
