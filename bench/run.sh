#!/usr/bin/env bash
# bench/run.sh — zarrc's side-by-side benchmark suite. One command: builds zarrc (Release, in
# build-bench/), generates the workload once per encoding with zarrc, runs every
# operation x encoding x implementation --runs times, and prints the markdown table.
#
#   bench/run.sh [--quick | --large] [--runs N] [--threads N] [--save] [--only ENC,...]
#
#   --quick      128^3 array, 32^3 chunks, 8^3 inner chunks: checks the scripts in ~1 minute
#   (default)    512^3 array, 128^3 chunks, 32^3 inner chunks (256 MiB)
#   --large      1024^3 array, 256^3 chunks, 64^3 inner chunks (2 GiB; needs ~12 GiB of RAM
#                and ~8 GiB of disk)
#   --runs N     runs per cell (default 3; medians are reported)
#   --threads N  threads for zarrc, the limit and the "N concurrent" cells (default: the
#                ZARRC_NUM_THREADS environment variable, else the number of cores)
#   --save       also write the report to bench/RESULTS.md
#   --only LIST  only these encodings (none,zstd,blosc,sharded)
#
# It is a benchmark, not a test: nothing in `make check` runs it. Peers (zarr-python 2.13 via
# /usr/bin/python3, zarrita under Node from tests/peers) come from `scripts/install-deps.sh
# test`; a missing peer is reported as "n/a" in its cells. Reads are measured with a warm page
# cache (every store is read once before its cells). Writes go to the page cache (no fsync).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
SIZE=default RUNS=3 THREADS=${ZARRC_NUM_THREADS:-$(nproc)} SAVE=0 ONLY=none,zstd,blosc,sharded
CMDLINE="bench/run.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
    --quick) SIZE=quick ;;
    --large) SIZE=large ;;
    --runs) RUNS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --save) SAVE=1 ;;
    --only) ONLY=$2; shift ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $SIZE in
quick) SHAPE=128 CHUNKS=32 INNER=8 ;;
default) SHAPE=512 CHUNKS=128 INNER=32 ;;
large) SHAPE=1024 CHUNKS=256 INNER=64 ;;
esac
[ "$RUNS" -ge 1 ] || { echo "run.sh: --runs must be >= 1" >&2; exit 2; }
if [ $SAVE = 1 ] && { [ "$RUNS" -lt 3 ] || [ $SIZE = quick ]; }; then
    echo "run.sh: --save needs --runs >= 3 and not --quick (RESULTS.md reports medians)" >&2
    exit 2
