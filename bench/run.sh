#!/usr/bin/env bash
# bench/run.sh — zarrc side by side with native zarrs, tensorstore, zarr-python 3.4 (default
# pipeline and the zarrs-python pipeline), zarr-python 2.13, zarrita and the codec limits, on the
# zarr_benchmarks workloads. One command: builds zarrc (Release, in build-bench/), installs the
# peers it lacks (cached outside the checkout), writes every store once with zarrc, verifies
# every implementation's results, runs every operation x encoding x implementation --runs times
# (a fresh process per run) and prints the markdown report.
#
#   bench/run.sh [--smoke | --quick | --full] [--runs N] [--ref-runs N] [--threads N] [--save]
#                [--only ENC,...] [--impls IMPL,...] [--slow] [--cold] [--label TEXT]
#
#   (default)    512^3 array, 128^3 chunks, 32^3 inner chunks (256 MiB), every implementation
#                (~20 min on 2 quiet cores)
#   --quick      the same 512^3 matrix with zarrc, the limits and the target peers only (zarrs,
#                tensorstore, zarr-python 3.4 + zarrs): ~10 minutes
#   --smoke      128^3 array, 32^3 chunks, 8^3 inner chunks, for checking the scripts (minutes)
#   --full       1024^3 array, 256^3 chunks (2 GiB), 64^3 inner chunks: zarr_benchmarks' size
#                (needs ~14 GiB of RAM and ~10 GiB of disk; --large is the same)
#   --runs N     timed runs per cell (default 5; medians are reported)
#   --ref-runs N timed runs of the reference rows (zarr-python 3.4 default pipeline, 2.13,
#                zarrita), which are no target and the slowest (default: --runs)
#   --slow       also the reference rows' inner-chunk reads of zarr-python 3.4's default
#                pipeline (~13 s a run at 512^3; skipped, with a note, without it)
#   --threads N  threads for every implementation and the "2" of the concurrent cells (default 2)
#   --save       also write the report to bench/RESULTS.md (--full: bench/RESULTS-full.md)
#   --only LIST  only these encodings (none,zstd,sharded,blosc)
#   --impls LIST only these implementations (limit,zarrc,zarrs,tensorstore,zarr,zarr-zarrs,
#                zarr2,zarrita)
#   --cold       add whole-array reads with a cold page cache (echo 3 > /proc/sys/vm/drop_caches
#                before each run; needs root; skipped with a message otherwise)
#   --label TXT  a line for the report's head (e.g. "loaded machine: development run")
#
# Encodings (zarr_benchmarks'): uncompressed; zstd level 0; sharded (shards of one chunk, inner
# chunks zstd 0, index bytes+crc32c at the end); blosc blosclz clevel 9 bitshuffle typesize 2.
# Operations: write the whole array; read the whole array into one buffer; read chunk by chunk
# with 1 and --threads concurrent readers; read inner chunk by inner chunk (sharded); round trip
# (read and write a copy with the same encoding).
#
# Peers: zarrs = zarrs_tools 0.8.1 (zarrs_benchmark_read_sync, zarrs_reencode) built once with
# cargo into ~/.cache/zarrc/bench-zarrs (ZARRC_BENCH_ZARRS overrides); tensorstore, zarr-python
# 3.4 and zarrs-python from the test venv (scripts/install-deps.sh venv-path); zarr-python 2.13
# = /usr/bin/python3; zarrita under Node from tests/peers. A peer that cannot be installed is
# skipped with a message and its cells are "n/a" in the report.
#
# It is a benchmark, not a test: nothing in `make check` runs it.
set -euo pipefail
{ # the whole script is one compound command: bash parses it before running it, so editing
  # this file while a run is under way does not change that run

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
SIZE=default RUNS=5 REF_RUNS="" THREADS=2 SAVE=0 ONLY=none,zstd,sharded,blosc COLD=0 LABEL="" SLOW=0
IMPLS=limit,zarrc,zarrs,tensorstore,zarr,zarr-zarrs,zarr2,zarrita
CMDLINE="bench/run.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) SIZE=smoke ;;
    --quick) SIZE=default IMPLS=limit,zarrc,zarrs,tensorstore,zarr-zarrs ;;
    --full | --large) SIZE=full ;;
    --runs) RUNS=$2; shift ;;
    --ref-runs) REF_RUNS=$2; shift ;;
    --slow) SLOW=1 ;;
    --threads) THREADS=$2; shift ;;
    --save) SAVE=1 ;;
    --only) ONLY=$2; shift ;;
    --impls) IMPLS=$2; shift ;;
    --cold) COLD=1 ;;
    --label) LABEL=$2; shift ;;
    -h | --help) sed -n '2,46p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $SIZE in
