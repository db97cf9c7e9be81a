#!/usr/bin/env bash
# bench/bench_s3.sh — builds bench_s3 (Release libzarrc) and bench_s3_limit (raw libcurl) and
# runs bench/bench_s3.py with the peer venv's python; extra arguments go to bench_s3.py (see its
# --help). --save writes bench/RESULTS-s3.md. Not part of make check.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
SAVE=0
ARGS=()
for a in "$@"; do
    if [ "$a" = --save ]; then SAVE=1; else ARGS+=("$a"); fi
done
PY=$("$ROOT/scripts/install-deps.sh" venv-path | tail -1)
# --servers ...,s3s: s3s-fs (a Rust S3 server on a directory; benchmarks only, never make
# check), built once with cargo into ~/.cache/zarrc/bench-s3s-fs (ZARRC_BENCH_S3S names
# another binary). Without cargo or when the build fails, bench_s3.py says so and skips it.
S3S_ROOT=${ZARRC_BENCH_S3S_ROOT:-$HOME/.cache/zarrc/bench-s3s-fs}
if [[ " ${ARGS[*]} " == *s3s* ]] && [ -z "${ZARRC_BENCH_S3S:-}" ] && [ ! -x "$S3S_ROOT/bin/s3s-fs" ]; then
    if command -v cargo >/dev/null; then
        echo "bench_s3.sh: building s3s-fs 0.14.1 with cargo into $S3S_ROOT (once; ~10 min)" >&2
        mkdir -p "$S3S_ROOT"
        CARGO_TARGET_DIR=$S3S_ROOT/target cargo install s3s-fs@0.14.1 --locked --features binary \
            --root "$S3S_ROOT" -j2 >"$S3S_ROOT/build.log" 2>&1 ||
            echo "bench_s3.sh: cargo install s3s-fs failed (see $S3S_ROOT/build.log)" >&2
    else
        echo "bench_s3.sh: no cargo: s3s-fs cannot be built" >&2
    fi
fi
export ZARRC_BENCH_S3S=${ZARRC_BENCH_S3S:-$S3S_ROOT/bin/s3s-fs}
mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DZARRC_BUILD_TESTS=OFF >"$BUILD/s3.cmake.log" 2>&1 ||
    { cat "$BUILD/s3.cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j2 --target zarrc_static >>"$BUILD/s3.cmake.log" 2>&1 ||
    { tail -30 "$BUILD/s3.cmake.log" >&2; exit 1; }
# shellcheck disable=SC2046
gcc -O2 -g -std=gnu11 -Wall -Wextra -I"$ROOT/include" "$ROOT/bench/bench_s3.c" "$BUILD/libzarrc.a" \
    $(pkg-config --libs json-c blosc libzstd liblz4 zlib liblzma libdeflate) -lbz2 -lzfp -ldl -lpthread -lm \
    -o "$BUILD/bench_s3"
# the "limit" column: raw signed requests through libcurl multi (no libzarrc)
# shellcheck disable=SC2046
gcc -O2 -g -std=gnu11 -Wall -Wextra "$ROOT/bench/bench_s3_limit.c" $(pkg-config --libs libcurl libcrypto) \
    -o "$BUILD/bench_s3_limit"
OUT=$BUILD/bench_s3.md
"$PY" "$ROOT/bench/bench_s3.py" "$BUILD/bench_s3" "$BUILD/s3-scratch" "${ARGS[@]}" | tee "$OUT"
if [ $SAVE = 1 ]; then
    {
        echo "# S3 benchmark (bench/bench_s3.sh ${ARGS[*]})"
        echo
        echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r); $(git -C "$ROOT" rev-parse --short HEAD)"
        echo
        cat "$OUT"
    } >"$ROOT/bench/RESULTS-s3.md"
fi
