#!/usr/bin/env bash
# Install what zarrc needs on Debian 12, only where something is missing.
#
#   scripts/install-deps.sh build   build dependencies (compiler, CMake, codec libraries)
#   scripts/install-deps.sh test    build dependencies + test peers (zarr-python 2.13 from
#                                   Debian, zarrita under Node in tests/peers, clang runtime,
#                                   OpenStack Swift and nginx for the S3/HTTP store tests (the
#                                   tests start their own instances on 127.0.0.1),
#                                   and a Python venv with zarr-python 3.4, tensorstore and
#                                   zarrs-python pinned by tests/peers/requirements.txt)
#   scripts/install-deps.sh venv-path   print where that venv's python is (nothing installed)
#
# Re-runs are fast and work offline: packages are checked with dpkg-query first, `apt-get update`
# runs only when something must be installed, npm runs only when the pinned peer versions
# are not already in tests/peers/node_modules, and pip runs only when the venv is missing or
# its versions differ from the pins.
#
# The venv lives outside the checkout, in ${XDG_CACHE_HOME:-$HOME/.cache}/zarrc/venv-<first 12
# hex digits of sha256(tests/peers/requirements.txt)>, so every clone (CI's fresh ones too)
# shares it and a change of the pins makes a new one. CMake computes the same path
# (tests/interop_zp3/tests.cmake). zarr 3.4 needs Python >= 3.12: the base interpreter is
# $ZARRC_PEER_BASE_PYTHON if set, else python3.12/python3.13 (PATH, then pyenv's versions), else
# python3 when it is new enough; never Debian's /usr/bin/python3 (3.11, which keeps zarr 2.13
# for the v2 tests).
set -euo pipefail

cd "$(dirname "$0")/.."

what=${1:-build}
case $what in
build | test | venv-path) ;;
*)
    echo "usage: $0 build|test|venv-path" >&2
    exit 2
    ;;
esac

PEER_REQS=tests/peers/requirements.txt
PEER_VENV=${XDG_CACHE_HOME:-$HOME/.cache}/zarrc/venv-$(sha256sum "$PEER_REQS" | cut -c1-12)
if [ "$what" = venv-path ]; then
    echo "$PEER_VENV/bin/python"
    exit 0
fi

BUILD_PKGS=(build-essential cmake pkg-config libblosc-dev libzstd-dev liblz4-dev zlib1g-dev
    libdeflate-dev libbz2-dev liblzma-dev libjson-c-dev libcurl4-openssl-dev libssl-dev
    libmicrohttpd-dev libzfp-dev)
TEST_PKGS=(python3 python3-zarr python3-numcodecs python3-numpy clang libclang-rt-14-dev
    swift-proxy swift-object swift-container swift-account nginx openmpi-bin libopenmpi-dev)

ZARRITA_VERSION=0.7.5
ZARRITA_STORAGE_VERSION=0.2.0
PEERS_DIR=tests/peers

log() { echo "install-deps: $*"; }

pkg_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

want=("${BUILD_PKGS[@]}")
if [ "$what" = test ]; then
    want+=("${TEST_PKGS[@]}")
    # Node may come from Debian or from elsewhere (e.g. nodesource, which bundles npm): only
    # the commands matter.
    command -v node >/dev/null 2>&1 || want+=(nodejs)
    command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
    pkg_installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    log "missing packages: ${missing[*]}"
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install-deps: apt-get not found; install these packages by hand: ${missing[*]}" >&2
        exit 1
    fi
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo)
        else
            echo "install-deps: not root and no sudo; install as root: ${missing[*]}" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update </dev/null
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
else
    log "all ${#want[@]} system packages present"
fi

[ "$what" = test ] || exit 0

# zarrita (the v3 peer) into the project-local folder; versions pinned by tests/peers/package.json.
installed_version() {
    local f=$PEERS_DIR/node_modules/$1/package.json
    [ -f "$f" ] || return 0
    node -e 'process.stdout.write(String(require(process.argv[1]).version))' "$PWD/$f" 2>/dev/null ||
        true
}

if [ "$(installed_version zarrita)" = "$ZARRITA_VERSION" ] &&
    [ "$(installed_version @zarrita/storage)" = "$ZARRITA_STORAGE_VERSION" ]; then
    log "zarrita $ZARRITA_VERSION and @zarrita/storage $ZARRITA_STORAGE_VERSION present in $PEERS_DIR"
