"""zarrc._loopjobs: region reads and writes awaited from an event loop, run on the extension's C
threads. Errors carry zarrc's message, cancelled calls keep their buffers until the C call
returns, a closed loop waits for its calls, a forked child starts its own threads and never waits
for the parent's calls, and a loop that cannot watch file descriptors falls back to asyncio.to_thread."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import threading
import weakref

import numpy as np
import pytest
import zarr

import zarrc.pipeline as zp
from zarrc import ZarrcError, _loopjobs
from zarrc.lowlevel import array_create, array_open, ffi, store_open

ZARRC = {"codec_pipeline.path": "zarrc.pipeline.ZarrcCodecPipeline"}
SHAPE, CHUNKS = (64, 256, 256), (16, 256, 256)  # 8 MiB of int16: calls that take a while


def _array(tmp_path):
    st = store_open(f"file://{tmp_path}/a.zarr", 0x2)  # ZARRC_STORE_CREATE
    a = array_create(st, "", dtype="int16", shape=SHAPE, chunks=CHUNKS, fill_value="0",
                     codecs='[{"name": "bytes", "configuration": {"endian": "little"}}, '
                            '{"name": "zstd", "configuration": {"level": 3, "checksum": false}}]')
    return st, a


def _box(start, count):
    nd = len(start)
    return ffi.new("int64_t[]", list(start) + list(count) + [1] * nd), nd


def _expected():
    return (np.arange(np.prod(SHAPE), dtype=np.int64) % 30011).astype(np.int16).reshape(SHAPE)


async def _write_all(a):
    data = _expected()
    box, nd = _box((0, 0, 0), SHAPE)
    await _loopjobs.region(True, a, box, nd, ffi.from_buffer(data), data.nbytes, keep=data)


async def _read(a, start, count):
    out = np.empty(count, dtype=np.int16)
    box, nd = _box(start, count)
    await _loopjobs.region(False, a, box, nd, ffi.from_buffer(out, require_writable=True), out.nbytes)
    return out


def _run(coro_fn, loop_factory=None):
    """asyncio.run, recording exceptions the loop's callbacks raise (e.g. in the eventfd reader)."""
    errors = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: errors.append(ctx))
        return await coro_fn()

    if loop_factory is None:
        result = asyncio.run(main())
    else:
        loop = loop_factory()
        try:
            result = loop.run_until_complete(main())
        finally:
            loop.close()
    assert not errors, errors
    return result


def test_round_trip_and_concurrent_reads(tmp_path):
    st, a = _array(tmp_path)

    async def go():
        await _write_all(a)
        parts = await asyncio.gather(*[_read(a, (t, 0, 0), (8, 256, 256)) for t in range(0, 64, 8)])
        return np.concatenate(parts)

    np.testing.assert_array_equal(_run(go), _expected())


def test_errors_carry_zarrcs_message(tmp_path):
    st, a = _array(tmp_path)

    async def go():
        out = np.empty(10, dtype=np.int16)
        box, nd = _box((60, 0, 0), (8, 1, 1))  # runs past the end of axis 0
        with pytest.raises(ZarrcError) as ei:
            await _loopjobs.region(False, a, box, nd, ffi.from_buffer(out, require_writable=True), 16)
        return ei.value

    e = _run(go)
    assert e.code == -8 and "exceeds the array length 64" in str(e)  # ZARRC_EBOUNDS, zarrc's words
    # a worker that could not copy the message (out of memory) still gives the code's own text
    from zarrc import BoundsError
    from zarrc.lowlevel import error_for
    bare = error_for(-8, "")
    assert isinstance(bare, BoundsError) and bare.code == -8 and str(bare)


def test_pipeline_native_error_names_the_chunk(tmp_path):
    path = str(tmp_path / "c.zarr")
    with zarr.config.set(ZARRC):
        z = zarr.create_array(path, shape=(40,), chunks=(10,), dtype="i4",
                              compressors=zarr.codecs.ZstdCodec())
        z[:] = np.arange(40)
    with open(os.path.join(path, "c", "2"), "r+b") as f:
        f.truncate(5)
    zp.reset_stats()
    with zarr.config.set(ZARRC):
        z = zarr.open_array(path, mode="r")
        np.testing.assert_array_equal(z[:10], np.arange(10))
        with pytest.raises(ZarrcError, match="c.zarr': chunk 'c/2'") as ei:
            z[15:25]
        np.testing.assert_array_equal(z[30:], np.arange(30, 40))  # the loop's jobs still run
    assert ei.value.code == -6  # ZARRC_ECORRUPT
    assert zp.stats["native_read_calls"] == 2 and zp.stats["codec_read_calls"] == 0  # + the failed one