smoke) SHAPE=128 CHUNKS=32 INNER=8 ;;
default) SHAPE=512 CHUNKS=128 INNER=32 ;;
full) SHAPE=1024 CHUNKS=256 INNER=64 ;;
esac
[ "$RUNS" -ge 1 ] || { echo "run.sh: --runs must be >= 1" >&2; exit 2; }
REF_RUNS=${REF_RUNS:-$RUNS}
[ "$REF_RUNS" -ge 1 ] || { echo "run.sh: --ref-runs must be >= 1" >&2; exit 2; }
if [ $SAVE = 1 ] && { [ "$RUNS" -lt 5 ] || [ $SIZE = smoke ]; }; then
    echo "run.sh: --save needs --runs >= 5 and not --smoke (RESULTS.md reports medians of >= 5 runs)" >&2
    exit 2
fi
export ZARRC_NUM_THREADS=$THREADS RAYON_NUM_THREADS=$THREADS BLOSC_NTHREADS=$THREADS
ARRAY_BYTES=$((SHAPE * SHAPE * SHAPE * 2))
INNER_PER_SHARD=$(((CHUNKS / INNER) ** 3))
want() { [[ ",$IMPLS," == *",$1,"* ]]; }

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- build ----
log "building zarrc (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DZARRC_BUILD_TESTS=OFF >"$BUILD.cmake.log" 2>&1 ||
    { cat "$BUILD.cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" >>"$BUILD.cmake.log" 2>&1 || { tail -30 "$BUILD.cmake.log" >&2; exit 1; }
DEPLIBS="$(pkg-config --libs json-c blosc libzstd liblz4 zlib liblzma libdeflate) -lbz2 -lzfp -ldl -lpthread -lm"
CFLAGS="-O2 -g -std=gnu11 -Wall -Wextra -I$ROOT/include"
# shellcheck disable=SC2086
gcc $CFLAGS "$ROOT/bench/zarrc_bench.c" "$BUILD/libzarrc.a" $DEPLIBS -o "$BUILD/zarrc_bench"
# shellcheck disable=SC2086
gcc $CFLAGS "$ROOT/bench/limit.c" $(pkg-config --cflags --libs blosc libzstd) -lpthread -o "$BUILD/limit"
ZB=$BUILD/zarrc_bench LIMIT=$BUILD/limit ZARRC=$BUILD/zarrc

# ---- peers: installed here when missing, skipped with a message when that fails ----
PY=/usr/bin/python3 # zarr-python 2.13 (Debian); also runs report.py and peer_zarrs.py
NODE_MODULES=$ROOT/tests/peers/node_modules
ZARRS_ROOT=${ZARRC_BENCH_ZARRS:-$HOME/.cache/zarrc/bench-zarrs}
ZARRS_BIN=$ZARRS_ROOT/bin
PY3=$("$ROOT/scripts/install-deps.sh" venv-path 2>/dev/null || true)
SKIPPED=$BUILD/skipped-$SIZE.txt
: >"$SKIPPED"
skip() { log "SKIPPED peer $1: $2"; printf '%s\t%s\n' "$1" "$2" >>"$SKIPPED"; }
have_zarr2() { "$PY" -c 'import zarr, numcodecs, numpy; assert zarr.__version__.startswith("2.")' 2>/dev/null; }
have_zarrita() { command -v node >/dev/null && [ -f "$NODE_MODULES/zarrita/package.json" ]; }
have_venv() { [ -n "$PY3" ] && [ -x "$PY3" ] && "$PY3" -c 'import zarr, tensorstore, zarrs' 2>/dev/null; }
have_zarrs() { [ -x "$ZARRS_BIN/zarrs_benchmark_read_sync" ] && [ -x "$ZARRS_BIN/zarrs_reencode" ]; }
if { want zarr2 && ! have_zarr2; } || { want zarrita && ! have_zarrita; } ||
    { { want tensorstore || want zarr || want zarr-zarrs; } && ! have_venv; }; then
    log "a peer is missing: running scripts/install-deps.sh test"
    "$ROOT/scripts/install-deps.sh" test >&2 || log "install-deps failed; missing peers will be skipped"
    PY3=$("$ROOT/scripts/install-deps.sh" venv-path 2>/dev/null || true)
fi
if want zarrs && ! have_zarrs; then
    if command -v cargo >/dev/null; then
        log "building native zarrs (zarrs_tools 0.8.1, --features benchmark) into $ZARRS_ROOT (once; ~10 min)"
        mkdir -p "$ZARRS_ROOT"
        CARGO_TARGET_DIR=$ZARRS_ROOT/target cargo install zarrs_tools@0.8.1 --locked --features benchmark \
            --root "$ZARRS_ROOT" >"$ZARRS_ROOT/build.log" 2>&1 ||
            log "cargo install zarrs_tools failed (see $ZARRS_ROOT/build.log)"
    fi
fi
HAVE_ZARR2=0 HAVE_ZARRITA=0 HAVE_VENV=0 HAVE_ZARRS=0
have_zarr2 && HAVE_ZARR2=1
have_zarrita && HAVE_ZARRITA=1
have_venv && HAVE_VENV=1
have_zarrs && HAVE_ZARRS=1
if want zarr2 && [ $HAVE_ZARR2 = 0 ]; then skip zarr2 "zarr-python 2.x not importable by $PY"; fi
if want zarrita && [ $HAVE_ZARRITA = 0 ]; then skip zarrita "node or tests/peers/node_modules/zarrita missing"; fi
if [ $HAVE_VENV = 0 ]; then
    for i in tensorstore zarr zarr-zarrs; do
        if want $i; then skip $i "the test venv (scripts/install-deps.sh venv-path) lacks zarr/tensorstore/zarrs"; fi
    done
fi
if want zarrs && [ $HAVE_ZARRS = 0 ]; then skip zarrs "no zarrs_tools binaries in $ZARRS_BIN (cargo missing or the build failed)"; fi
use() { # use IMPL: wanted and available
    want "$1" || return 1
    case $1 in
    zarr2) [ $HAVE_ZARR2 = 1 ] ;;
    zarrita) [ $HAVE_ZARRITA = 1 ] ;;
    tensorstore | zarr | zarr-zarrs) [ $HAVE_VENV = 1 ] ;;
    zarrs) [ $HAVE_ZARRS = 1 ] ;;
    *) return 0 ;;
    esac
}
# Report names of the implementations.
declare -A NAME=([limit]=limit [zarrc]=zarrc [zarrs]=zarrs [tensorstore]=tensorstore
    [zarr]="zarr-python 3.4" [zarr-zarrs]="zarr-python 3.4 + zarrs" [zarr2]="zarr-python 2.13"
    [zarrita]=zarrita)

