"""Streaming append benchmark: zarrc_stream_* vs tensorstore, acquire-zarr and zarr-python 3.4,
and the "limit" (no Zarr at all).

usage: <peer venv python> bench/bench_stream.py BENCH_STREAM_BINARY WORKDIR [--runs N] [--big]
       [--cf 1,4] [--codecs none,blosc-lz4,blosc-zstd] [--sharded no,yes] [--tools zarrc,limit,tensorstore,...]
       [--frames N] [--sizes 256,2048]
(bench/bench_stream.sh builds the binary and runs this.) With no filter every row of the matrix
runs (256x256; with --big also 2048x2048); the filters pick rows and tools (zarrc always runs,
the ratios need it), --frames overrides the frame counts (500 for 256x256, 64 for 2048x2048).

Workload (acquire-zarr's streaming benchmark): N frames of H x W uint16 appended in order along
axis 0 of an array on the local filesystem, chunks spanning 1 or 4 frames, uncompressed /
blosc-lz4 / blosc-zstd, unsharded (chunks [C, H, W]) or sharded (shards [C, H, W] of inner chunks
[C, H/2, W/2]). Every tool writes the same frames (bench_common.h's values) with the same codec
settings (blosc clevel 1, byte shuffle), from an empty directory; the time runs from creating the
array to the last byte written (close / final future). What each tool does:
  - zarrc: zarrc_stream_open on a [0, H, W] array, zarrc_stream_append per frame, close; the
    shape grows as slabs are written (durable metadata updates included);
  - zarrc-lent: the same with zarrc_stream_append_lent per frame (the frames' buffer outlives the
    stream): frames that are whole slabs (chunks of 1 frame, or a shard's) are written from the
    caller's memory, without the copy into the stream's queue; others are copied as by zarrc;
  - zarrc-python: the zarrc Python package (python/, built against the same libzarrc by
    bench_stream.sh) doing what zarrc-lent does: create_array, Stream.append_lent per frame (a
    numpy view of the frames' array), close — what a Python acquisition loop pays over C;
  - tensorstore: array created with its final shape [N, H, W], one async write per frame, all
    awaited at the end (no shape changes: the most favourable way to write with tensorstore);
  - acquire-zarr: ZarrStream with an append dimension, append per frame, close;
  - zarr-python 3.4: create_array with shape [0, H, W], Array.append per frame;
  - limit (bench_stream_limit, built next to BENCH_STREAM_BINARY): the codec library and the file
    system alone: the same frames, blosc_compress_ctx with the same settings (1 internal thread) on
    as many threads as zarrc uses (every T-th chunk each), every chunk (or shard: inner chunks +
    16-byte-per-inner-chunk index, no crc32c) written to its own new flat file with one
    open / write / close; timed from the first frame to the last file closed. A floor for any
    Zarr writer on this machine, not a Zarr array (its files are verified by decoding them).
Before every run the page cache's dirty data is written out (sync, untimed): each run starts with
nothing dirty and is timed to hand its own bytes to the kernel. Each zarrc result is read back with tensorstore and compared element by element. Prints a
markdown table (median of --runs runs) with the ratios tool / zarrc, and tensorstore / limit and
zarrc / limit when limit runs (how far each is above the floor), then a second table of the CPU
time (user + system, all threads) each tool took for the timed part.
"""
import importlib.metadata as _md
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

# numcodecs 0.17 parses zfpy's version as dotted integers; the venv's zfpy is 1.0.1.post0.
_version = _md.version
_md.version = lambda name: "1.0.1" if name == "zfpy" else _version(name)

import tensorstore as ts  # noqa: E402
import zarr  # noqa: E402

warnings.simplefilter("ignore")
sys.path.insert(0, os.environ.get("ACQUIRE_ZARR_PATH", os.path.expanduser("~/.cache/zarrc/bench-acquire")))
try:
    import acquire_zarr as aqz
except ImportError:
    aqz = None
try:
    import zarrc as zarrc_py
except ImportError:
    zarrc_py = None
    print("bench_stream: the zarrc Python package is not importable: its column is left out",
          file=sys.stderr)

BIN, WORK = sys.argv[1], sys.argv[2]
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
BIG = "--big" in sys.argv


def _opt(name, default):
    return sys.argv[sys.argv.index(name) + 1].split(",") if name in sys.argv else default


CFS = [int(c) for c in _opt("--cf", ["1", "4"])]
CODECS = _opt("--codecs", ["none", "blosc-lz4", "blosc-zstd"])
SHARDED = [{"no": False, "yes": True}[x] for x in _opt("--sharded", ["no", "yes"])]
TOOLS = _opt("--tools", None)
FRAMES = int(sys.argv[sys.argv.index("--frames") + 1]) if "--frames" in sys.argv else None
SIZES = [int(x) for x in _opt("--sizes", ["256", "2048"] if BIG else ["256"])]


