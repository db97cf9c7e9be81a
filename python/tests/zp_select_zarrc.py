"""pytest plugin for running zarr-python 3.4.2's own test modules (test_v2.py, test_indexing.py,
test_dtype/) with zarrc's pipeline selected: the pipeline comes from the environment
(ZARR_CODEC_PIPELINE__PATH=zarrc.pipeline.ZarrcCodecPipeline, which survives the suite's
config.reset()), and at the end the split of chunks per path is printed and the session fails if
no chunk went through zarrc (so the run cannot pass on the fallback alone)."""

from __future__ import annotations

import os

import zarrc.pipeline as zp

_WANT = "zarrc.pipeline.ZarrcCodecPipeline"


def pytest_configure(config):
    if os.environ.get("ZARR_CODEC_PIPELINE__PATH") != _WANT:
        raise RuntimeError(f"set ZARR_CODEC_PIPELINE__PATH={_WANT} to select zarrc's pipeline")


def pytest_sessionfinish(session, exitstatus):
    s = zp.stats
    print("\nzarrc pipeline over zarr-python's tests: native %d + %d chunks, codec mode %d + %d chunks "
          "(%d decoded straight into the output), fallback %d + %d chunks (read + write)"
          % (s["native_read_chunks"], s["native_write_chunks"], s["codec_read_chunks"],
             s["codec_write_chunks"], s["codec_direct_chunks"], s["fallback_read_chunks"],
             s["fallback_write_chunks"]))
    if s["native_read_chunks"] + s["codec_read_chunks"] == 0 or \
            s["native_write_chunks"] + s["codec_write_chunks"] == 0:
        print("FAIL: no chunk went through zarrc")
        session.exitstatus = 1
