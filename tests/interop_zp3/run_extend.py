"""Extendable arrays through the CLI, checked by zarr-python 3.4 element by element.

usage: run_extend.py ZARRC WORKDIR

  - out of order: blocks at offsets 7, 5, 6 (tiled's test) and random orders of more blocks
    (several seeds) with `put --offset --extend` give the same bytes as in order;
  - append along axis 0 and 1, resize shrink (the cut region reads fill after a regrow) and
    grow; zarr-python 3.4 reads every array after each step and equals a NumPy model;
  - processes: 8 `zarrc put --offset --extend` loops × N random blocks into one array (v2, v3,
    v3 sharded; blocks overlap chunks and shards; a block's values depend only on the global
    index, so overlaps agree) equal the sequential model, shape = max of the block ends;
    8 `zarrc append` loops: every block lands whole in its own region;
  - crash: `put --offset --extend` / `append` processes (each growing the array) killed with
    SIGKILL at random moments; after each kill the array opens in zarr-python and zarrc and
    holds the old shape with the old data or the new shape with the whole block (never a
    shape ahead of the data); a grow afterwards reads fill beyond the old extent.
ZARRC_STRESS=1 (make stress) uses 50 blocks per process and more kills.
"""
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peerlib  # noqa: E402

T = peerlib.start("interop_zp3.extend: extendable arrays vs zarr-python 3.4")
import numpy as np  # noqa: E402
import zarr  # noqa: E402

ZARRC, WORK = sys.argv[1], sys.argv[2]
STRESS = os.environ.get("ZARRC_STRESS") == "1"
FILL = -1
SHARD_CODECS = ('[{"name":"sharding_indexed","configuration":{"chunk_shape":[2,2],"codecs":['
                '{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":'
                '{"level":1,"checksum":false}}],"index_codecs":[{"name":"bytes","configuration":'
                '{"endian":"little"}},{"name":"crc32c"}]}}]')
LAYOUTS = [("v2", ["--format", "2"]), ("v3", []), ("v3-sharded", ["--codecs", SHARD_CODECS])]


def z(*args, data=None, check=True):
    p = subprocess.run([ZARRC] + list(args), input=data, capture_output=True)
    if check and p.returncode != 0:
        raise RuntimeError("zarrc %s: exit %d: %s" % (" ".join(args[:3]), p.returncode,
                                                      p.stderr.decode(errors="replace")))
    return p


def create(path, shape, chunks, extra):
    import shutil
    shutil.rmtree(path, ignore_errors=True)
    z("create", path, "--dtype", "int32", "--shape", ",".join(map(str, shape)),
      "--chunks", ",".join(map(str, chunks)), "--fill-value", str(FILL), *extra)


def zp_read(path):
    a = zarr.open_array(path, mode="r")
    return a[...]


def block_json(vals):
    return ("%s" % vals.tolist()).encode()


def gval(i, j):
    return i * 1000 + j


def same(where, got, want):
    if got.shape != want.shape:
        T.fail(where, "shape %s, expected %s" % (got.shape, want.shape))
        return False
    bad = np.argwhere(got != want)
    if len(bad):
        T.fail(where, "%d elements differ, first at %s: %s != %s" % (
            len(bad), tuple(bad[0]), got[tuple(bad[0])], want[tuple(bad[0])]))
        return False
    T.ok()
    return True


def out_of_order():
    nblocks = 32 if STRESS else 12
    for name, extra in LAYOUTS:
        ref = None
        orders = [list(range(nblocks)), list(range(5)) + [7, 5, 6] + list(range(8, nblocks))]
        for seed in range(6 if STRESS else 2):
            o = list(range(nblocks))
            random.Random(seed).shuffle(o)
            orders.append(o)
        for k, order in enumerate(orders):
            path = os.path.join(WORK, "ooo-%s-%d" % (name, k))
            create(path, [0, 3], [4, 4], extra)
            for r in order:
                z("put", path, "--offset", "%d" % r, "--extend", "--json", "-",
                  data=block_json(np.array([[gval(r, j) for j in range(3)]])))
            got = zp_read(path)
            if ref is None:
                ref = got
                want = np.array([[gval(i, j) for j in range(3)] for i in range(nblocks)], dtype="int32")
                same("%s in order" % name, got, want)
            else:
                same("%s order %d" % (name, k), got, ref)