fi
export ZARRC_NUM_THREADS=$THREADS
ARRAY_BYTES=$((SHAPE * SHAPE * SHAPE * 2))
INNER_PER_SHARD=$(((CHUNKS / INNER) ** 3))

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- build ----
log "building zarrc (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DZARRC_BUILD_TESTS=OFF >"$BUILD.cmake.log" 2>&1 ||
    { cat "$BUILD.cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" >>"$BUILD.cmake.log" 2>&1 || { tail -30 "$BUILD.cmake.log" >&2; exit 1; }
DEPLIBS="$(pkg-config --libs json-c blosc libzstd liblz4 zlib liblzma libdeflate libcurl libcrypto) -lbz2 -lzfp -lpthread -lm"
CFLAGS="-O2 -g -std=gnu11 -Wall -Wextra -I$ROOT/include"
# shellcheck disable=SC2086
gcc $CFLAGS "$ROOT/bench/zarrc_bench.c" "$BUILD/libzarrc.a" $DEPLIBS -o "$BUILD/zarrc_bench"
# shellcheck disable=SC2086
gcc $CFLAGS "$ROOT/bench/limit.c" $(pkg-config --cflags --libs blosc libzstd) -lpthread -o "$BUILD/limit"
ZB=$BUILD/zarrc_bench LIMIT=$BUILD/limit ZARRC=$BUILD/zarrc

# ---- peers ----
PY=/usr/bin/python3
NODE_MODULES=$ROOT/tests/peers/node_modules
have_zarrpy() { "$PY" -c 'import zarr, numcodecs, numpy' 2>/dev/null; }
have_zarrita() { command -v node >/dev/null && [ -f "$NODE_MODULES/zarrita/package.json" ]; }
if ! have_zarrpy || ! have_zarrita; then
    log "a peer is missing: running scripts/install-deps.sh test"
    "$ROOT/scripts/install-deps.sh" test >&2 || log "install-deps failed; missing peers will be n/a"
fi
HAVE_ZARRPY=0 HAVE_ZARRITA=0 HAVE_CP=0
have_zarrpy && HAVE_ZARRPY=1
have_zarrita && HAVE_ZARRITA=1
# `zarrc cp` copies identically encoded stored bytes without decoding; a round trip needs the
# option that makes it decode and re-encode (CP_DECODE_FLAG). Without it the CLI is measured
# as it is (a raw copy, its own row) and zarrc's round trip is zarrc_array_copy with raw copies
# disabled (the same engine), through zarrc_bench.
CP_DECODE_FLAG=--no-raw HAVE_CP_DECODE=0
if [ -x "$ZARRC" ] && "$ZARRC" cp --help >/dev/null 2>&1; then
    HAVE_CP=1
    "$ZARRC" cp --help 2>&1 | grep -q -- "$CP_DECODE_FLAG" && HAVE_CP_DECODE=1
fi

DATA=$BUILD/data-$SIZE SCRATCH=$BUILD/scratch-$SIZE
RESULTS=$BUILD/results-$SIZE.jsonl LOADLOG=$BUILD/loadavg-$SIZE.log CPULOG=$BUILD/cpu-$SIZE.txt
REPORT=$BUILD/RESULTS-$SIZE.md
mkdir -p "$DATA" "$SCRATCH"
: >"$RESULTS"
: >"$LOADLOG"
grep '^cpu ' /proc/stat >"$CPULOG" # with the end's line and our own children's CPU time: how
                                   # much CPU other processes took during the run

# Sample the load average every 10 s for the report (how loaded the machine was).
(while :; do cat /proc/loadavg >>"$LOADLOG"; sleep 10; done) &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null || true' EXIT

json_str() { "$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()[-400:]))'; }

# record OP ENC FMT IMPL VARIANT RUN -- CMD...: run CMD, append its JSON result (last stdout
# line) or the error to $RESULTS.
record() {
    local op=$1 enc=$2 fmt=$3 impl=$4 variant=$5 run=$6
    shift 7
    local out err rc=0
    err=$(mktemp)
    out=$("$@" 2>"$err") || rc=$?
    local line
    if [ $rc -eq 0 ] && line=$(printf '%s\n' "$out" | tail -1) && [ "${line:0:1}" = "{" ]; then
        printf '{"op":"%s","enc":"%s","fmt":"%s","impl":"%s","variant":"%s","run":%d,"result":%s}\n' \
            "$op" "$enc" "$fmt" "$impl" "$variant" "$run" "$line" >>"$RESULTS"
    else
        local msg
        msg=$(cat "$err" | json_str)
        log "FAILED: $op $enc $fmt $impl $variant: $(tail -c 300 "$err")"
        printf '{"op":"%s","enc":"%s","fmt":"%s","impl":"%s","variant":"%s","run":%d,"error":%s}\n' \
            "$op" "$enc" "$fmt" "$impl" "$variant" "$run" "$msg" >>"$RESULTS"
    fi
    rm -f "$err"
}

# na OP ENC FMT IMPL VARIANT REASON: a cell that cannot be measured, with the reason.
na() {
    printf '{"op":"%s","enc":"%s","fmt":"%s","impl":"%s","variant":"%s","run":0,"na":"%s"}\n' \
        "$1" "$2" "$3" "$4" "$5" "$6" >>"$RESULTS"
}

repeat() { # repeat OP ENC FMT IMPL VARIANT -- CMD...  (RUNS times)
    local a=("$1" "$2" "$3" "$4" "$5") r
    shift 5
    for ((r = 1; r <= RUNS; r++)); do
        record "${a[@]}" "$r" "$@"
    done
}

# verified OP ENC FMT IMPL DIR: zarrc reads back what an implementation wrote; a wrong or
# unreadable result is recorded against that cell.
verified() {
    local err
    if ! err=$("$ZB" verify "$5" 2>&1 >/dev/null); then
        log "VERIFY FAILED: $1 $2 $3 $4: $err"
        printf '{"op":"%s","enc":"%s","fmt":"%s","impl":"%s","variant":"-","run":0,"error":%s}\n' \
            "$1" "$2" "$3" "$4" "$(printf 'output failed verification: %s' "$err" | json_str)" >>"$RESULTS"
    fi
}

warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }

codec_of() { case $1 in sharded) echo zstd ;; *) echo "$1" ;; esac; }

