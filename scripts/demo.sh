#!/usr/bin/env bash
# A short tour of the zarrc CLI on the local filesystem (run by `make run`).
#
#   scripts/demo.sh [path/to/zarrc] [--keep]
#
# Creates v3 and v2 arrays with several codecs in a temporary folder, writes data, reads regions
# back and inspects the hierarchy. Every command is printed before it runs; any failure stops the
# demo with a non-zero exit status.
set -euo pipefail

ZARRC=${1:-build/zarrc}
KEEP=${2:-}
if [ ! -x "$ZARRC" ]; then
    echo "demo: '$ZARRC' is not an executable; build first (make build)" >&2
    exit 1
fi
ZARRC=$(cd "$(dirname "$ZARRC")" && pwd)/$(basename "$ZARRC")

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/zarrc-demo.XXXXXX")
if [ "$KEEP" = --keep ]; then
    echo "demo: keeping $DEMO"
else
    trap 'rm -rf "$DEMO"' EXIT
fi
cd "$DEMO"

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
run() {
    # Show the command as a user would type it (zarrc on PATH, paths relative to the demo folder).
    local shown=("zarrc")
    local a
    for a in "${@:2}"; do
        case $a in
        *[\ \"\'\{\[\|\<\>\*]*) shown+=("'$a'") ;;
        *) shown+=("$a") ;;
        esac
    done
    echo "\$ ${shown[*]}"
    "$ZARRC" "${@:2}"
}
z() { run zarrc "$@"; }

echo "zarrc demo in $DEMO using $ZARRC"

# ---------------------------------------------------------------------------------------------
step "Zarr v3: a group with attributes"
z create weather.zarr --group --format 3 --attrs '{"title":"zarrc demo","created_by":"demo.sh"}'

step "v3 int32 array, 6x8 in 3x4 chunks, codecs bytes + zstd"
z create weather.zarr/temperature --format 3 --dtype int32 --shape 6,8 --chunks 3,4 \
    --fill-value 0 --dimension-names y,x --attrs '{"units":"degC"}' \
    --codecs '[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":3,"checksum":false}}]'
# 48 values: -20, -19, ..., 27
echo "[$(seq -s, -20 27)]" >temperature.json
echo "(temperature.json holds [$(seq -s, -20 -16),... ,27])"
z put weather.zarr/temperature --json temperature.json
step "read rows 1..4, every third column"
z get weather.zarr/temperature --select '1:5,::3' --json
step "an integer index drops that axis: row 2"
z get weather.zarr/temperature --select '2,:' --json

step "v3 float64 array with transpose + blosc (lz4, byte shuffle), NaN fill value"
z create weather.zarr/pressure --format 3 --dtype float64 --shape 4,5 --chunks 2,2 --fill-value '"NaN"' \
    --codecs '[{"name":"transpose","configuration":{"order":[1,0]}},{"name":"bytes","configuration":{"endian":"little"}},{"name":"blosc","configuration":{"cname":"lz4","clevel":5,"shuffle":"shuffle","typesize":8,"blocksize":0}}]'
echo '[1013.25, 1012.5, -0.0, 1e-300, "Infinity", 0.1]' >pressure.json
echo "(write a 2x3 corner only; the rest stays NaN)"
z put weather.zarr/pressure --select '0:2,0:3' --json pressure.json
z get weather.zarr/pressure --json

# ---------------------------------------------------------------------------------------------
step "Zarr v2: a group and a blosc-lz4 uint16 array (the zarr-python 2 default compressor)"
z create legacy.zarr --group --format 2 --attrs '{"source":"demo","note":"v2 metadata: .zgroup/.zattrs"}'
z create legacy.zarr/counts --format 2 --dtype '<u2' --shape 10,10 --chunks 4,4 --fill-value 0 \
    --compressor '{"id":"blosc","cname":"lz4","clevel":5,"shuffle":1,"blocksize":0}'
echo "[$(seq -s, 0 11 1089)]" >counts.json
z put legacy.zarr/counts --json counts.json
z get legacy.zarr/counts --select '::3,8:' --json

step "v2 big-endian float32 with zlib, Fortran order and '/' chunk keys"
z create legacy.zarr/grid --format 2 --dtype '>f4' --shape 3,4 --chunks 2,3 --order F --separator / \
    --fill-value '"NaN"' --compressor '{"id":"zlib","level":6}'
echo '{"data":[0.5,1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5,9.5,10.5,"-Infinity"]}' >grid.json
z put legacy.zarr/grid --json grid.json
z get legacy.zarr/grid --select '1:,1' --json
echo "chunk files on disk:"
(cd legacy.zarr/grid && find . -type f | LC_ALL=C sort | sed 's/^/  /')

step "v2 variable-length strings (object dtype + vlen-utf8), written from stdin"
z create legacy.zarr/names --format 2 --dtype string --shape 5 --chunks 2
echo '["alpha", "βeta", "", "日本語", "end"]' | run zarrc put legacy.zarr/names --json -
z get legacy.zarr/names --select '1:4' --json

step "v2 fixed-size bytes |S6 with zstd"
z create legacy.zarr/tags --format 2 --dtype '|S6' --shape 3 --chunks 3 --compressor '{"id":"zstd","level":5}'
# base64 of "abc", "zarr!!", ""
echo '["YWJj", "emFyciEh", ""]' >tags.json
z put legacy.zarr/tags --json tags.json
z get legacy.zarr/tags --json

# ---------------------------------------------------------------------------------------------
step "inspect"
z info weather.zarr/temperature
z info legacy.zarr/grid
z ls weather.zarr
z ls legacy.zarr

step "remove an array"
z rm legacy.zarr/tags
z ls legacy.zarr

printf '\ndemo finished: every command succeeded\n'
