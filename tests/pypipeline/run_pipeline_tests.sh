#!/bin/sh
# zarrc's zarr-python codec pipeline (python/zarrc/pipeline.py): its own pytest tests and
# zarr-python 3.4.2's shared pipeline suite (tests/test_codec_pipeline_suite.py from the sdist,
# fetched once with pip into ~/.cache/zarrc/zarr-python-tests) with the pipeline selected.
# The package (python/) is installed from this build's static libzarrc into a temporary --target
# directory first (as python.package does), so `import zarrc` is the built package.
# Usage: run_pipeline_tests.sh PYTHON LIBZARRC_SO LIBZARRC_A SOURCE_DIR WORKDIR
set -eu
py=$1; lib=$2; static=$3; src=$4; work=$5
if [ ! -x "$py" ]; then echo "FAIL: the Python peer venv $py is missing: run make check (scripts/install-deps.sh test creates it)"; exit 1; fi
cache=${ZARRC_CACHE:-$HOME/.cache/zarrc}/zarr-python-tests
tests=$cache/zarr-3.4.2/tests
if [ ! -f "$tests/test_codec_pipeline_suite.py" ]; then
    mkdir -p "$cache"
    "$py" -m pip download -q --no-deps --no-binary :all: zarr==3.4.2 -d "$cache"
    tar xzf "$cache/zarr-3.4.2.tar.gz" -C "$cache"
fi
rm -rf "$work"
mkdir -p "$work/site"
ZARRC_LIBZARRC=$static ZARRC_INCLUDE_DIR=$src/include "$py" -m pip install -q --no-deps --no-build-isolation \
    --no-index --target "$work/site" "$src/python"
cd "$work"
t=$src/python/tests
ZARRC_LIBRARY=$lib PYTHONPATH=$work/site ZARR_PYTHON_TESTS=$tests PYTHONDONTWRITEBYTECODE=1 \
    "$py" -m pytest -q -p no:cacheprovider -c "$t/pytest.ini" --rootdir "$work" -rs "$t/test_pipeline.py" \
    "$t/test_pipeline_zp_suite.py" "$t/test_loopjobs.py"
# zarr-python's own data-type, indexing and v2 tests with zarrc's pipeline selected (its conftest
# resets zarr.config per test, so the selection comes from the environment); the plugin fails
# the run if no chunk went through zarrc.
cd "$tests/.."
ZARR_CODEC_PIPELINE__PATH=zarrc.pipeline.ZarrcCodecPipeline PYTHONPATH=$work/site:$t PYTHONDONTWRITEBYTECODE=1 \
    exec "$py" -m pytest -q -p no:cacheprovider -c "$t/pytest.ini" --rootdir "$tests/.." -p zp_select_zarrc -o asyncio_mode=auto \
    tests/test_v2.py tests/test_indexing.py tests/test_dtype