def steps():
    for name, extra in LAYOUTS:
        path = os.path.join(WORK, "steps-%s" % name)
        create(path, [3, 4], [4, 4], extra)
        model = np.full((3, 4), FILL, dtype="int32")
        blk = np.arange(6, dtype="int32").reshape(2, 3) + 100
        # without --extend a block that does not fit fails naming the current shape
        p = z("put", path, "--offset", "2,2", "--json", "-", data=block_json(blk), check=False)
        T.check(p.returncode == 1 and b"current shape [3, 4]" in p.stderr, name,
                "put without --extend: exit %d: %s" % (p.returncode, p.stderr))
        z("put", path, "--offset", "2,2", "--extend", "--json", "-", data=block_json(blk))
        model = np.pad(model, ((0, 1), (0, 1)), constant_values=FILL)
        model[2:4, 2:5] = blk
        same("%s extend" % name, zp_read(path), model)
        ap = np.arange(10, dtype="int32").reshape(2, 5) + 200
        z("append", path, "--axis", "0", "--json", "-", data=block_json(ap))
        model = np.concatenate([model, ap])
        same("%s append axis 0" % name, zp_read(path), model)
        col = np.arange(6, dtype="int32").reshape(6, 1) + 300
        raw = col.astype("<i4").tobytes()
        z("append", path, "--axis", "1", "--raw", "-", "--shape", "6,1", data=raw)
        model = np.concatenate([model, col], axis=1)
        same("%s append axis 1 (raw)" % name, zp_read(path), model)
        z("resize", path, "--shape", "3,2")
        model = model[:3, :2]
        same("%s shrink" % name, zp_read(path), model)
        z("resize", path, "--shape", "7,7")
        model = np.pad(model, ((0, 4), (0, 5)), constant_values=FILL)
        same("%s regrow reads fill" % name, zp_read(path), model)
        p = z("resize", path, "--shape", "7", check=False)
        T.check(p.returncode == 1 and b"dimension" in p.stderr, name, "bad resize: %s" % p.stderr)


def procs_extend():
    nproc, nblk = 8, (50 if STRESS else 6)
    for name, extra in LAYOUTS:
        path = os.path.join(WORK, "procs-%s" % name)
        create(path, [0, 0], [4, 4], extra)
        rng = random.Random(name)
        plans = []
        for p in range(nproc):
            blocks = []
            for _ in range(nblk):
                r, c = rng.randrange(0, 40), rng.randrange(0, 10)
                h, w = rng.randrange(1, 6), rng.randrange(1, 6)
                blocks.append((r, c, h, w))
            plans.append(blocks)
        # each process runs its blocks with a shell loop of zarrc calls
        procs = []
        for blocks in plans:
            script = []
            for (r, c, h, w) in blocks:
                vals = [[gval(i, j) for j in range(c, c + w)] for i in range(r, r + h)]
                script.append("echo '%s' | %s put %s --offset %d,%d --extend --json - || exit 1" % (
                    vals, ZARRC, path, r, c))
            procs.append(subprocess.Popen(["sh", "-c", "\n".join(script)], stderr=subprocess.PIPE))
        errs = [p.communicate()[1] for p in procs]
        T.check(all(p.returncode == 0 for p in procs), name, "a writer failed: %s" % errs)
        rows = max(r + h for b in plans for (r, c, h, w) in b)
        cols = max(c + w for b in plans for (r, c, h, w) in b)
        model = np.full((rows, cols), FILL, dtype="int32")
        for b in plans:
            for (r, c, h, w) in b:
                for i in range(r, r + h):
                    for j in range(c, c + w):
                        model[i, j] = gval(i, j)
        same("%s: %d processes x %d extends" % (name, nproc, nblk), zp_read(path), model)


def procs_append():
    nproc, nblk = 8, (50 if STRESS else 5)
    for name, extra in LAYOUTS:
        path = os.path.join(WORK, "append-%s" % name)
        create(path, [0, 3], [4, 4], extra)
        procs = []
        for p in range(nproc):
            script = ["echo '[[%d,%d,%d],[%d,%d,%d]]' | %s append %s --axis 0 --json - || exit 1" % (
                p, k, 7, p, k, 8, ZARRC, path) for k in range(nblk)]
            procs.append(subprocess.Popen(["sh", "-c", "\n".join(script)], stderr=subprocess.PIPE))
        errs = [p.communicate()[1] for p in procs]
        T.check(all(p.returncode == 0 for p in procs), name, "an appender failed: %s" % errs)
        got = zp_read(path)
        ok = got.shape == (2 * nproc * nblk, 3)
        seen = set()
        for i in range(0, got.shape[0] - 1, 2):
            a, b = got[i], got[i + 1]
            if not (a[0] == b[0] and a[1] == b[1] and a[2] == 7 and b[2] == 8):
                ok = False
            seen.add((int(a[0]), int(a[1])))
        T.check(ok and len(seen) == nproc * nblk, name,
                "%d processes x %d appends: shape %s, %d distinct whole blocks" % (
                    nproc, nblk, got.shape, len(seen)))