IFS=, read -r -a ENCODINGS <<<"$ONLY"
log "size $SIZE: ${SHAPE}^3 uint16, chunks ${CHUNKS}^3, inner ${INNER}^3; $RUNS runs; $THREADS threads"
log "peers: zarr-python=$HAVE_ZARRPY zarrita=$HAVE_ZARRITA; zarrc cp=$HAVE_CP (decoding: $HAVE_CP_DECODE)"

# ---- data: generated once per encoding, by zarrc, as v3 and (where it exists) v2 ----
for enc in "${ENCODINGS[@]}"; do
    for fmt in 3 2; do
        [ "$fmt" = 2 ] && [ "$enc" = sharded ] && continue
        log "generating v$fmt $enc"
        rm -rf "$DATA/v${fmt}_$enc"
        "$ZB" write "$DATA/v${fmt}_$enc" --format $fmt --encoding "$enc" --shape $SHAPE \
            --chunks $CHUNKS --inner $INNER >/dev/null
    done
done

for enc in "${ENCODINGS[@]}"; do
    codec=$(codec_of "$enc")
    inner_args=()
    [ "$enc" = sharded ] && inner_args=(--inner-count "$INNER_PER_SHARD")
    fmts=(3 2)
    [ "$enc" = sharded ] && fmts=(3)

    # ---- write the whole array ----
    log "$enc: write"
    limit_inner=()
    [ "$enc" = sharded ] && limit_inner=(--inner $INNER)
    repeat write "$enc" - limit - -- "$LIMIT" encode --codec "$codec" --shape $SHAPE --chunks $CHUNKS \
        "${limit_inner[@]}" --threads "$THREADS"
    if [ "$enc" = none ]; then
        for ((r = 1; r <= RUNS; r++)); do
            rm -rf "$SCRATCH/lw"; mkdir -p "$SCRATCH/lw"; sync
            record write "$enc" - "limit (write files)" - "$r" -- "$LIMIT" encode --codec none \
                --shape $SHAPE --chunks $CHUNKS --threads "$THREADS" --write-dir "$SCRATCH/lw"
        done
        rm -rf "$SCRATCH/lw"
    fi
    for fmt in "${fmts[@]}"; do
        for ((r = 1; r <= RUNS; r++)); do
            rm -rf "$SCRATCH/w"; sync
            record write "$enc" "v$fmt" zarrc - "$r" -- "$ZB" write "$SCRATCH/w" --format $fmt \
                --encoding "$enc" --shape $SHAPE --chunks $CHUNKS --inner $INNER
            if [ $r = "$RUNS" ]; then verified write "$enc" "v$fmt" zarrc "$SCRATCH/w"; fi
        done
    done
    if [ "$enc" != sharded ]; then
        if [ $HAVE_ZARRPY = 1 ]; then
            for ((r = 1; r <= RUNS; r++)); do
                rm -rf "$SCRATCH/w"; sync
                record write "$enc" v2 zarr-python - "$r" -- "$PY" "$ROOT/bench/peer_zarrpy.py" write \
                    "$SCRATCH/w" --encoding "$enc" --shape $SHAPE --chunks $CHUNKS
                if [ $r = "$RUNS" ]; then verified write "$enc" v2 zarr-python "$SCRATCH/w"; fi
            done
        else na write "$enc" v2 zarr-python - "zarr-python not installed"; fi
        if [ $HAVE_ZARRITA = 1 ]; then
            for ((r = 1; r <= RUNS; r++)); do
                rm -rf "$SCRATCH/w"; sync
                record write "$enc" v3 zarrita - "$r" -- node "$ROOT/bench/peer_zarrita.mjs" write \
                    "$SCRATCH/w" --encoding "$enc" --shape $SHAPE --chunks $CHUNKS
                if [ $r = "$RUNS" ]; then verified write "$enc" v3 zarrita "$SCRATCH/w"; fi
            done
        else na write "$enc" v3 zarrita - "zarrita not installed"; fi
    else
        na write "$enc" v3 zarrita - "zarrita 0.7.5 cannot encode sharding_indexed"
    fi
    rm -rf "$SCRATCH/w"; sync

    # ---- reads (warm page cache) ----
    log "$enc: reads"
    for fmt in "${fmts[@]}"; do warm "$DATA/v${fmt}_$enc"; done
    repeat read "$enc" - limit - -- "$LIMIT" decode "$DATA/v3_$enc" --codec "$codec" \
        "${inner_args[@]}" --threads "$THREADS"
    repeat read "$enc" - "limit (fresh output)" - -- "$LIMIT" decode "$DATA/v3_$enc" --codec "$codec" \
        "${inner_args[@]}" --threads "$THREADS" --fresh-output
    if [ "$enc" = none ]; then
        repeat read "$enc" v3 cat - -- "$ZB" exec --bytes $ARRAY_BYTES -- \
            sh -c "find '$DATA/v3_$enc' -type f -name '[0-9c]*' -print0 | xargs -0 cat"
    fi
    for fmt in "${fmts[@]}"; do
        S=$DATA/v${fmt}_$enc
        repeat read "$enc" "v$fmt" zarrc - -- "$ZB" read "$S"
        repeat read "$enc" "v$fmt" "zarrc (pre-faulted buffer)" - -- "$ZB" read "$S" --prefault
        repeat read-chunks "$enc" "v$fmt" zarrc 1 -- "$ZB" read-chunks "$S" --threads 1
        repeat read-chunks "$enc" "v$fmt" zarrc N -- "$ZB" read-chunks "$S" --threads "$THREADS"
        if [ "$enc" = sharded ]; then
            repeat read-inner "$enc" "v$fmt" zarrc 1 -- "$ZB" read-chunks "$S" --inner --threads 1
            repeat read-inner "$enc" "v$fmt" zarrc N -- "$ZB" read-chunks "$S" --inner --threads "$THREADS"
        fi
    done
    if [ "$enc" != sharded ]; then
        S=$DATA/v2_$enc
        if [ $HAVE_ZARRPY = 1 ]; then
            P=("$PY" "$ROOT/bench/peer_zarrpy.py")
            repeat read "$enc" v2 zarr-python - -- "${P[@]}" read "$S"
            repeat read-chunks "$enc" v2 zarr-python 1 -- "${P[@]}" read-chunks "$S" --threads 1
            repeat read-chunks "$enc" v2 zarr-python N -- "${P[@]}" read-chunks "$S" --threads "$THREADS"
        else
            for v in read:- read-chunks:1 read-chunks:N; do
                na "${v%%:*}" "$enc" v2 zarr-python "${v##*:}" "zarr-python not installed"
            done
        fi
    fi
    S=$DATA/v3_$enc
    if [ $HAVE_ZARRITA = 1 ]; then
        Z=(node "$ROOT/bench/peer_zarrita.mjs")
        repeat read "$enc" v3 zarrita - -- "${Z[@]}" read "$S"
        repeat read-chunks "$enc" v3 zarrita 1 -- "${Z[@]}" read-chunks "$S" --concurrency 1
        repeat read-chunks "$enc" v3 zarrita N -- "${Z[@]}" read-chunks "$S" --concurrency "$THREADS"
        if [ "$enc" = sharded ]; then
            repeat read-inner "$enc" v3 zarrita 1 -- "${Z[@]}" read-chunks "$S" --inner --concurrency 1
            repeat read-inner "$enc" v3 zarrita N -- "${Z[@]}" read-chunks "$S" --inner \
                --concurrency "$THREADS"
        fi
    else
        for v in read:- read-chunks:1 read-chunks:N; do
            na "${v%%:*}" "$enc" v3 zarrita "${v##*:}" "zarrita not installed"
        done
    fi

    # ---- round trip: decode + re-encode into the same encoding ----
    log "$enc: round trip"
    for fmt in "${fmts[@]}"; do
        S=$DATA/v${fmt}_$enc
        if [ $HAVE_CP = 1 ]; then
            cp_impl="zarrc cp" cp_args=("$CP_DECODE_FLAG")
            [ $HAVE_CP_DECODE = 1 ] || cp_impl="zarrc cp (stored bytes copied)" cp_args=()
            for ((r = 1; r <= RUNS; r++)); do
                rm -rf "$SCRATCH/cp"; sync
                record roundtrip "$enc" "v$fmt" "$cp_impl" - "$r" -- "$ZB" exec --bytes $ARRAY_BYTES -- \
                    "$ZARRC" cp "$S" "$SCRATCH/cp" "${cp_args[@]}"
                if [ $r = "$RUNS" ]; then verified roundtrip "$enc" "v$fmt" "$cp_impl" "$SCRATCH/cp"; fi
            done
        else
            na roundtrip "$enc" "v$fmt" "zarrc cp" - "zarrc cp not built"
        fi
        if [ $HAVE_CP_DECODE = 0 ]; then
            for ((r = 1; r <= RUNS; r++)); do
                rm -rf "$SCRATCH/cp"; sync
                record roundtrip "$enc" "v$fmt" "zarrc_array_copy" - "$r" -- "$ZB" copy "$S" "$SCRATCH/cp"
                if [ $r = "$RUNS" ]; then verified roundtrip "$enc" "v$fmt" "zarrc_array_copy" "$SCRATCH/cp"; fi
            done
        fi
    done
    if [ "$enc" != sharded ] && [ $HAVE_ZARRPY = 1 ]; then
        for ((r = 1; r <= RUNS; r++)); do
            rm -rf "$SCRATCH/cp"; sync
            record roundtrip "$enc" v2 zarr-python - "$r" -- "$PY" "$ROOT/bench/peer_zarrpy.py" copy \
                "$DATA/v2_$enc" "$SCRATCH/cp" --threads "$THREADS"
            if [ $r = "$RUNS" ]; then verified roundtrip "$enc" v2 zarr-python "$SCRATCH/cp"; fi
        done
    fi
    if [ "$enc" != sharded ] && [ $HAVE_ZARRITA = 1 ]; then
        for ((r = 1; r <= RUNS; r++)); do
            rm -rf "$SCRATCH/cp"; sync
            record roundtrip "$enc" v3 zarrita - "$r" -- node "$ROOT/bench/peer_zarrita.mjs" copy \
                "$DATA/v3_$enc" "$SCRATCH/cp" --concurrency "$THREADS"
            if [ $r = "$RUNS" ]; then verified roundtrip "$enc" v3 zarrita "$SCRATCH/cp"; fi
        done
    elif [ "$enc" = sharded ]; then
        na roundtrip "$enc" v3 zarrita - "zarrita 0.7.5 cannot encode sharding_indexed"
    fi
    rm -rf "$SCRATCH/cp"
done

kill $SAMPLER 2>/dev/null || true
grep '^cpu ' /proc/stat >>"$CPULOG"
cat /proc/$$/stat >>"$CPULOG"
log "writing the report"
"$PY" "$ROOT/bench/report.py" "$RESULTS" --size "$SIZE" --shape $SHAPE --chunks $CHUNKS --inner $INNER \
    --threads "$THREADS" --runs "$RUNS" --command "$CMDLINE" --loadavg "$LOADLOG" --cpu "$CPULOG" \
    --have-cp $HAVE_CP --cp-decodes $HAVE_CP_DECODE --cp-flag="$CP_DECODE_FLAG" >"$REPORT"
cat "$REPORT"
if [ $SAVE = 1 ]; then
    cp "$REPORT" "$ROOT/bench/RESULTS.md"
    log "saved bench/RESULTS.md"
fi
