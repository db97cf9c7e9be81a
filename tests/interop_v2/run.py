#!/usr/bin/python3
"""ctest driver for the zarr-python 2.13 interop tests: one generating step, then its checker.

  run.py read  ZARRC WORKDIR   zarr-python writes (gen_zarrpy.py), zarrc reads (check_zarrc_reads.py)
  run.py write ZARRC WORKDIR   zarrc writes (zarrc_write.py), zarr-python reads (check_zarrpy_reads.py)
"""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import v2common as C  # noqa: E402

C.require_peer()


def step(*args):
    t = time.monotonic()
    print("+ " + " ".join(os.path.basename(a) if a.endswith(".py") else a for a in args),
          flush=True)
    rc = subprocess.call([sys.executable] + list(args))
    print("  (%.1f s, exit %d)" % (time.monotonic() - t, rc), flush=True)
    return rc


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("read", "write"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, zarrc, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    if mode == "read":
        rc = step(os.path.join(HERE, "gen_zarrpy.py"), work)
        if rc != 0:
            print("FAIL: zarr-python could not generate the arrays")
            return 1
        return step(os.path.join(HERE, "check_zarrc_reads.py"), zarrc, work)
    rc = step(os.path.join(HERE, "zarrc_write.py"), zarrc, work)
    if rc != 0:
        print("FAIL: the zarrc writing step itself crashed")
        return 1
    return step(os.path.join(HERE, "check_zarrpy_reads.py"), work)


if __name__ == "__main__":
    sys.exit(main())