def test_cancelled_calls_keep_their_buffers_until_done(tmp_path):
    st, a = _array(tmp_path)
    _run(lambda: _write_all(a))

    async def go():
        loop = asyncio.get_running_loop()
        refs = []
        tasks = []
        for t in range(0, 64, 16):
            out = np.empty((16, 256, 256), dtype=np.int16)
            refs.append(weakref.ref(out))
            box, nd = _box((t, 0, 0), (16, 256, 256))
            tasks.append(asyncio.ensure_future(_loopjobs.region(
                False, a, box, nd, ffi.from_buffer(out, require_writable=True), out.nbytes)))
            del out
        await asyncio.sleep(0)  # every call submitted
        jobs = _loopjobs._by_loop[loop]()
        submitted = len(jobs.pending)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        gc.collect()
        # Each call still running keeps its buffer: cancelling freed none early.
        assert sum(r() is not None for r in refs) >= len(jobs.pending)
        for _ in range(2000):
            if not jobs.pending:
                break
            await asyncio.sleep(0.005)
        return submitted, len(jobs.pending), refs

    submitted, pending, refs = _run(go)
    gc.collect()  # the cancelled tasks (their tracebacks hold the buffers too) are gone now
    assert submitted == 4 and pending == 0 and all(r() is None for r in refs)
    # and the array still reads back right afterwards
    np.testing.assert_array_equal(_run(lambda: _read(a, (0, 0, 0), SHAPE)), _expected())


def test_closed_loop_waits_for_its_calls(tmp_path):
    st, a = _array(tmp_path)
    _run(lambda: _write_all(a))
    refs = []

    async def go():
        for t in range(0, 64, 16):
            out = np.empty((16, 256, 256), dtype=np.int16)
            refs.append(weakref.ref(out))
            box, nd = _box((t, 0, 0), (16, 256, 256))
            asyncio.ensure_future(_loopjobs.region(False, a, box, nd,
                                                   ffi.from_buffer(out, require_writable=True), out.nbytes))
        await asyncio.sleep(0)
        # returns with the calls running: asyncio.run cancels the tasks and closes the loop

    _run(go)
    gc.collect()
    assert all(r() is None for r in refs)  # freed once their calls returned, not leaked
    np.testing.assert_array_equal(_run(lambda: _read(a, (8, 0, 0), (8, 256, 256))), _expected()[8:16])


class _NoReaderLoop(asyncio.SelectorEventLoop):
    def add_reader(self, fd, callback, *args):
        raise NotImplementedError


def test_loop_without_add_reader_falls_back_to_a_thread(tmp_path):
    st, a = _array(tmp_path)

    async def go():
        await _write_all(a)
        got = await _read(a, (0, 0, 0), SHAPE)
        assert asyncio.get_running_loop() not in _loopjobs._by_loop
        return got

    np.testing.assert_array_equal(_run(go, _NoReaderLoop), _expected())


def _child_reads(path, q):
    try:
        with zarr.config.set(ZARRC):
            z = zarr.open_array(path, mode="r")
            q.put(int(z[...].astype(np.int64).sum()))
    except BaseException as e:  # reported, not hung
        q.put(repr(e))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_starts_its_own_threads(tmp_path):
    path = str(tmp_path / "f.zarr")
    data = np.arange(4000, dtype="i4").reshape(40, 100)
    with zarr.config.set(ZARRC):
        z = zarr.create_array(path, shape=data.shape, chunks=(10, 50), dtype="i4")
        z[...] = data
        np.testing.assert_array_equal(z[...], data)  # the parent's C threads exist now
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_reads, args=(path, q))
    p.start()
    p.join(60)
    if p.is_alive():
        p.kill()
    assert p.exitcode == 0, "the child hung or died"
    assert q.get(timeout=5) == int(data.sum())


def _child_frees_copied_boxes(path, q):
    try:
        for ref in list(_loopjobs._by_loop.values()):  # the parent's boxes, copied mid-call
            j = ref()
            if j is not None:
                j.__del__()  # what collecting them does: must not wait for the parent's calls
        st = store_open(f"file://{path}", 0)
        a = array_open(st, "")
        q.put(int(_run(lambda: _read(a, (0, 0, 0), SHAPE)).astype(np.int64).sum()))
    except BaseException as e:
        q.put(repr(e))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_during_calls_does_not_hang_the_child(tmp_path):
    st, a = _array(tmp_path)
    _run(lambda: _write_all(a))
    stop = threading.Event()
    running = threading.Event()

    def reader():
        async def go():
            while not stop.is_set():
                task = asyncio.ensure_future(_read(a, (0, 0, 0), SHAPE))
                running.set()
                await task
        asyncio.run(go())

    t = threading.Thread(target=reader)
    t.start()
    try:
        assert running.wait(30)
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=_child_frees_copied_boxes, args=(str(tmp_path / "a.zarr"), q))
        p.start()
        p.join(60)
        if p.is_alive():
            p.kill()
    finally:
        stop.set()
        t.join(60)
    assert p.exitcode == 0, "the child hung or died"
    assert q.get(timeout=5) == int(_expected().astype(np.int64).sum())
