#!/bin/bash
# profile_engine.sh — instruction counts (callgrind) and page faults / peak RSS of zarrc's
# whole-array read and write on the issue-15 encodings, for before/after comparisons of engine
# changes on a busy machine (wall clock is not trustworthy there; instruction counts are).
#
#   bench/profile_engine.sh [BUILD_DIR] [OUT_DIR]
#
# BUILD_DIR holds libzarrc.a (default build); OUT_DIR (default /tmp/zarrc-profile) gets the data,
# the binaries and one callgrind file per cell. Small arrays: 256^3 uint16, 128^3 chunks
# (sharded: 32^3 inner chunks) for callgrind; 512^3 / 256^3 for page faults and RSS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
OUT=${2:-/tmp/zarrc-profile}
mkdir -p "$OUT"
DEPLIBS="$(pkg-config --libs json-c blosc libzstd liblz4 zlib liblzma libdeflate) -lbz2 -lzfp -ldl -lpthread -lm"
CFLAGS="-O2 -g -std=gnu11 -I$ROOT/include"
# shellcheck disable=SC2086
gcc $CFLAGS "$ROOT/bench/engine_mkdata.c" "$BUILD/libzarrc.a" $DEPLIBS -o "$OUT/mk"
# shellcheck disable=SC2086
gcc $CFLAGS "$ROOT/bench/zarrc_bench.c" "$BUILD/libzarrc.a" $DEPLIBS -o "$OUT/zb"
export ZARRC_NUM_THREADS=2
ir() { valgrind --tool=callgrind --callgrind-out-file="$1" "${@:2}" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
for e in none zstd0 blosclz9 sharded; do
    inner=(); [ "$e" = sharded ] && inner=(--inner 32)
    w=$(ir "$OUT/cg_write_$e.out" "$OUT/mk" "$OUT/s_$e" --encoding "$e" --shape 256 --chunks 128 "${inner[@]}")
    r=$(ir "$OUT/cg_read_$e.out" "$OUT/zb" read "$OUT/s_$e")
    echo "$e 256^3/128^3: write Ir $w; read Ir $r (both include the bench's own data generation / check)"
done
for e in none zstd0 blosclz9 sharded; do
    inner=(); [ "$e" = sharded ] && inner=(--inner 64)
    [ -d "$OUT/l_$e" ] || "$OUT/mk" "$OUT/l_$e" --encoding "$e" --shape 512 --chunks 256 "${inner[@]}" >/dev/null
    res=$(perf stat -x, -e page-faults "$OUT/zb" read "$OUT/l_$e" 2>&1 | tr '\n' ' ')
    echo "$e 512^3/256^3 read: $res"
done