DATA=$BUILD/data-$SIZE SCRATCH=$BUILD/scratch-$SIZE
RESULTS=$BUILD/results-$SIZE.jsonl LOADLOG=$BUILD/loadavg-$SIZE.log CPULOG=$BUILD/cpu-$SIZE.txt
REPORT=$BUILD/RESULTS-$SIZE.md
mkdir -p "$DATA" "$SCRATCH"
: >"$RESULTS"
: >"$LOADLOG"
grep '^cpu ' /proc/stat >"$CPULOG" # with the end's line and our own children's CPU time: how
                                   # much CPU other processes took during the run
(while :; do cat /proc/loadavg >>"$LOADLOG"; sleep 10; done) &
SAMPLER=$!
# Other processes' CPU during the run, sampled every 30 s (top's busiest), for the report.
TOPLOG=$BUILD/top-$SIZE.log
: >"$TOPLOG"
(while :; do
    { date +%H:%M:%S; top -b -n 2 -d 2 -w 200 | awk '/^top -/ { n++ } n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 > 0 { print $9, $12 }' | head -8; } >>"$TOPLOG" 2>/dev/null
    sleep 30
done) &
TOPPER=$!
trap 'kill $SAMPLER $TOPPER 2>/dev/null || true' EXIT

json_str() { "$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()[-400:]))'; }

# record OP ENC IMPL VARIANT RUN -- CMD...: run CMD, append its JSON result (last stdout line)
# or the error to $RESULTS. RUN 0 is a verification run: its result is not timed, its error is
# the cell's.
record() {
    local op=$1 enc=$2 impl=$3 variant=$4 run=$5
    shift 6
    local out err rc=0 t0=$EPOCHREALTIME
    err=$(mktemp)
    out=$("$@" 2>"$err") || rc=$?
    local line wall
    wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
    if [ $rc -eq 0 ] && line=$(printf '%s\n' "$out" | tail -1) && [ "${line:0:1}" = "{" ]; then
        printf '{"op":"%s","enc":"%s","impl":"%s","variant":"%s","run":%d,"process_seconds":%s,"result":%s}\n' \
            "$op" "$enc" "$impl" "$variant" "$run" "$wall" "$line" >>"$RESULTS"
    else
        log "FAILED: $op $enc $impl $variant: $(tail -c 300 "$err")"
        printf '{"op":"%s","enc":"%s","impl":"%s","variant":"%s","run":%d,"error":%s}\n' \
            "$op" "$enc" "$impl" "$variant" "$run" "$(json_str <"$err")" >>"$RESULTS"
    fi
    rm -f "$err"
}

na() { # na OP ENC IMPL VARIANT REASON
    printf '{"op":"%s","enc":"%s","impl":"%s","variant":"%s","run":0,"na":%s}\n' \
        "$1" "$2" "$3" "$4" "$(printf '%s' "$5" | json_str)" >>"$RESULTS"
}

fail() { # fail OP ENC IMPL VARIANT MESSAGE: an error against a cell
    log "VERIFY FAILED: $1 $2 $3 $4: $5"
    printf '{"op":"%s","enc":"%s","impl":"%s","variant":"%s","run":0,"error":%s}\n' \
        "$1" "$2" "$3" "$4" "$(printf '%s' "$5" | json_str)" >>"$RESULTS"
}

# runs_of IMPL: the number of timed runs of an implementation's cells.
runs_of() {
    case $1 in "zarr-python 3.4" | "zarr-python 2.13" | zarrita) echo "$REF_RUNS" ;; *) echo "$RUNS" ;; esac
}

