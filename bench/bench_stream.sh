#!/usr/bin/env bash
# bench/bench_stream.sh — build bench_stream (Release libzarrc) and run bench/bench_stream.py:
# streaming append of frames, zarrc vs tensorstore / acquire-zarr / zarr-python 3.4, and the "limit"
# (bench_stream_limit.c: the codec library and the file writes alone, no Zarr).
#   bench/bench_stream.sh [BUILD_DIR] [SCRATCH] [-- extra arguments of bench_stream.py]
# acquire-zarr is not a test peer: it is installed (a self-contained wheel, no dependencies) into
# ~/.cache/zarrc/bench-acquire from bench/requirements-bench.txt when missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
SCRATCH=${2:-/tmp/zarrc-bench-stream}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
PY=$("$ROOT/scripts/install-deps.sh" venv-path)
AQZ=$HOME/.cache/zarrc/bench-acquire
log() { printf '[bench_stream %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
if [ ! -d "$AQZ/acquire_zarr" ]; then
    log "installing acquire-zarr into $AQZ"
    "$PY" -m pip install -q --no-deps --only-binary :all: --target "$AQZ" -r "$ROOT/bench/requirements-bench.txt" ||
        log "acquire-zarr could not be installed: its column is left out"
fi
log "building libzarrc (Release) in $BUILD"
mkdir -p "$BUILD" "$SCRATCH"
BUILD=$(cd "$BUILD" && pwd) # absolute: pip builds the Python package from another directory
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DZARRC_BUILD_TESTS=OFF >"$BUILD/stream.cmake.log" 2>&1 ||
    { cat "$BUILD/stream.cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j2 --target zarrc_static >>"$BUILD/stream.cmake.log" 2>&1 ||
    { tail -30 "$BUILD/stream.cmake.log" >&2; exit 1; }
# shellcheck disable=SC2046
gcc -O2 -g -std=gnu11 -Wall -Wextra -I"$ROOT/include" "$ROOT/bench/bench_stream.c" "$BUILD/libzarrc.a" \
    $(pkg-config --libs json-c blosc libzstd liblz4 zlib liblzma libdeflate) -lbz2 -lzfp -ldl -lpthread -lm \
    -o "$BUILD/bench_stream"
# The "limit" tool (codec library + file writes, no Zarr): next to bench_stream, where bench_stream.py looks.
# shellcheck disable=SC2046
gcc -O2 -g -std=gnu11 -Wall -Wextra "$ROOT/bench/bench_stream_limit.c" $(pkg-config --cflags --libs blosc) -lpthread \
    -o "$BUILD/bench_stream_limit"
# The Python package against the same archive, into the build directory (never into the venv).
log "building the zarrc Python package into $BUILD/python-site"
ZARRC_LIBZARRC=$BUILD/libzarrc.a ZARRC_INCLUDE_DIR=$ROOT/include "$PY" -m pip install -q --no-deps \
    --no-build-isolation --no-index --upgrade --target "$BUILD/python-site" "$ROOT/python" >"$BUILD/stream.pip.log" 2>&1 ||
    log "the Python package did not build ($BUILD/stream.pip.log): its column is left out"
PYTHONPATH=$BUILD/python-site ACQUIRE_ZARR_PATH=$AQZ "$PY" "$ROOT/bench/bench_stream.py" "$BUILD/bench_stream" \
    "$SCRATCH" "$@"