else
    log "installing zarrita@$ZARRITA_VERSION @zarrita/storage@$ZARRITA_STORAGE_VERSION into $PEERS_DIR"
    mkdir -p "$PEERS_DIR"
    if [ -f "$PEERS_DIR/package-lock.json" ] && [ -f "$PEERS_DIR/package.json" ]; then
        # The committed lock file pins the whole tree; `npm ci` leaves the committed files as
        # they are (a clean clone stays clean).
        npm ci --prefix "$PEERS_DIR" --no-audit --no-fund --no-progress </dev/null
    else
        npm install --prefix "$PEERS_DIR" --save-exact --no-audit --no-fund --no-progress \
            "zarrita@$ZARRITA_VERSION" "@zarrita/storage@$ZARRITA_STORAGE_VERSION" </dev/null
    fi
    if [ "$(installed_version zarrita)" != "$ZARRITA_VERSION" ] ||
        [ "$(installed_version @zarrita/storage)" != "$ZARRITA_STORAGE_VERSION" ]; then
        echo "install-deps: npm did not install the pinned zarrita versions into $PEERS_DIR" >&2
        exit 1
    fi
fi

# The Python peers (zarr-python 3.4, tensorstore, zarrs-python) in the shared venv.
peer_base_python() {
    local c v
    local pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
    for c in "${ZARRC_PEER_BASE_PYTHON:-}" python3.12 python3.13 \
        $(ls -d "$pyenv_root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V) python3; do
        [ -n "$c" ] || continue
        v=$(command -v "$c" 2>/dev/null) || continue
        [ "$v" = /usr/bin/python3 ] && continue
        if "$v" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 12))' \
            >/dev/null 2>&1; then
            echo "$v"
            return 0
        fi
    done
    return 1
}

if [ -x "$PEER_VENV/bin/python" ] &&
    "$PEER_VENV/bin/python" tests/peers/check_venv.py "$PEER_REQS" >/dev/null 2>&1; then
    log "Python peers present in $PEER_VENV"
else
    if ! base=$(peer_base_python); then
        echo "install-deps: no Python >= 3.12 found for the zarr-python 3.4 peer (tried" \
            "\$ZARRC_PEER_BASE_PYTHON, python3.12, python3.13, pyenv's versions, python3)" >&2
        exit 1
    fi
    log "creating $PEER_VENV with $base ($("$base" --version 2>&1)) from $PEER_REQS"
    mkdir -p "$(dirname "$PEER_VENV")"
    # One installer at a time per venv (several checkouts share it); a failed install leaves
    # no venv behind, so the next run starts over.
    exec 9>"$PEER_VENV.lock"
    flock 9
    if ! { [ -x "$PEER_VENV/bin/python" ] &&
        "$PEER_VENV/bin/python" tests/peers/check_venv.py "$PEER_REQS" >/dev/null 2>&1; }; then
        rm -rf "$PEER_VENV"
        if ! { "$base" -m venv "$PEER_VENV" &&
            "$PEER_VENV/bin/python" -m pip install --quiet --no-input --only-binary=:all: \
                -r "$PEER_REQS" </dev/null; }; then
            rm -rf "$PEER_VENV"
            echo "install-deps: installing $PEER_REQS into $PEER_VENV failed" >&2
            exit 1
        fi
    fi
    exec 9>&-
    if ! "$PEER_VENV/bin/python" tests/peers/check_venv.py "$PEER_REQS"; then
        echo "install-deps: the venv $PEER_VENV does not match $PEER_REQS after installing" >&2
        exit 1
    fi
fi

# The interop tests run /usr/bin/python3 (another python3 may come first on PATH).
if ! /usr/bin/python3 -c 'import zarr, numcodecs, numpy' 2>/dev/null; then
    echo "install-deps: /usr/bin/python3 cannot import zarr/numcodecs/numpy after installing" >&2
    exit 1
fi
log "test peers ready: zarr-python $(/usr/bin/python3 -c 'import zarr; print(zarr.__version__)'),"\
" node $(node --version), zarrita $ZARRITA_VERSION"
"$PEER_VENV/bin/python" tests/peers/check_venv.py "$PEER_REQS" --versions | sed 's/^/install-deps: /'

# The zarrs (Rust crate) side of tests/interop_zarrs, built once from crates.io into the cache
# (outside the checkout; versions pinned by its Cargo.toml/Cargo.lock). The test builds it too
# (and fails when it cannot); building here keeps that out of the test's time.
if command -v cargo >/dev/null 2>&1; then
    log "building the zarrs interop program (first time: several minutes)"
    if ! CARGO_TARGET_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/zarrc/zarrs-interop/target \
        cargo build --release --locked -q -j2 --manifest-path tests/interop_zarrs/Cargo.toml; then
        echo "install-deps: building tests/interop_zarrs (zarrs from crates.io) failed" >&2
        exit 1
    fi
else
    echo "install-deps: cargo not found: the interop_zarrs test will fail (install Rust >= 1.91)" >&2
fi
