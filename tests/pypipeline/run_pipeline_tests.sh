#!/bin/sh
# zarrc's zarr-python codec pipeline (python/zarrc/pipeline.py): its own pytest tests and
# zarr-python 3.4.2's shared pipeline suite (tests/test_codec_pipeline_suite.py from the sdist,
# fetched once with pip into ~/.cache/zarrc/zarr-python-tests) with the pipeline selected.
# Usage: run_pipeline_tests.sh PYTHON LIBZARRC SOURCE_DIR
set -eu
py=$1; lib=$2; src=$3
if [ ! -x "$py" ]; then echo "FAIL: the Python peer venv $py is missing: run make check (scripts/install-deps.sh test creates it)"; exit 1; fi
cache=${ZARRC_CACHE:-$HOME/.cache/zarrc}/zarr-python-tests
tests=$cache/zarr-3.4.2/tests
if [ ! -f "$tests/test_codec_pipeline_suite.py" ]; then
    mkdir -p "$cache"
    "$py" -m pip download -q --no-deps --no-binary :all: zarr==3.4.2 -d "$cache"
    tar xzf "$cache/zarr-3.4.2.tar.gz" -C "$cache"
fi
cd "$src/python"
ZARRC_LIBRARY=$lib PYTHONPATH=$src/python ZARR_PYTHON_TESTS=$tests PYTHONDONTWRITEBYTECODE=1 \
    exec "$py" -m pytest -q -p no:cacheprovider -c tests/pytest.ini -rs tests/test_pipeline.py tests/test_pipeline_zp_suite.py
