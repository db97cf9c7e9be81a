"""zarr-python 3.4.2's own shared codec-pipeline behaviour suite (tests/test_codec_pipeline_suite.py
from the sdist, ZARR_PYTHON_TESTS or ~/.cache/zarrc/zarr-python-tests/zarr-3.4.2/tests) run with
zarrc's pipeline selected, on the suite's two stores (memory: the fallback path) plus a LocalStore
(zarrc's native path). A final check asserts that the LocalStore runs really did their chunk I/O
in zarrc, so this cannot pass on the fallback alone."""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings

import pytest

import zarrc.pipeline as zp

SUITE_DIR = os.environ.get(
    "ZARR_PYTHON_TESTS", os.path.expanduser("~/.cache/zarrc/zarr-python-tests/zarr-3.4.2/tests"))
SUITE = os.path.join(SUITE_DIR, "test_codec_pipeline_suite.py")

if not os.path.exists(SUITE):
    pytest.fail(f"zarr-python's test suite not found at {SUITE} (pip download --no-deps --no-binary "
                ":all: zarr==3.4.2 and unpack it there, or set ZARR_PYTHON_TESTS)", pytrace=False)

_spec = importlib.util.spec_from_file_location("zp_codec_pipeline_suite", SUITE)
suite = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = suite
_spec.loader.exec_module(suite)

_native_chunks = {"n": 0}


class TestZarrcPipeline(suite.CodecPipelineTests):
    pipeline_path = "zarrc.pipeline.ZarrcCodecPipeline"

    @pytest.fixture(params=["sync", "async", "local"])
    def store(self, request, tmp_path):
        if request.param == "local":
            from zarr.storage import LocalStore

            return LocalStore(str(tmp_path / "store"))
        return suite._make_store(request.param)

    @pytest.fixture(autouse=True)
    def _count_native(self):
        before = zp.stats["native_read_chunks"] + zp.stats["native_write_chunks"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", zp.ZarrcFallbackWarning)
            yield
        _native_chunks["n"] += zp.stats["native_read_chunks"] + zp.stats["native_write_chunks"] - before


def test_zz_native_path_was_used():
    """Runs last (file order): the LocalStore parametrizations moved chunks through zarrc."""
    assert _native_chunks["n"] > 100, _native_chunks