repeat() { # repeat OP ENC IMPL VARIANT -- CMD...  (runs_of IMPL timed runs)
    local a=("$1" "$2" "$3" "$4") r n
    n=$(runs_of "$3")
    shift 4
    for ((r = 1; r <= n; r++)); do record "${a[@]}" "$r" "$@"; done
}

# verified OP ENC IMPL DIR: zarrc reads back what an implementation wrote, value by value; a
# wrong or unreadable result is an error of that cell.
verified() {
    local err
    if ! err=$("$ZB" verify "$4" 2>&1 >/dev/null); then
        fail "$1" "$2" "$3" - "output failed verification: $err"
    fi
}

# out_repeat OP ENC IMPL DST -- CMD...: RUNS timed runs of a command writing DST (removed before
# each run); the last run's output is verified.
out_repeat() {
    local op=$1 enc=$2 impl=$3 dst=$4 r n
    n=$(runs_of "$impl")
    shift 5
    for ((r = 1; r <= n; r++)); do
        rm -rf "$dst"; sync
        record "$op" "$enc" "$impl" - "$r" -- "$@"
        if [ $r = "$n" ]; then verified "$op" "$enc" "$impl" "$dst"; fi
    done
    rm -rf "$dst"
}

warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }
CAN_DROP=0
if [ $COLD = 1 ]; then
    if sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then CAN_DROP=1; else
        log "--cold: cannot write /proc/sys/vm/drop_caches here: cold cells skipped"
        COLD=0
    fi
fi

