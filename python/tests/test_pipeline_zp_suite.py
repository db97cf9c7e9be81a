"""zarr-python 3.4.2's own shared codec-pipeline behaviour suite (tests/test_codec_pipeline_suite.py
from the sdist, ZARR_PYTHON_TESTS or ~/.cache/zarrc/zarr-python-tests/zarr-3.4.2/tests) run with
zarrc's pipeline selected, on the suite's two stores (MemoryStore, sync and async: zarrc's codec
mode) plus a LocalStore (zarrc's native path, codec mode for selections that are not a box). A
final check asserts that chunk I/O really went through zarrc on both paths and prints how many
batches took each path, so this cannot pass on the fallback alone."""

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

_KEYS = ("native_read_calls", "native_write_calls", "native_read_chunks", "native_write_chunks",
         "codec_read_calls", "codec_write_calls", "codec_read_chunks", "codec_write_chunks",
         "codec_direct_chunks", "fallback_read_chunks", "fallback_write_chunks")
_totals = dict.fromkeys(_KEYS, 0)


class TestZarrcPipeline(suite.CodecPipelineTests):
    pipeline_path = "zarrc.pipeline.ZarrcCodecPipeline"

    @pytest.fixture(params=["sync", "async", "local"])
    def store(self, request, tmp_path):
        if request.param == "local":
            from zarr.storage import LocalStore

            return LocalStore(str(tmp_path / "store"))
        return suite._make_store(request.param)

    @pytest.fixture(autouse=True)
    def _count_paths(self):
        before = {k: zp.stats[k] for k in _KEYS}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", zp.ZarrcFallbackWarning)
            yield
        for k in _KEYS:
            _totals[k] += zp.stats[k] - before[k]


def test_zz_zarrc_paths_were_used():
    """Runs last (file order): chunks moved through zarrc's native path (LocalStore) and its
    codec mode (the memory stores); the split is printed (pytest -s or the -rA summary)."""
    t = _totals
    print("zarrc pipeline over the suite: batches native %d read + %d write (%d + %d chunks), "
          "codec mode %d + %d (%d + %d chunks, %d read chunks decoded straight into the output); "
          "fallback chunks %d read + %d write"
          % (t["native_read_calls"], t["native_write_calls"], t["native_read_chunks"],
             t["native_write_chunks"], t["codec_read_calls"], t["codec_write_calls"],
             t["codec_read_chunks"], t["codec_write_chunks"], t["codec_direct_chunks"], t["fallback_read_chunks"],
             t["fallback_write_chunks"]))
    assert t["native_read_chunks"] + t["native_write_chunks"] > 100, t
    assert t["codec_read_chunks"] + t["codec_write_chunks"] > 100, t
