#!/usr/bin/python3
"""bench_hierarchy.py — zarr-python 2.13 creating the hierarchy bench_hierarchy.c creates.

  /usr/bin/python3 bench_hierarchy.py DIR GROUPS ARRAYS

Under a fresh DIR: the root group, GROUPS groups "g0000".., and in each ARRAYS arrays
"a0".. (float32 100x100, chunks 10x10, blosc lz4 shuffle, fill 0), one create call per node
as a zarr-python user writes it. Prints one JSON line like bench_hierarchy.c.
"""
import json
import os
import shutil
import sys
import time

import zarr
from numcodecs import Blosc


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, groups, arrays = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    shutil.rmtree(path, ignore_errors=True)
    comp = Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)
    t0 = time.perf_counter()
    root = zarr.open_group(path, mode="w")
    for g in range(groups):
        grp = root.create_group(f"g{g:04d}")
        for a in range(arrays):
            grp.create_dataset(f"a{a}", shape=(100, 100), chunks=(10, 10), dtype="<f4",
                               compressor=comp, fill_value=0.0)
    t1 = time.perf_counter()
    stored = sum(1 for d, _, files in os.walk(path) for f in files if f in (".zarray", ".zgroup"))
    expected = 1 + groups * (1 + arrays)
    if stored != expected:
        print(f"bench_hierarchy.py: {stored} nodes stored, {expected} expected", file=sys.stderr)
        return 1
    print(json.dumps({"impl": f"zarr-python {zarr.__version__}", "format": 2, "nodes": expected,
                      "seconds": round(t1 - t0, 6), "nodes_per_s": round(expected / (t1 - t0), 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