# ---- the encodings (zarr_benchmarks') ----
BY='{"name":"bytes","configuration":{"endian":"little"}}'
Z0='{"name":"zstd","configuration":{"level":0,"checksum":false}}'
BL='{"name":"blosc","configuration":{"cname":"blosclz","clevel":9,"shuffle":"bitshuffle","typesize":2,"blocksize":0}}'
declare -A V3 V2 LIMIT_ARGS REENC
V3[none]="[$BY]"
V3[zstd]="[$BY,$Z0]"
V3[blosc]="[$BY,$BL]"
V3[sharded]="[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[$INNER,$INNER,$INNER],\"codecs\":[$BY,$Z0],\"index_codecs\":[$BY,{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]"
V2[none]=null
V2[zstd]='{"id":"zstd","level":0}'
V2[blosc]='{"id":"blosc","cname":"blosclz","clevel":9,"shuffle":2,"blocksize":0}'
LIMIT_ARGS[none]="--codec none"
LIMIT_ARGS[zstd]="--codec zstd --level 0"
LIMIT_ARGS[blosc]="--codec blosc --cname blosclz --clevel 9 --shuffle bitshuffle"
LIMIT_ARGS[sharded]="--codec zstd --level 0"
# zarrs' write = zarrs_reencode of the uncompressed store into the encoding.
REENC[none]=""
REENC[zstd]="--bytes-to-bytes-codecs [$Z0]"
REENC[blosc]="--bytes-to-bytes-codecs [$BL]"
REENC[sharded]="--shard-shape $CHUNKS,$CHUNKS,$CHUNKS --chunk-shape $INNER,$INNER,$INNER --bytes-to-bytes-codecs [$Z0]"

IFS=, read -r -a ENCODINGS <<<"$ONLY"
log "size $SIZE: ${SHAPE}^3 uint16, chunks ${CHUNKS}^3, inner ${INNER}^3; $RUNS runs; $THREADS threads"
log "peers: zarrs=$HAVE_ZARRS venv(tensorstore, zarr-python 3, zarrs-python)=$HAVE_VENV zarr-python 2=$HAVE_ZARR2 zarrita=$HAVE_ZARRITA"

# ---- data: written once per encoding by zarrc (v3; v2 too for zarr-python 2.13) ----
NEED_NONE=0
for enc in "${ENCODINGS[@]}"; do
    [ -n "${V3[$enc]:-}" ] || { echo "run.sh: unknown encoding '$enc'" >&2; exit 2; }
    log "generating v3 $enc"
    rm -rf "$DATA/v3_$enc"
    "$ZB" write "$DATA/v3_$enc" --format 3 --encoding "$enc" --shape $SHAPE --chunks $CHUNKS \
        --inner $INNER --codecs "${V3[$enc]}" >/dev/null
    "$ZB" verify "$DATA/v3_$enc" >/dev/null
    if [ "$enc" != sharded ] && use zarr2; then
        log "generating v2 $enc"
        rm -rf "$DATA/v2_$enc"
        "$ZB" write "$DATA/v2_$enc" --format 2 --encoding "$enc" --shape $SHAPE --chunks $CHUNKS \
            --compressor "${V2[$enc]}" >/dev/null
    fi
    [ "$enc" = none ] && NEED_NONE=1
done
if use zarrs && [ $NEED_NONE = 0 ]; then # zarrs' write reads the uncompressed store
    rm -rf "$DATA/v3_none"
    "$ZB" write "$DATA/v3_none" --format 3 --encoding none --shape $SHAPE --chunks $CHUNKS --codecs "${V3[none]}" >/dev/null
fi

ZP=("$PY" "$ROOT/bench/peer_zarrs.py" "$ZARRS_BIN")
P3() { "$PY3" "$ROOT/bench/peer_py3.py" "$@" --max-threads "$THREADS"; }

