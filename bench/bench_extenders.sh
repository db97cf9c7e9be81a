#!/usr/bin/env bash
# bench/bench_extenders.sh — N concurrent extenders of one array (issue 10, "many writers at
# once"): P processes each run K `zarrc put --offset I,0,0 --extend --raw` of one H x W uint16
# block (one chunk [1, H, W]) into one array that starts at shape [0, H, W]; process p writes
# the blocks I = p, p + P, p + 2P, ... so that the array grows from every process. Every
# extend takes the array's grow lock (<array>/.zarrc-grow), so the writers are serialized
# there. Compared with: the same P*K blocks from one process one put each (P = 1), and as one
# put of the whole [P*K, H, W] block. Each run's final contents are checked byte for byte
# (zarrc get --raw) against the blocks.
#   bench/bench_extenders.sh [BUILD_DIR] [SCRATCH] [-- options]
#   options: --procs 1,2,4,8 (default)  --blocks N (total blocks, default 64; a multiple of
#            every P)  --size H (default 256: blocks of H x H uint16)  --codec none|blosc-lz4
#            (default none)  --runs R (default 3; the median is printed)
# Prints a markdown table: processes, blocks per process, median ms, blocks/s, and the ratio
# to the single-process one-put-per-block time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
SCRATCH=${2:-/tmp/zarrc-bench-extenders}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
PROCS="1,2,4,8" BLOCKS=64 SIZE=256 CODEC=none RUNS=3
while [ $# -gt 0 ]; do
    case "$1" in
        --procs) PROCS=$2; shift 2 ;;
        --blocks) BLOCKS=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --codec) CODEC=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        *) echo "bench_extenders: unknown option $1" >&2; exit 2 ;;
    esac
done
log() { printf '[bench_extenders %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
case "$CODEC" in
    none) CODECS='[{"name":"bytes","configuration":{"endian":"little"}}]' ;;
    blosc-lz4) CODECS='[{"name":"bytes","configuration":{"endian":"little"}},{"name":"blosc","configuration":{"cname":"lz4","clevel":1,"shuffle":"shuffle","typesize":2,"blocksize":0}}]' ;;
    *) echo "bench_extenders: --codec none or blosc-lz4" >&2; exit 2 ;;
esac
for p in ${PROCS//,/ }; do
    [ $((BLOCKS % p)) -eq 0 ] || { echo "bench_extenders: --blocks $BLOCKS is not a multiple of $p" >&2; exit 2; }
done
log "building zarrc (Release) in $BUILD"
mkdir -p "$BUILD" "$SCRATCH"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DZARRC_BUILD_TESTS=OFF >"$BUILD/extenders.cmake.log" 2>&1 ||
    { cat "$BUILD/extenders.cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j2 --target zarrc >>"$BUILD/extenders.cmake.log" 2>&1 ||
    { tail -30 "$BUILD/extenders.cmake.log" >&2; exit 1; }
Z=$BUILD/zarrc
export ZARRC_NUM_THREADS=${ZARRC_NUM_THREADS:-1} # one core per writer process

# The blocks: block I holds (I * 7919 + element index) mod 65536, little-endian uint16.
BL=$SCRATCH/blocks
rm -rf "$BL" && mkdir -p "$BL"
python3 - "$BL" "$BLOCKS" "$SIZE" <<'EOF'
import array, sys
d, n, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(d + "/all.raw", "wb") as out:
    for i in range(n):
        a = array.array("H", ((i * 7919 + k) & 0xFFFF for k in range(h * h)))
        if sys.byteorder != "little":
            a.byteswap()
        with open("%s/%d.raw" % (d, i), "wb") as f:
            f.write(a.tobytes())
        out.write(a.tobytes())
EOF

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fresh() { # fresh array at $1
    rm -rf "$1"
    "$Z" create "$1" --dtype uint16 --shape "0,$SIZE,$SIZE" --chunks "1,$SIZE,$SIZE" --codecs "$CODECS" >/dev/null
}
check() { # the array at $1 holds exactly the blocks (same bytes, so also shape [BLOCKS, H, W])
    "$Z" get "$1" --raw --quiet | cmp -s - "$BL/all.raw" ||
        { echo "bench_extenders: $1 differs from the blocks ($2)" >&2; exit 1; }
}
worker() { # worker P p A: blocks p, p + P, ... into A
    local P=$1 p=$2 A=$3 i
    for ((i = p; i < BLOCKS; i += P)); do
        "$Z" put "$A" --offset "$i,0,0" --extend --shape "1,$SIZE,$SIZE" --raw "$BL/$i.raw" --quiet
    done
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

log "$BLOCKS blocks of ${SIZE}x$SIZE uint16 ($CODEC), $RUNS runs, load: $(uptime | sed 's/.*load average: //')"
A=$SCRATCH/arr
times=()
for r in $(seq "$RUNS"); do
    fresh "$A"
    t0=$(now_ms)
    "$Z" put "$A" --offset 0,0,0 --extend --shape "$BLOCKS,$SIZE,$SIZE" --raw "$BL/all.raw" --quiet
    t1=$(now_ms)
    check "$A" "one put"
    times+=($((t1 - t0)))
done
one=$(printf '%s\n' "${times[@]}" | median)
echo "| writers | blocks each | ms (median of $RUNS) | blocks/s | vs 1 writer |"
echo "|---:|---:|---:|---:|---:|"
echo "| 1 process, one put of all $BLOCKS blocks | - | $one | - | - |"
base=
for P in ${PROCS//,/ }; do
    times=()
    for r in $(seq "$RUNS"); do
        fresh "$A"
        t0=$(now_ms)
        pids=()
        for ((p = 0; p < P; p++)); do
            worker "$P" "$p" "$A" &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do
            wait "$pid" || { echo "bench_extenders: a writer failed (P=$P)" >&2; exit 1; }
        done
        t1=$(now_ms)
        check "$A" "P=$P run $r"
        times+=($((t1 - t0)))
    done
    ms=$(printf '%s\n' "${times[@]}" | median)
    [ -n "$base" ] || base=$ms
    echo "| $P | $((BLOCKS / P)) | $ms | $(awk -v b="$BLOCKS" -v m="$ms" 'BEGIN {printf "%.0f", b * 1000 / (m ? m : 1)}') | $(awk -v b="$base" -v m="$ms" 'BEGIN {printf "%.2fx", b / (m ? m : 1)}') |"
done
rm -rf "$A" "$BL"