def crash():
    """SIGKILL of `put --offset --extend` / `append` at random moments. Every block grows the
    array (extends land at or past the current extent, leaving gaps of 0-2 rows that read
    fill): after a kill the shape is the old one with the old contents, or the new one with
    the whole block stored — the published shape is never ahead of the data."""
    kills = 40 if STRESS else 16
    for name, extra in LAYOUTS:
        path = os.path.join(WORK, "crash-%s" % name)
        # kill points spread over a whole put: its duration on this machine now (load varies)
        create(path, [0, 3], [4, 2], extra)
        took = []
        for i in range(3):
            t0 = time.time()
            z("put", path, "--offset", "%d" % (3 * i), "--extend", "--json", "-", data=b"[[1,2,3]]")
            took.append(time.time() - t0)
        span = 1.3 * sorted(took)[1]
        create(path, [0, 3], [4, 2], extra)
        rng = random.Random(7)
        model = np.full((0, 3), FILL, dtype=np.int32)
        bad = landed = 0
        for k in range(kills):
            verb = k % 2
            cur = model.shape[0]
            r = cur + rng.randrange(0, 3) if verb == 0 else cur
            vals = [[gval(i, j) for j in range(3)] for i in range(r, r + 3)]
            args = ([ZARRC, "put", path, "--offset", "%d" % r, "--extend", "--json", "-"] if verb == 0
                    else [ZARRC, "append", path, "--axis", "0", "--json", "-"])
            p = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
            p.stdin.write(("%s" % vals).encode())
            p.stdin.close()
            time.sleep(rng.random() * span)
            p.send_signal(signal.SIGKILL)
            p.wait()
            try:
                got = zp_read(path)
            except Exception as e:  # noqa: BLE001
                T.fail(name, "after kill %d zarr-python cannot read: %r" % (k, e))
                bad += 1
                continue
            if z("get", path, "--json", check=False).returncode != 0:
                T.fail(name, "after kill %d zarrc cannot read" % k)
                bad += 1
            grown = np.concatenate([model, np.full((r - cur, 3), FILL, np.int32), np.array(vals, np.int32)])
            if got.shape == model.shape and np.array_equal(got, model):
                pass
            elif got.shape == grown.shape and np.array_equal(got, grown):
                model = grown
                landed += 1
            else:
                fill_rows = [i for i in range(cur, got.shape[0]) if (got[i] == FILL).all()]
                T.fail(name, "after kill %d (%s at row %d): shape %s is neither the old %s with the old data nor "
                       "%s with the whole block (rows reading fill from %d: %s)" % (
                           k, "put --extend" if verb == 0 else "append", r, got.shape, model.shape,
                           grown.shape, cur, fill_rows))
                bad += 1
                if got.shape[0] >= cur and np.array_equal(got[:cur], model):
                    model = got.astype(np.int32)
        print("%s: %d kills, %d blocks landed, %d did not" % (name, kills, landed, kills - landed), flush=True)
        T.check(bad == 0, name, "%d kills (%d blocks landed): old or new shape, never ahead of the data" % (
            kills, landed))
        # what killed writers left beyond the shape never shows: grow over it, then append
        n0 = model.shape[0]
        z("resize", path, "--shape", "%d,3" % (n0 + 9))
        got = zp_read(path)
        T.check(got.shape == (n0 + 9, 3) and (got[n0:] == FILL).all(), name,
                "a grow after the kills reads fill beyond the old extent")
        # the array still works after the kills
        z("append", path, "--axis", "0", "--json", "-", data=b"[[1000,1001,1002]]")
        got = zp_read(path)
        T.check(list(got[-1]) == [1000, 1001, 1002], name, "append after kills: %s" % got[-1:])


os.makedirs(WORK, exist_ok=True)
for fn in (steps, out_of_order, procs_extend, procs_append, crash):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        T.fail(fn.__name__, repr(e))
sys.exit(T.finish())