for enc in "${ENCODINGS[@]}"; do
    S=$DATA/v3_$enc
    # shellcheck disable=SC2206
    LA=(${LIMIT_ARGS[$enc]})
    inner_args=()
    [ "$enc" = sharded ] && inner_args=(--inner-count "$INNER_PER_SHARD")
    # ---- zarrs' reads are checked once: zarrs_reencode of the store to uncompressed, verified ----
    if use zarrs; then
        rm -rf "$SCRATCH/zv"
        if ! err=$("${ZP[@]}" reencode "$S" "$SCRATCH/zv" --bytes-to-bytes-codecs '[]' 2>&1 >/dev/null) ||
            ! err=$("$ZB" verify "$SCRATCH/zv" 2>&1 >/dev/null); then
            fail read "$enc" zarrs - "zarrs' decoding of the store failed verification: $err"
        fi
        rm -rf "$SCRATCH/zv"
    fi

    # ---- write the whole array ----
    log "$enc: write"
    if use limit; then
        limit_inner=()
        [ "$enc" = sharded ] && limit_inner=(--inner $INNER)
        repeat write "$enc" limit - -- "$LIMIT" encode "${LA[@]}" --shape $SHAPE --chunks $CHUNKS \
            "${limit_inner[@]}" --threads "$THREADS"
        # "limit (files)": the same encode, each item then written once to its own new file of a
        # fresh flat directory (no chunk directories, locks, renames or metadata): the floor of
        # every writer into files. Not for sharded: limit.c's items there are inner chunks, one file
        # each, far more files than any shard writer makes.
        LW=$SCRATCH/limit-files
        [ "$enc" = sharded ] || for ((r = 1; r <= $(runs_of limit); r++)); do
            rm -rf "$LW"; mkdir -p "$LW"; sync
            record write "$enc" "limit (files)" - "$r" -- "$LIMIT" encode "${LA[@]}" --shape $SHAPE \
                --chunks $CHUNKS "${limit_inner[@]}" --threads "$THREADS" --write-dir "$LW"
        done
        rm -rf "$LW"
    fi
    W=$SCRATCH/w
    if use zarrc; then
        out_repeat write "$enc" zarrc "$W" -- "$ZB" write "$W" --format 3 --encoding "$enc" --shape $SHAPE \
            --chunks $CHUNKS --inner $INNER --codecs "${V3[$enc]}"
    fi
    if use zarrs; then
        # shellcheck disable=SC2206
        RA=(${REENC[$enc]})
        out_repeat write "$enc" zarrs "$W" -- "${ZP[@]}" reencode "$DATA/v3_none" "$W" "${RA[@]}"
    fi
    for i in tensorstore zarr zarr-zarrs; do
        use $i || continue
        out_repeat write "$enc" "${NAME[$i]}" "$W" -- P3 "$i" write "$W" --codecs "${V3[$enc]}" \
            --shape $SHAPE --chunks $CHUNKS
    done
    if [ "$enc" != sharded ]; then
        if use zarr2; then
            out_repeat write "$enc" "${NAME[zarr2]}" "$W" -- "$PY" "$ROOT/bench/peer_zarrpy.py" write "$W" \
                --encoding "$enc" --shape $SHAPE --chunks $CHUNKS --compressor "${V2[$enc]}"
        fi
        if use zarrita; then
            out_repeat write "$enc" zarrita "$W" -- node "$ROOT/bench/peer_zarrita.mjs" write "$W" \
                --encoding "$enc" --shape $SHAPE --chunks $CHUNKS --codecs "${V3[$enc]}"
        fi
    else
        if use zarr2; then na write "$enc" "${NAME[zarr2]}" - "zarr-python 2.13 has no sharding"; fi
        if use zarrita; then na write "$enc" zarrita - "zarrita 0.7.5 cannot encode sharding_indexed"; fi
    fi

    # ---- reads (warm page cache; the first run of each chunk-by-chunk cell checks every block) ----
    log "$enc: reads"
    warm "$S"
    [ -d "$DATA/v2_$enc" ] && warm "$DATA/v2_$enc"
    if use limit; then
        repeat read "$enc" limit - -- "$LIMIT" decode "$S" "${LA[@]}" "${inner_args[@]}" --threads "$THREADS"
        repeat read "$enc" "limit (fresh output)" - -- "$LIMIT" decode "$S" "${LA[@]}" "${inner_args[@]}" \
            --threads "$THREADS" --fresh-output
    fi
    modes=(chunks)
    [ "$enc" = sharded ] && modes=(chunks inner)
    if use zarrc; then
        repeat read "$enc" zarrc - -- "$ZB" read "$S"
        # The same read into a buffer from plain malloc (16 bytes past a page, not on a cache
        # line): what a caller who ignores zarrc_array_read's alignment advice gets.
        repeat read "$enc" "zarrc (malloc'd output)" - -- "$ZB" read "$S" --malloc
        for m in "${modes[@]}"; do
            fl=(); [ $m = inner ] && fl=(--inner)
            record "read-$m" "$enc" zarrc 1 0 -- "$ZB" read-chunks "$S" "${fl[@]}" --threads 1 --check-all
            repeat "read-$m" "$enc" zarrc 1 -- "$ZB" read-chunks "$S" "${fl[@]}" --threads 1
            repeat "read-$m" "$enc" zarrc "$THREADS" -- "$ZB" read-chunks "$S" "${fl[@]}" --threads "$THREADS"
        done
    fi
    if use zarrs; then
        repeat read "$enc" zarrs - -- "${ZP[@]}" read "$S" --read-all
        for m in "${modes[@]}"; do
            fl=(); [ $m = inner ] && fl=(--inner-chunks)
            repeat "read-$m" "$enc" zarrs 1 -- "${ZP[@]}" read "$S" "${fl[@]}" --concurrent-chunks 1
            repeat "read-$m" "$enc" zarrs "$THREADS" -- "${ZP[@]}" read "$S" "${fl[@]}" --concurrent-chunks "$THREADS"
        done
    fi
    for i in tensorstore zarr zarr-zarrs; do
        use $i || continue
        repeat read "$enc" "${NAME[$i]}" - -- P3 "$i" read "$S"
        for m in "${modes[@]}"; do
            fl=(); [ $m = inner ] && fl=(--inner)
            if [ $m = inner ] && [ $i = zarr ] && [ $SLOW = 0 ]; then
                for v in 1 "$THREADS"; do
                    na "read-$m" "$enc" "${NAME[$i]}" "$v" "not run by default (~13 s a run at 512³; --slow runs it)"
                done
                continue
            fi
            record "read-$m" "$enc" "${NAME[$i]}" 1 0 -- P3 "$i" read-chunks "$S" "${fl[@]}" --threads 1 --check-all
            repeat "read-$m" "$enc" "${NAME[$i]}" 1 -- P3 "$i" read-chunks "$S" "${fl[@]}" --threads 1
            repeat "read-$m" "$enc" "${NAME[$i]}" "$THREADS" -- P3 "$i" read-chunks "$S" "${fl[@]}" --threads "$THREADS"
        done
    done
    if [ "$enc" != sharded ] && use zarr2; then
        Q=("$PY" "$ROOT/bench/peer_zarrpy.py")
        repeat read "$enc" "${NAME[zarr2]}" - -- "${Q[@]}" read "$DATA/v2_$enc"
        record read-chunks "$enc" "${NAME[zarr2]}" 1 0 -- "${Q[@]}" read-chunks "$DATA/v2_$enc" --threads 1 --check-all
        repeat read-chunks "$enc" "${NAME[zarr2]}" 1 -- "${Q[@]}" read-chunks "$DATA/v2_$enc" --threads 1
        repeat read-chunks "$enc" "${NAME[zarr2]}" "$THREADS" -- "${Q[@]}" read-chunks "$DATA/v2_$enc" --threads "$THREADS"
    fi
    if use zarrita; then
        Z=(node "$ROOT/bench/peer_zarrita.mjs")
        repeat read "$enc" zarrita - -- "${Z[@]}" read "$S"
        for m in "${modes[@]}"; do
            fl=(); [ $m = inner ] && fl=(--inner)
            record "read-$m" "$enc" zarrita 1 0 -- "${Z[@]}" read-chunks "$S" "${fl[@]}" --concurrency 1 --check-all
            repeat "read-$m" "$enc" zarrita 1 -- "${Z[@]}" read-chunks "$S" "${fl[@]}" --concurrency 1
            repeat "read-$m" "$enc" zarrita "$THREADS" -- "${Z[@]}" read-chunks "$S" "${fl[@]}" --concurrency "$THREADS"
        done
    fi

    # ---- cold page cache: whole-array reads after dropping the caches ----
    if [ $COLD = 1 ]; then
        log "$enc: cold reads"
        cold_repeat() { # cold_repeat IMPL -- CMD...
            local impl=$1 r
            shift 2
            for ((r = 1; r <= RUNS; r++)); do
                sync; echo 3 >/proc/sys/vm/drop_caches
                record read-cold "$enc" "$impl" - "$r" -- "$@"
            done
        }
        if use limit; then cold_repeat "limit (cat)" -- "$ZB" exec --bytes $ARRAY_BYTES -- \
            sh -c "find '$S' -type f ! -name zarr.json -print0 | xargs -0 cat"; fi
        if use zarrc; then cold_repeat zarrc -- "$ZB" read "$S"; fi
        if use zarrs; then cold_repeat zarrs -- "${ZP[@]}" read "$S" --read-all; fi
        for i in tensorstore zarr-zarrs; do
            if use $i; then cold_repeat "${NAME[$i]}" -- P3 "$i" read "$S"; fi
        done
        warm "$S"
    fi

    # ---- round trip: read and write a copy with the same encoding ----
    log "$enc: round trip"
    C=$SCRATCH/cp
    # zarrc's round trip: zarrc_array_copy (the engine of `zarrc cp --no-raw`: every chunk
    # decoded and re-encoded), in process and timed like zarrs_reencode's: from after both
    # arrays are open and the copy's metadata is written, to the last chunk stored.
    if use zarrc; then out_repeat roundtrip "$enc" zarrc "$C" -- "$ZB" copy "$S" "$C"; fi
    if use zarrs; then out_repeat roundtrip "$enc" zarrs "$C" -- "${ZP[@]}" reencode "$S" "$C"; fi
    for i in tensorstore zarr zarr-zarrs; do
        if use $i; then out_repeat roundtrip "$enc" "${NAME[$i]}" "$C" -- P3 "$i" copy "$S" "$C" --threads "$THREADS"; fi
    done
    if [ "$enc" != sharded ]; then
        if use zarr2; then
            out_repeat roundtrip "$enc" "${NAME[zarr2]}" "$C" -- "$PY" "$ROOT/bench/peer_zarrpy.py" copy \
                "$DATA/v2_$enc" "$C" --threads "$THREADS"
        fi
        if use zarrita; then
            out_repeat roundtrip "$enc" zarrita "$C" -- node "$ROOT/bench/peer_zarrita.mjs" copy "$S" "$C" \
                --concurrency "$THREADS"
        fi
    else
        if use zarr2; then na roundtrip "$enc" "${NAME[zarr2]}" - "zarr-python 2.13 has no sharding"; fi
        if use zarrita; then na roundtrip "$enc" zarrita - "zarrita 0.7.5 cannot encode sharding_indexed"; fi
    fi
done

kill $SAMPLER $TOPPER 2>/dev/null || true
grep '^cpu ' /proc/stat >>"$CPULOG"
cat /proc/$$/stat >>"$CPULOG"
log "writing the report"
"$PY" "$ROOT/bench/report.py" "$RESULTS" --size "$SIZE" --shape $SHAPE --chunks $CHUNKS --inner $INNER \
    --threads "$THREADS" --runs "$RUNS" --command "$CMDLINE" --loadavg "$LOADLOG" --cpu "$CPULOG" \
    --top "$TOPLOG" --skipped "$SKIPPED" --py3 "$PY3" --zarrs-bin "$ZARRS_BIN" --cold "$CAN_DROP" \
    --label "$LABEL" --ref-runs "$REF_RUNS" --impls "$IMPLS" >"$REPORT"
cat "$REPORT"
if [ $SAVE = 1 ]; then
    SAVED=bench/RESULTS.md
    [ $SIZE = full ] && SAVED=bench/RESULTS-full.md # the 1024³ run has its own file
    cp "$REPORT" "$ROOT/$SAVED"
    log "saved $SAVED"
fi
exit 0
}
