"""Region reads and writes awaited from an asyncio event loop, run on C threads.

``await region(write, array, box, ndim, buf, size)`` runs ``zarrc_array_write`` /
``zarrc_array_read`` of one strided box on the extension's C worker threads (zarrc_build.py,
ASYNC_JOBS): they never take the GIL, and tell the loop through an eventfd it watches
(``loop.add_reader``). Against ``asyncio.to_thread`` this saves a Python worker thread's two
GIL acquisitions per call, each of which can wait out the interpreter's switch interval while
another thread runs Python (measured in docs/python.md). A loop that cannot watch file
descriptors, or a submission the C side refuses (out of memory, no thread), falls back to
``asyncio.to_thread``.

Buffers: the array handle and ``buf`` are kept referenced until the C call has returned, even
when the awaiting task is cancelled (the call cannot be interrupted, as with a thread).
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import os
import weakref

from . import _zarrc_cffi
from .lowlevel import check, error_for, ffi, lib

# The two calls the loop thread makes per region, through ctypes.PyDLL: unlike a cffi call they
# keep the GIL. Both return within microseconds (a queue push; a copy of finished results); a
# released GIL would instead go to a thread running Python, and the loop, which every caller
# waits on, would wait up to the switch interval to get it back.
_held = ctypes.PyDLL(_zarrc_cffi.__file__)
_submit = _held.zarrc_py_submit
_submit.restype = ctypes.c_int
_submit.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                    ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
_take = _held.zarrc_py_done_take
_take.restype = ctypes.c_size_t
_take.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]


_TAKE = 64  # results taken per call


def _addr(p) -> int:
    return int(ffi.cast("uintptr_t", p))


class _LoopJobs:
    """The finished-job box of one event loop and the futures waiting on it (loop thread only)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        box = lib.zarrc_py_done_new()
        if box == ffi.NULL:
            raise OSError("zarrc: no eventfd for the loop's native jobs")
        self.box = box
        self.pid = os.getpid()
        self.box_addr = _addr(box)
        self.pending: dict[int, tuple[asyncio.Future, tuple]] = {}
        self.ids = itertools.count(1)
        self.out = ffi.new("zarrc_py_result[]", _TAKE)
        self.out_addr = _addr(self.out)
        try:
            loop.add_reader(lib.zarrc_py_done_fd(box), self._drain)
        except BaseException:
            lib.zarrc_py_done_free(box)
            self.box = None
            raise

    def __del__(self):
        # Before `pending` (and the buffers it keeps) goes: waits for calls still running.
        if getattr(self, "box", None) is not None:
            lib.zarrc_py_done_free(self.box)
            self.box = None

    def submit(self, loop, write: bool, array, box, ndim: int, buf, size: int, keep) -> asyncio.Future | None:
        jid = next(self.ids)
        if _submit(self.box_addr, jid, 1 if write else 0, _addr(array), _addr(box), ndim, _addr(buf),
                   size) != 0:
            return None
        fut = loop.create_future()
        self.pending[jid] = (fut, keep)
        return fut

    def _drain(self) -> None:
        while True:
            k = _take(self.box_addr, self.out_addr, _TAKE)
            for i in range(k):
                r = self.out[i]
                exc = None
                if r.rc < 0:
                    msg = ffi.string(r.message).decode("utf-8", "replace") if r.message != ffi.NULL else ""
                    lib.zarrc_py_message_free(r.message)
                    exc = error_for(r.rc, msg)
                fut, _keep = self.pending.pop(r.id)
                if fut.cancelled():
                    continue
                if exc is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(exc)
            if k < _TAKE:
                return


# loop -> weak reference to its _LoopJobs. What keeps a _LoopJobs alive is the loop's reader
# handle (its _drain): closing the loop drops that, and with it the _LoopJobs, whose __del__
# waits for the calls still running before their buffers go. (A strong value here would keep
# the loop alive through the futures it holds, and a closed loop's calls pending forever.)
_by_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_unwatchable: weakref.WeakSet = weakref.WeakSet()


def _jobs(loop) -> _LoopJobs | None:
    ref = _by_loop.get(loop)
    j = ref() if ref is not None else None
    if j is not None and j.pid != os.getpid():
        j = None  # a forked child's copy: its eventfd is the parent's too
    if j is None and loop not in _unwatchable:
        try:
            j = _LoopJobs(loop)
        except (NotImplementedError, OSError):
            _unwatchable.add(loop)
            return None
        _by_loop[loop] = weakref.ref(j)
    return j


def _region_sync(write: bool, array, box, ndim: int, buf, size: int) -> None:
    fn = lib.zarrc_array_write if write else lib.zarrc_array_read
    check(fn(array, box, box + ndim, box + 2 * ndim, buf, size))


async def region(write: bool, array, box, ndim: int, buf, size: int, keep=()) -> None:
    """Run zarrc_array_write (write) or zarrc_array_read of the box (``box`` an int64_t[] of
    start, count and step, ndim each) with ``buf`` of ``size`` bytes; raise its ZarrcError.
    ``keep`` holds whatever else must outlive the call (the Python owners of ``buf``)."""
    loop = asyncio.get_running_loop()
    j = _jobs(loop)
    fut = j.submit(loop, write, array, box, ndim, buf, size, (array, box, buf, keep)) if j else None
    if fut is None:
        await asyncio.to_thread(_region_sync, write, array, box, ndim, buf, size)
        return
    await fut