def frames_of(n, h, w):
    z = np.arange(n, dtype=np.int64)[:, None, None]
    y = np.arange(h, dtype=np.int64)[None, :, None]
    x = np.arange(w, dtype=np.int64)[None, None, :]
    return ((x + y * y // 32 + z * z * z) % 65536).astype(np.uint16)


def ts_codecs(codec, cf, h, w, sharded):
    inner = [{"name": "bytes", "configuration": {"endian": "little"}}]
    if codec.startswith("blosc"):
        inner.append({"name": "blosc", "configuration": {"cname": codec.split("-")[1], "clevel": 1,
                                                         "shuffle": "shuffle", "typesize": 2, "blocksize": 0}})
    if not sharded:
        return inner
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [cf, h // 2, w // 2], "codecs": inner,
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "end"}}]


def run_zarrc(path, n, h, w, cf, codec, sharded, lent=False):
    out = subprocess.run([BIN, path, str(n), str(h), str(w), str(cf), codec, str(int(sharded))]
                         + (["lent"] if lent else []),
                         capture_output=True, text=True, timeout=600)
    if out.returncode:
        sys.exit("bench_stream failed: " + out.stderr)
    res = json.loads(out.stdout)
    return res["ms"], res["user_ms"] + res["sys_ms"]


LIMIT_BIN = os.path.join(os.path.dirname(os.path.abspath(BIN)), "bench_stream_limit")


def run_limit(path, frames, cf, codec, sharded):
    n, h, w = frames.shape
    out = subprocess.run([LIMIT_BIN, path, str(n), str(h), str(w), str(cf), codec, str(int(sharded))],
                         capture_output=True, text=True, timeout=600)
    if out.returncode:
        sys.exit("bench_stream_limit failed: " + out.stderr)
    res = json.loads(out.stdout)
    return res["ms"], res["cpu_ms"]


