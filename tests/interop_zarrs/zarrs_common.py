"""Shared by the zarrs interop scripts (run_zarrs.py, run_optional.py, run_vlen.py,
run_vlen_names.py): the command line, the check counter, building the small zarrs programs
(tests/interop_zarrs, crate pinned in Cargo.toml / Cargo.lock) with cargo into
${XDG_CACHE_HOME:-~/.cache}/zarrc/zarrs-interop/target (outside the checkout; a failed build
FAILS, never skips), running one of them on a list of cases, and reading data with zarrc."""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zarrc", "zarrs-interop")
CHECKS, FAILURES = 0, []


def args():
    """(ZARRC, WORKDIR) from the command line; WORKDIR is emptied and created."""
    if len(sys.argv) != 3:
        print("usage: %s ZARRC WORKDIR" % os.path.basename(sys.argv[0]))
        sys.exit(2)
    zarrc, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    return zarrc, work


def check(cond, msg):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def finish(what):
    """Print the summary line; the exit status for main()."""
    print("%s: %d checks, %d failed" % (what, CHECKS, len(FAILURES)))
    return 1 if FAILURES else 0


def build(binary=None):
    """Build the package's program (binary=None: zarrc-zarrs-interop, src/main.rs) or one of src/bin;
    return its path."""
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(CACHE, "target"))
    cmd = ["cargo", "build", "--release", "--locked", "-j2"] + (["--bin", binary] if binary else [])
    r = subprocess.run(cmd + ["--manifest-path", os.path.join(HERE, "Cargo.toml")], env=env, capture_output=True,
                       text=True)
    if r.returncode:
        print(r.stderr[-4000:])
        print("FAIL: building the zarrs interop program %s failed (cargo, crates.io)" % (binary or ""))
        sys.exit(1)
    return os.path.join(CACHE, "target", "release", binary or "zarrc-zarrs-interop")


def run_cases(prog, mode, cases, path):
    """Run `prog mode path` on `cases` (written to path as JSON); the {dir: result} it prints, or
    {} after a failed check."""
    with open(path, "w") as f:
        json.dump(cases, f)
    r = subprocess.run([prog, mode, path], capture_output=True, text=True)
    check(r.returncode == 0, "zarrs %s (%s): %s" % (mode, os.path.basename(path), r.stderr[-2000:]))
    return json.loads(r.stdout) if r.returncode == 0 else {}


def zarrc_data(zarrc, node, select=None):
    """`zarrc get NODE --json` (with --select): the flat data list, or "ERROR: <stderr>"."""
    cmd = [zarrc, "get", node, "--json"] + (["--select", select] if select else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        return "ERROR: " + r.stderr.strip()
    return json.loads(r.stdout)["data"]
