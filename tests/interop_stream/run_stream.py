"""`zarrc append --stream` (usage: run_stream.py ZARRC WORKDIR).

  - a generator process writes N frames (raw little-endian blocks of --shape) into a pipe, with
    pauses, to `zarrc append NODE --axis 0 --stream --shape S`: the array equals the model
    (every frame in order) for plain, zstd and sharded arrays, 1 and several frames per chunk,
    and multi-frame blocks; zarr-python 3.4 reads every element;
  - a partial trailing block exits 1 with a message naming it, and the array ends exactly at
    the last complete block (nothing of the partial one visible, zarr-python agrees);
  - --progress writes progress to stderr; a --shape off the array's other extents is refused;
  - kill -9 of the streaming writer at random moments, repeatedly, for raw, zstd and sharded
    arrays with 1 and 4 frames per chunk: the array opens, its shape never shrinks, every frame
    inside the shape equals the model (the published shape is never ahead of the stored data:
    no frame reads the fill value), zarr-python reads the same; growing the array afterwards
    reads the fill value beyond the old extent (nothing a killed writer left beyond the shape
    shows) and a later stream lands intact. ZARRC_STRESS=1: 12 kills per layout.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop_zp3"))
import peerlib  # noqa: E402

T = peerlib.start("interop_stream: zarrc append --stream vs a model and zarr-python 3.4")
import numpy as np  # noqa: E402
import zarr  # noqa: E402

ZARRC, WORK = sys.argv[1], sys.argv[2]
CHECKS, FAILURES = 0, []

GEN = r"""
import sys, time, numpy as np
n, rows, cols, pause = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
out = sys.stdout.buffer
for i in range(n):
    f = (np.arange(rows * cols, dtype=np.int64).reshape(rows, cols) * 7 + i * 1000003) % 65521
    out.write(f.astype('<u2').tobytes())
    out.flush()
    if pause and i % 5 == 4:
        time.sleep(pause)
tail = sys.argv[5] if len(sys.argv) > 5 else ''
if tail:
    out.write(b'\x01' * int(tail))
