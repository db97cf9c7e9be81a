#!/usr/bin/env bash
# bench_safety.sh — what the safety work costs: whole-array writes with per-key locking (every
# chunk write takes its key's lock) and with ZARRC_STORE_DURABLE, against a baseline commit
# built the same way, in the same run. Reported as ratios of median seconds (baseline / this).
#
#   bench/bench_safety.sh [BASELINE_COMMIT] [RUNS]     (default 31ed13a, 5 runs)
#
# Workloads: 512^3 uint16 (256 MiB), chunks 64^3 (512 KiB, 512 chunks) and 32^3 (64 KiB,
# 4096 chunks: where per-chunk costs show most), encodings none and zstd level 1, on the local
# filesystem (warm page cache). Needs git, cmake, gcc and the build dependencies.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE=${1:-31ed13a}
RUNS=${2:-5}
WORK=${ZARRC_BENCH_DIR:-/tmp/zarrc-bench-safety}
mkdir -p "$WORK"
DEPLIBS="$(pkg-config --libs json-c blosc libzstd liblz4 zlib liblzma libdeflate) -lbz2 -lzfp -ldl -lpthread -lm"

build() { # SRC_DIR OUT_BINARY
    cmake -S "$1" -B "$WORK/build-$(basename "$2")" -DCMAKE_BUILD_TYPE=Release -DZARRC_BUILD_TESTS=OFF >/dev/null
    cmake --build "$WORK/build-$(basename "$2")" -j"$(nproc)" >/dev/null
    # shellcheck disable=SC2086
    gcc -O2 -std=gnu11 -I"$1/include" "$ROOT/bench/zarrc_bench.c" "$WORK/build-$(basename "$2")/libzarrc.a" \
        $DEPLIBS -o "$2"
}

rm -rf "$WORK/base-src"
git -C "$ROOT" worktree add -f -q "$WORK/base-src" "$BASE"
trap 'git -C "$ROOT" worktree remove -f "$WORK/base-src" 2>/dev/null || true' EXIT
build "$WORK/base-src" "$WORK/zb-base"
build "$ROOT" "$WORK/zb-new"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # BINARY ENCODING CHUNKS [env...]
    local bin=$1 enc=$2 ch=$3
    shift 3
    for _ in $(seq "$RUNS"); do
        rm -rf "$WORK/arr"
        env "$@" "$bin" write "$WORK/arr" --format 3 --encoding "$enc" --shape 512 --chunks "$ch" |
            sed 's/.*"seconds": *\([0-9.e-]*\).*/\1/'
    done | median
}

printf '%-22s %10s %10s %10s %12s %12s\n' workload base_s new_s durable_s new/base durable/base
for enc in none zstd; do
    for ch in 64 32; do
        b=$(run "$WORK/zb-base" $enc $ch)
        n=$(run "$WORK/zb-new" $enc $ch)
        d=$(run "$WORK/zb-new" $enc $ch ZARRC_BENCH_DURABLE=1)
        printf '%-22s %10.3f %10.3f %10.3f %12.2f %12.2f\n' "write $enc chunks $ch^3" "$b" "$n" "$d" \
            "$(echo "$n / $b" | bc -l)" "$(echo "$d / $b" | bc -l)"
    done
done