def cpu_ms():
    """User + system CPU milliseconds of this process so far (tensorstore's and acquire-zarr's threads too)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1e3


def run_ts(path, frames, cf, codec, sharded):
    n, h, w = frames.shape
    t = time.perf_counter()
    arr = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path},
                   "metadata": {"shape": [n, h, w], "data_type": "uint16",
                                "chunk_grid": {"name": "regular",
                                               "configuration": {"chunk_shape": [cf, h, w]}},
                                "codecs": ts_codecs(codec, cf, h, w, sharded)},
                   "create": True, "delete_existing": True}).result()
    futs = [arr[i].write(frames[i]) for i in range(n)]
    for f in futs:
        f.result()
    return (time.perf_counter() - t) * 1e3


def run_zarrc_py(path, frames, cf, codec, sharded):
    n, h, w = frames.shape
    t = time.perf_counter()
    a = zarrc_py.create_array(path, "", mode="w", shape=(0, h, w), chunks=(cf, h, w), dtype="uint16",
                              codecs=ts_codecs(codec, cf, h, w, sharded), fill_value=0, format=3)
    with a.stream() as s:
        for i in range(n):
            s.append_lent(frames[i])
    return (time.perf_counter() - t) * 1e3


def run_aqz(path, frames, cf, codec, sharded):
    n, h, w = frames.shape
    comp = None
    if codec.startswith("blosc"):
        comp = aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1, level=1, shuffle=1,
                                       codec=aqz.CompressionCodec.BLOSC_LZ4 if codec.endswith("lz4")
                                       else aqz.CompressionCodec.BLOSC_ZSTD)
    div = 2 if sharded else 1
    dims = [aqz.Dimension(name="t", kind=aqz.DimensionType.TIME, array_size_px=0, chunk_size_px=cf,
                          shard_size_chunks=1),
            aqz.Dimension(name="y", kind=aqz.DimensionType.SPACE, array_size_px=h, chunk_size_px=h // div,
                          shard_size_chunks=div),
            aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE, array_size_px=w, chunk_size_px=w // div,
                          shard_size_chunks=div)]
    t = time.perf_counter()
    settings = aqz.StreamSettings(store_path=path, overwrite=True, arrays=[aqz.ArraySettings(
        dimensions=dims, data_type=np.uint16, compression=comp)])
    stream = aqz.ZarrStream(settings)
    for i in range(n):
        stream.append(frames[i])
    stream.close()
    return (time.perf_counter() - t) * 1e3


def run_zp(path, frames, cf, codec, sharded):
    n, h, w = frames.shape
    comp = None
    if codec.startswith("blosc"):
        comp = zarr.codecs.BloscCodec(cname=codec.split("-")[1], clevel=1, shuffle="shuffle", typesize=2)
    t = time.perf_counter()
    kw = {"shards": (cf, h, w), "chunks": (cf, h // 2, w // 2)} if sharded else {"chunks": (cf, h, w)}
    a = zarr.create_array(path, shape=(0, h, w), dtype="uint16", compressors=comp, fill_value=0,
                          overwrite=True, **kw)
    for i in range(n):
        a.append(frames[i:i + 1], axis=0)
    return (time.perf_counter() - t) * 1e3


def check(path, frames):
    got = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}).result().read().result()
    if got.shape != frames.shape or not np.array_equal(got, frames):
        sys.exit("zarrc's array at %s differs from the frames (shape %s)" % (path, got.shape))


def main():
    cases = []
    for h in SIZES:
        n = FRAMES or (500 if h == 256 else 64)
        for cf in CFS:
            for codec in CODECS:
                for sharded in SHARDED:
                    cases.append((n, h, cf, codec, sharded))
    tools = [("zarrc", None), ("zarrc-lent", None)]
    if zarrc_py:
        tools.append(("zarrc-python", run_zarrc_py))
    tools += [("limit", run_limit), ("tensorstore", run_ts)]
    if aqz:
        tools.append(("acquire-zarr", run_aqz))
    tools.append(("zarr-python", run_zp))
    if TOOLS:
        tools = [t for t in tools if t[0] == "zarrc" or t[0] in TOOLS]
    rows = []
    for n, h, cf, codec, sharded in cases:
        frames = frames_of(n, h, h)
        times = {name: [] for name, _ in tools}
        cpus = {name: [] for name, _ in tools}
        # Runs interleaved across tools (zarrc, tensorstore, ..., zarrc, ...), so that a load
        # change on a shared machine hits every tool alike, each into its own directory, all
        # deleted only after the row: ext4 allocates inodes slowly for a while after many were
        # deleted nearby (find_inode_bit / recently_deleted: 3-5x the system time of a run into
        # a fresh tree for 1500 inodes), which would otherwise charge whichever tool runs right
        # after a deletion.
        made = []
        for r in range(RUNS):
            for name, fn in tools:
                if name == "zarr-python" and r:
                    continue  # slow: one run
                path = os.path.join(WORK, "%s-%d-%d-%s-%d-r%d" % (name, h, cf, codec, sharded, r))
                shutil.rmtree(path, ignore_errors=True)
                made.append(path)
                # Untimed: write out what earlier runs left dirty, so that no run pays for its
                # predecessors' writeback (the kernel throttles writers, and stalls renames and
                # fsyncs behind journal commits, once gigabytes are dirty).
                os.sync()
                if name in ("zarrc", "zarrc-lent"):
                    ms, cpu = run_zarrc(path, n, h, h, cf, codec, sharded, name == "zarrc-lent")
                    if r == 0:
                        check(path, frames)
                elif name == "zarrc-python":
                    c0 = cpu_ms()
                    ms = fn(path, frames, cf, codec, sharded)
                    cpu = cpu_ms() - c0
                    if r == 0:
                        check(path, frames)
                elif name == "limit":
                    ms, cpu = run_limit(path, frames, cf, codec, sharded)
                else:
                    c0 = cpu_ms()
                    ms = fn(path, frames, cf, codec, sharded)
                    cpu = cpu_ms() - c0
                times[name].append(ms)
                cpus[name].append(cpu)
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
        res = {name: statistics.median(t) for name, t in times.items()}
        cpu = {name: statistics.median(t) for name, t in cpus.items()}
        rows.append(((n, h, cf, codec, sharded), res, cpu))
        print("%-42s %s cpu %s" % ((n, h, cf, codec, sharded), {k: round(v, 1) for k, v in res.items()},
                                   {k: round(v, 1) for k, v in cpu.items()}), file=sys.stderr, flush=True)
    names = [t[0] for t in tools]
    # Time ratios: tool / zarrc (> 1: slower than zarrc); X / limit: how many times the floor X takes.
    over = [k for k in ("tensorstore", "zarrc", "zarrc-lent", "zarrc-python") if "limit" in names and k in names]
    print("| frames | frame | chunk frames | codec | sharded | " + " | ".join(n + " ms" for n in names) + " | "
          + " | ".join(n + " / zarrc" for n in names[1:]) + "".join(" | %s / limit" % k for k in over) + " |")
    print("|" + "---:|" * 3 + "---|---|" + "---:|" * (2 * len(names) - 1 + len(over)))
    for (n, h, cf, codec, sharded), res, _ in rows:
        z = res["zarrc"]
        print("| %d | %dx%d | %d | %s | %s | " % (n, h, h, cf, codec, "yes" if sharded else "no")
              + " | ".join("%.1f" % res[k] for k in names) + " | "
              + " | ".join("%.2fx" % (res[k] / z) for k in names[1:])
              + "".join(" | %.2fx" % (res[k] / res["limit"]) for k in over) + " |")
    # CPU time (user + system, all threads, median): less sensitive than wall time to a loaded machine,
    # where a tool with more threads gets a larger share of the cores.
    print()
    print("| frames | frame | chunk frames | codec | sharded | " + " | ".join(n + " CPU ms" for n in names)
          + "".join(" | %s / limit CPU" % k for k in over) + " |")
    print("|" + "---:|" * 3 + "---|---|" + "---:|" * (len(names) + len(over)))
    for (n, h, cf, codec, sharded), _, cpu in rows:
        print("| %d | %dx%d | %d | %s | %s | " % (n, h, h, cf, codec, "yes" if sharded else "no")
              + " | ".join("%.1f" % cpu[k] for k in names)
              + "".join(" | %.2fx" % (cpu[k] / cpu["limit"]) for k in over) + " |")


if __name__ == "__main__":
    main()