"""


def check(cond, msg):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def model(n, rows, cols):
    frames = [((np.arange(rows * cols, dtype=np.int64).reshape(rows, cols) * 7 + i * 1000003) % 65521)
              .astype("<u2") for i in range(n)]
    return np.stack(frames) if frames else np.zeros((0, rows, cols), "<u2")


def create(path, rows, cols, chunks, codecs):
    r = subprocess.run([ZARRC, "create", path, "--dtype", "uint16", "--shape", "0,%d,%d" % (rows, cols),
                        "--chunks", chunks, "--codecs", json.dumps(codecs)], capture_output=True)
    check(r.returncode == 0, "create %s: %s" % (path, r.stderr.decode()[-300:]))


def stream(path, n, rows, cols, block, pause=0.0, tail=None, extra=()):
    """Pipe n frames of (rows, cols) from a generator process, `block` frames per --shape block."""
    gen = subprocess.Popen([sys.executable, "-c", GEN, str(n * block), str(rows), str(cols), str(pause)] +
                           ([str(tail)] if tail else []), stdout=subprocess.PIPE)
    r = subprocess.run([ZARRC, "append", path, "--axis", "0", "--stream", "--shape",
                        "%d,%d,%d" % (block, rows, cols)] + list(extra), stdin=gen.stdout, capture_output=True)
    gen.stdout.close()
    gen.wait()
    return r


def read_zarrc(path):
    r = subprocess.run([ZARRC, "info", "--json", path], capture_output=True)
    if not check(r.returncode == 0, "zarrc info %s: %s" % (path, r.stderr.decode()[-300:])):
        return None
    shape = json.loads(r.stdout)["shape"]
    r = subprocess.run([ZARRC, "get", path, "--raw"], capture_output=True)
    if not check(r.returncode == 0, "zarrc get %s: %s" % (path, r.stderr.decode()[-300:])):
        return None
    return np.frombuffer(r.stdout, "<u2").reshape(shape)


RAW = [{"name": "bytes", "configuration": {"endian": "little"}}]
ZSTD = RAW + [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}]
SHARD = [{"name": "sharding_indexed", "configuration": {"chunk_shape": [1, 16, 8], "codecs": ZSTD,
          "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
          "index_location": "end"}}]


def streams():
    cases = [("raw-1", "1,32,24", RAW, 1, 40), ("zstd-4", "4,32,24", ZSTD, 1, 37),
             ("sharded-4", "4,32,24", SHARD, 1, 30), ("blocks-3", "2,16,24", ZSTD, 3, 21)]
    for name, chunks, codecs, block, n in cases:
        path = os.path.join(WORK, name)
        create(path, 32, 24, chunks, codecs)
        r = stream(path, n, 32, 24, block, pause=0.01)
        want = model(n * block, 32, 24)
        check(r.returncode == 0, "stream %s: %s" % (name, r.stderr.decode()[-300:]))
        got = read_zarrc(path)
        check(got is not None and got.shape == want.shape and np.array_equal(got, want),
              "stream %s: zarrc reads the %d frames in order" % (name, n * block))
        a = zarr.open_array(path, mode="r")
        check(a.shape == want.shape and np.array_equal(a[...], want),
              "stream %s: zarr-python reads every element" % name)
    # a partial trailing block: refused, the complete blocks stay, nothing more
    path = os.path.join(WORK, "partial")
    create(path, 32, 24, "4,32,24", ZSTD)
    r = stream(path, 9, 32, 24, 1, tail=100, extra=["--progress"])
    check(r.returncode == 1 and b"partial trailing block (100 of 1536 bytes) after 9 complete blocks" in r.stderr,
          "partial trailing block refused with a message: %s" % r.stderr.decode()[-300:])
    a = zarr.open_array(path, mode="r")
    check(a.shape == (9, 32, 24) and np.array_equal(a[...], model(9, 32, 24)),
          "after a partial block the array ends at the last complete one: %s" % (a.shape,))
    # --progress draws on stderr; a block off the other extents is refused before anything
    path = os.path.join(WORK, "progress")
    create(path, 32, 24, "1,32,24", RAW)
    r = stream(path, 20, 32, 24, 1, extra=["--progress"])
    check(r.returncode == 0 and b"blocks" in r.stderr, "--progress reports blocks on stderr: %r" % r.stderr[-200:])
    r = subprocess.run([ZARRC, "append", path, "--stream", "--shape", "1,32,25"], input=b"", capture_output=True)
    check(r.returncode == 1 and b"extent 24 along dimension 2" in r.stderr, "a block off the extents is refused: %s"
          % r.stderr.decode()[-300:])
    r = subprocess.run([ZARRC, "append", path, "--stream"], input=b"", capture_output=True)
    check(r.returncode == 2 and b"--shape" in r.stderr, "--stream without --shape is a usage error")


def kill_layout(name, chunks, codecs, rounds, rng):
    """kill -9 of `zarrc append --stream` at random moments, `rounds` times, into one array."""
    path = os.path.join(WORK, "killed-" + name)
    create(path, 64, 64, chunks, codecs)
    sent, infill = 0, 0
    for k in range(rounds):
        n = 400
        gen = subprocess.Popen([sys.executable, "-c", GEN, str(n), "64", "64", "0.002"], stdout=subprocess.PIPE)
        w = subprocess.Popen([ZARRC, "append", path, "--axis", "0", "--stream", "--shape", "1,64,64"],
                             stdin=gen.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        gen.stdout.close()
        deadline = time.time() + 20  # kill once frames are landing (the generator imports numpy first)
        while time.time() < deadline and w.poll() is None:
            try:
                if json.load(open(os.path.join(path, "zarr.json")))["shape"][0] > sent:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.12))  # a random kill point among the slab writes
        w.send_signal(signal.SIGKILL)
        w.wait()
        gen.kill()
        gen.wait()
        got = read_zarrc(path)
        if got is None:
            return
        # each round appends frames 0.. of the generator after the previous rounds' extent
        prev, m = sent, got.shape[0]
        check(m >= prev, "%s kill %d: the shape never shrinks (%d < %d)" % (name, k, m, prev))
        # The published shape is never ahead of the stored data (docs/api.md): every frame
        # inside the shape equals the model, none reads the fill value.
        want = model(m - prev, 64, 64)
        bad = [prev + i for i in range(m - prev) if not np.array_equal(got[prev + i], want[i])]
        infill += sum(1 for i in bad if not got[i].any())
        check(not bad, "%s kill %d: every frame inside the shape [%d, %d) holds the streamed data after kill "
              "-9 (%d do not, %d of them fill: %s)" % (name, k, prev, m, len(bad),
                                                      sum(1 for i in bad if not got[i].any()), bad[:8]))
        a = zarr.open_array(path, mode="r")
        check(a.shape == got.shape and np.array_equal(a[...], got), "%s kill %d: zarr-python reads the same"
              % (name, k))
        sent = m
    # What a killed writer left beyond the shape never shows: growing the array over it reads
    # the fill value there, and a stream after that lands on top of it intact.
    c0 = int(chunks.split(",")[0])
    grow = sent + 3 * c0 + 1
    r = subprocess.run([ZARRC, "resize", path, "--shape", "%d,64,64" % grow], capture_output=True)
    check(r.returncode == 0, "%s: resize after the kills: %s" % (name, r.stderr.decode()[-300:]))
    got = read_zarrc(path)
    if got is None:
        return
    check(got.shape[0] == grow and not got[sent:].any(),
          "%s: after the kills, the region grown over [%d, %d) reads the fill value (no orphan data)"
          % (name, sent, grow))
    r = stream(path, 5, 64, 64, 1)
    got = read_zarrc(path)
    check(r.returncode == 0 and got is not None and got.shape[0] == grow + 5 and
          np.array_equal(got[grow:], model(5, 64, 64)) and not got[sent:grow].any(),
          "%s: a stream after the kills and the grow lands intact" % name)
    print("%s: %d kill -9 rounds, extent %d frames, %d frames inside the shape read fill" % (name, rounds, sent,
                                                                                             infill))


def kills():
    import random
    rng = random.Random(int(os.environ.get("ZARRC_SEED", "10")))
    rounds = 12 if os.environ.get("ZARRC_STRESS") else 4
    for name, chunks, codecs in [("raw-1", "1,64,64", RAW), ("zstd-1", "1,64,64", ZSTD),
                                 ("zstd-4", "4,64,64", ZSTD), ("sharded-1", "1,64,64", SHARD),
                                 ("sharded-4", "4,64,64", SHARD)]:
        kill_layout(name, chunks, codecs, rounds, rng)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    streams()
    kills()
    print("interop_stream: %d passed, %d failed" % (CHECKS - len(FAILURES), len(FAILURES)))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
