#!/usr/bin/env bash
# bench/bench_hierarchy.sh — create a hierarchy of 10,000 nodes (1,000 groups x 9 arrays plus
# the root) on local disk with zarrc's batch call (zarrc_hierarchy_create) and with
# zarr-python 2.13 (one create call per node), side by side; prints a markdown table with the
# medians and the speed-up (target: zarrc >= 5x faster).
#
#   bench/bench_hierarchy.sh [--runs N] [--groups G] [--arrays A] [--dir DIR] [--threads N]
#
#   --runs N     runs per implementation, alternating (default 3; medians are reported)
#   --groups G   groups (default 1000)      --arrays A   arrays per group (default 9)
#   --dir DIR    scratch directory on the disk to measure (default build-bench/hier-scratch)
#   --threads N  zarrc's pool size (default: ZARRC_NUM_THREADS, else the number of cores)
#
# Every run writes into a new directory, and nothing is deleted until the end: on ext4,
# creating files right after deleting many is slower (freed inodes are skipped for a while),
# which would penalize whoever runs next. Both implementations write the same v2 documents
# (float32 100x100, chunks 10x10, blosc lz4 shuffle) through a temp-file-and-rename store; the
# v3 row is zarrc writing the v3 equivalent. zarrc's output is opened with zarr-python to check
# it. It is a benchmark, not a test: nothing in `make check` runs it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
RUNS=3 GROUPS_N=1000 ARRAYS_N=9 SCRATCH= THREADS=${ZARRC_NUM_THREADS:-$(nproc)}
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=$2; shift ;;
    --groups) GROUPS_N=$2; shift ;;
    --arrays) ARRAYS_N=$2; shift ;;
    --dir) SCRATCH=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_hierarchy.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
SCRATCH=${SCRATCH:-$BUILD/hier-scratch}
export ZARRC_NUM_THREADS=$THREADS
PY=/usr/bin/python3
log() { printf '[bench_hierarchy %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

log "building libzarrc (Release) in $BUILD"
mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DZARRC_BUILD_TESTS=OFF >"$BUILD/hier.cmake.log" 2>&1 ||
    { cat "$BUILD/hier.cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" --target zarrc_static >>"$BUILD/hier.cmake.log" 2>&1 ||
    { tail -30 "$BUILD/hier.cmake.log" >&2; exit 1; }
# shellcheck disable=SC2046
gcc -O2 -g -std=gnu11 -Wall -Wextra -I"$ROOT/include" "$ROOT/bench/bench_hierarchy.c" "$BUILD/libzarrc.a" \
    $(pkg-config --libs json-c blosc libzstd liblz4 zlib liblzma libdeflate) -lbz2 -lzfp -ldl -lpthread -lm \
    -o "$BUILD/bench_hierarchy"

HAVE_PY=1
"$PY" -c 'import zarr, numcodecs' 2>/dev/null || { HAVE_PY=0; log "zarr-python missing: its row is n/a (scripts/install-deps.sh test installs it)"; }

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
RESULTS=$SCRATCH/results.jsonl
: >"$RESULTS"
for ((r = 1; r <= RUNS; r++)); do
    log "run $r/$RUNS"
    "$BUILD/bench_hierarchy" "$SCRATCH/zarrc-v2-$r.zarr" 2 "$GROUPS_N" "$ARRAYS_N" >>"$RESULTS"
    if [ $HAVE_PY = 1 ]; then
        "$PY" "$ROOT/bench/bench_hierarchy.py" "$SCRATCH/zarrpy-$r.zarr" "$GROUPS_N" "$ARRAYS_N" >>"$RESULTS"
    fi
    "$BUILD/bench_hierarchy" "$SCRATCH/zarrc-v3-$r.zarr" 3 "$GROUPS_N" "$ARRAYS_N" >>"$RESULTS"
done
if [ $HAVE_PY = 1 ]; then
    log "checking zarrc's hierarchy with zarr-python"
    "$PY" - "$SCRATCH/zarrc-v2-1.zarr" "$GROUPS_N" "$ARRAYS_N" <<'EOF'
import sys, zarr
root = zarr.open_group(sys.argv[1], mode="r")
g, a = int(sys.argv[2]), int(sys.argv[3])
groups = list(root.group_keys())
assert len(groups) == g, len(groups)
last = root[groups[-1]]
arrays = list(last.array_keys())
assert len(arrays) == a and last[arrays[0]].shape == (100, 100), arrays
EOF
fi

"$PY" - "$RESULTS" "$RUNS" "$THREADS" "$(nproc)" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
runs, threads, cores = sys.argv[2], sys.argv[3], sys.argv[4]
def cell(impl_prefix, fmt):
    s = [r["seconds"] for r in rows if r["impl"].startswith(impl_prefix) and r["format"] == fmt]
    return (statistics.median(s), min(s), max(s), rows[0]["nodes"]) if s else None
z2, z3, py = cell("zarrc", 2), cell("zarrc", 3), cell("zarr-python", 2)
nodes = rows[0]["nodes"]
print(f"\n## Hierarchy creation: {nodes} nodes on local disk ({runs} runs, median; "
      f"zarrc threads={threads}, cores={cores})\n")
print("| implementation | format | seconds (median) | range | nodes/s | speed-up vs zarr-python |")
print("|---|---|---|---|---|---|")
pyname = next((r["impl"] for r in rows if r["impl"].startswith("zarr-python")), "zarr-python 2.13")
for name, fmt, c in (("zarrc (one batch call)", 2, z2), ("zarrc (one batch call)", 3, z3), (pyname, 2, py)):
    if not c:
        print(f"| {name} | v{fmt} | n/a | | | |")
        continue
    sp = f"{py[0] / c[0]:.1f}x" if py else "n/a"
    print(f"| {name} | v{fmt} | {c[0]:.3f} | {c[1]:.3f}-{c[2]:.3f} | {nodes / c[0]:.0f} | {sp} |")
if py and z2:
    ratio = py[0] / z2[0]
    print(f"\nzarrc v2 is {ratio:.1f}x faster than zarr-python (target >= 5x: {'met' if ratio >= 5 else 'NOT met'}).")
EOF
log "removing $SCRATCH"
rm -rf "$SCRATCH"
