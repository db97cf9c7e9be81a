"""Run examples/mpi_write with N ranks, then read what they wrote with zarr-python 3.4.

mpi_write checks its own result against a sequential model (rank 0); this script repeats the
check independently, through another implementation reading the consolidated metadata:
every column carries the value of the rank that owned it (no lost read-modify-write), each
chunk of the overlapping block holds one writer's value, and the log holds every append once.
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
import zarr

ROWS, COLS, APPENDS = 64, 96, 12
BLOCK = (slice(8, 24), slice(8, 40))


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check_grid(name, arr, ranks):
    got = arr[...]
    i, j = np.meshgrid(np.arange(ROWS), np.arange(COLS), indexing="ij")
    want = (1000000 * (j % ranks + 1) + i * COLS + j).astype(np.int32)
    outside = np.ones((ROWS, COLS), bool)
    outside[BLOCK] = False
    bad = np.argwhere((got != want) & outside)
    if len(bad):
        r, c = bad[0]
        fail("%s[%d, %d] = %d, the owner of column %d wrote %d (%d elements lost)"
             % (name, r, c, got[r, c], c, want[r, c], len(bad)))
    inner = arr.chunks  # the inner chunks of a sharded array
    block = got[BLOCK]
    # Every (inner) chunk's part of the block comes from one writer, one of the ranks.
    for r0 in range(8 // inner[0] * inner[0], 24, inner[0]):
        for c0 in range(8 // inner[1] * inner[1], 40, inner[1]):
            part = got[max(r0, 8):min(r0 + inner[0], 24), max(c0, 8):min(c0 + inner[1], 40)]
            if np.unique(part).size != 1:
                fail("%s: the chunk at (%d, %d) mixes writers in the overlapping block: %s"
                     % (name, r0, c0, np.unique(part)))
    if not np.all((block <= -1) & (block >= -ranks)):
        fail("%s: the overlapping block holds values no rank wrote: %s" % (name, np.unique(block)))
    return np.unique(block).size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mpirun", required=True)
    ap.add_argument("--ranks", type=int, default=4)
    ap.add_argument("program")
    ap.add_argument("dir")
    args = ap.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    env = dict(os.environ)
    # Root in CI containers; loopback-only shared memory transport, no network probing.
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl="self,vader", OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_plm="isolated", OMPI_MCA_rmaps_base_oversubscribe="1")
    cmd = [args.mpirun, "--oversubscribe", "-np", str(args.ranks), args.program, args.dir]
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=240)
    print(p.stdout.strip())
    if p.returncode != 0:
        fail("%s exited with %d" % (" ".join(cmd), p.returncode))
    if "equal to the sequential model" not in p.stdout:
        fail("mpi_write did not report its check")

    root = zarr.open_group(args.dir, mode="r", use_consolidated=True)
    if sorted(root.keys()) != ["log", "plain", "sharded"]:
        fail("consolidated children: %s" % sorted(root.keys()))
    writers = [check_grid(n, root[n], args.ranks) for n in ("plain", "sharded")]
    log = root["log"][...]
    want_rows = sum(1 + (s + r) % 2 for r in range(args.ranks) for s in range(APPENDS))
    if log.shape != (want_rows, 4):
        fail("log shape %s, the appends made %d rows" % (log.shape, want_rows))
    rows = {tuple(x) for x in log.tolist()}
    model = {(r, s, s * r, k) for r in range(args.ranks) for s in range(APPENDS)
             for k in range(1 + (s + r) % 2)}
    if rows != model or len(rows) != want_rows:
        fail("log rows differ from the appends: missing %s, extra %s"
             % (sorted(model - rows)[:3], sorted(rows - model)[:3]))
    print("ok: %d ranks; zarr-python %s reads plain and sharded (winners per chunk: %s) and "
          "%d appended rows, all equal to the model" % (args.ranks, zarr.__version__, writers, want_rows))


if __name__ == "__main__":
    main()
