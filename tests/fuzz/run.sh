#!/usr/bin/env bash
# Run the libFuzzer targets (clang + libclang-rt): tests/fuzz/run.sh [SECONDS] [metadata|chunk|select|args|serve|struct|object|user|blosc]
# New interesting inputs land in tests/fuzz/corpus/<target>/ (commit the small ones).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-60}
targets=${2:-"metadata chunk select args serve struct object user blosc"}
out="$root/build-fuzz"
mkdir -p "$out"
srcs=$(ls "$root"/src/*/*.c)
libs="$(pkg-config --cflags --libs json-c blosc libzstd liblz4 zlib liblzma libdeflate) -lbz2 -lzfp -ldl -lpthread -lm"
for t in $targets; do
  extra=""
  lib_srcs=$srcs
  case $t in # the CLI's parsers and the grid planner
    select|args) extra="$root/cli/cli_select.c $root/cli/cli_args.c -I$root/cli -I$root/src" ;;
    serve) extra="$root/serve/serve_parse.c -I$root/serve"; lib_srcs="" ;; # parsers only: no library
    struct|blosc) extra="-I$root/src" ;;
  esac
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -std=gnu11 -I"$root/include" \
        $lib_srcs $extra "$here/fuzz_$t.c" -o "$out/fuzz_$t" $libs
  mkdir -p "$here/corpus/$t"
  ZARRC_NUM_THREADS=1 "$out/fuzz_$t" -max_total_time="$secs" -max_len=4096 -timeout=10 \
      "$here/corpus/$t"
done
