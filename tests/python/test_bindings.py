"""zarrc Python package: the streaming writer, copy, consolidate, references; values checked
against numpy and against zarr-python 3.4 reading the same stores."""
import json
import os

import numpy as np
import pytest

import zarrc


def test_stream_axis0(d):
    a = zarrc.create_array(d, "s", mode="a", shape=(0, 6), chunks=(4, 3), dtype="int32",
                           fill_value=-1)
    frames = [np.arange(k * 6, (k + n) * 6, dtype="int64").reshape(n, 6)
              for k, n in ((0, 1), (1, 3), (4, 5), (9, 2))]
    with a.stream(queue_bytes=1 << 16) as s:
        for f in frames:
            s.append(f)  # int64 frames are converted to the array's int32
        s.append(np.arange(66, 72))  # one index (a frame with one dimension less)
        assert s.appended == 12
    want = np.arange(72, dtype="int32").reshape(12, 6)
    assert a.shape == (12, 6)
    np.testing.assert_array_equal(a[...], want)
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(d, path="s", mode="r")[:], want)


def test_stream_axis1_and_errors(d):
    a = zarrc.create_array(d, "s1", mode="a", shape=(3, 0), chunks=(3, 2), dtype="float32")
    with a.stream(axis=1) as s:
        s.append(np.ones((3, 3)))
        with pytest.raises(ValueError, match="does not span"):
            s.append(np.ones((2, 1)))
        s.append(np.full((3,), 2.0))
    want = np.ones((3, 4), "float32")
    want[:, 3] = 2
    np.testing.assert_array_equal(a[...], want)
    with pytest.raises(zarrc.InvalidError, match="closed"):
        s.append(np.ones((3, 1)))
    s.close()  # idempotent
    with pytest.raises(zarrc.InvalidError):
        a.stream(axis=5)
    # everything appended before an exception inside the block is stored
    b = zarrc.create_array(d, "s2", mode="a", shape=(0,), chunks=(4,), dtype="uint8")
    with pytest.raises(RuntimeError):
        with b.stream() as s:
            s.append(np.arange(6))
            raise RuntimeError("producer failed")
    np.testing.assert_array_equal(b[...], np.arange(6, dtype="uint8"))


def test_stream_lent(d):
    """Lent frames: released exactly once, after their data is stored (a release callback that
    scribbles over its frame changes nothing stored), mixed with copied appends, kept alive by
    the stream when the caller drops them."""
    import gc
    a = zarrc.create_array(d, "lent", mode="a", shape=(0, 64), chunks=(4, 16), dtype="uint16")
    released = []

    def release(frame):
        released.append(id(frame))
        frame[...] = 0xFFFF  # the stream is done with it: the stored data must not change

    want, lent_ids = [], []
    with a.stream(queue_bytes=4 * 64 * 2 * 3) as s:
        for k in range(30):
            f = (np.arange(4 * 64, dtype="uint16") + 256 * k).reshape(4, 64)
            want.append(f.copy())
            if k % 5 == 4:
                s.append(f)  # copied appends in between
                continue
            lent_ids.append(id(f))
            s.append_lent(f, release)  # a whole slab: written from this buffer
            del f
            gc.collect()  # the stream keeps the frame alive
        one = np.full((1, 64), 7, "uint16")  # one index: copied, released inside the call
        want.append(one.copy())
        s.append_lent(one, release)
        lent_ids.append(id(one))
        assert s.lent <= 24
    assert s.lent == 0
    assert sorted(released) == sorted(lent_ids)  # each exactly once
    want = np.concatenate(want)
    np.testing.assert_array_equal(a[...], want)
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(d, path="lent", mode="r")[:], want)


def test_stream_lent_buffer_pool(d):
    """A camera-style pool of three buffers: each comes back through its release callback and
    is refilled; `collect(timeout)` waits for one without the GIL."""
    a = zarrc.create_array(d, "pool", mode="a", shape=(0, 32, 32), chunks=(1, 32, 32),
                           dtype="float32", codecs=[{"name": "bytes"}, {"name": "zstd"}])
    free = [np.empty((1, 32, 32), "float32") for _ in range(3)]
    with a.stream(queue_bytes=2 * 32 * 32 * 4) as s:
        for k in range(60):
            while not free:
                s.collect(timeout=5.0)
            buf = free.pop()
            buf[...] = k
            s.append_lent(buf, free.append)
    assert len(free) == 3
    np.testing.assert_array_equal(a[...][:, 0, 0], np.arange(60, dtype="float32"))
    np.testing.assert_array_equal(a[...], np.repeat(np.arange(60, dtype="float32"), 32 * 32)
                                  .reshape(60, 32, 32))


def test_stream_lent_errors(d):
    a = zarrc.create_array(d, "lent_err", mode="a", shape=(0, 8), chunks=(2, 8), dtype="int32")
    calls = []
    s = a.stream()
    with pytest.raises(ValueError, match="does not span"):
        s.append_lent(np.zeros((2, 7), "int32"), calls.append)
    assert s.lent == 0 and not calls  # a failing call keeps nothing and never releases
    s.append_lent(np.ones((2, 8), "int32"), calls.append)
    s.close()
    assert len(calls) == 1 and s.lent == 0
    with pytest.raises(zarrc.InvalidError, match="closed"):
        s.append_lent(np.ones((2, 8), "int32"), calls.append)
    assert len(calls) == 1
    # a stream dropped without close() is closed (with a ResourceWarning), its frames stored
    s = a.stream()
    s.append_lent(np.full((2, 8), 5, "int32"))
    with pytest.warns(ResourceWarning):
        del s
        import gc
        gc.collect()
    np.testing.assert_array_equal(a[...], np.concatenate([np.ones((2, 8)), np.full((2, 8), 5)]))


def test_copy(d):
    src = zarrc.create_array(d, "src", mode="a", shape=(30, 17), chunks=(7, 5), dtype="float64",
                             format=2, compressor={"id": "zlib", "level": 1})
    x = np.random.default_rng(3).random((30, 17))
    src[...] = x
    dst = zarrc.create_array(d, "dst", mode="a", shape=(30, 17), chunks=(10, 17), dtype="float64",
                             codecs=[{"name": "bytes"}, {"name": "zstd"}], format=3)
    st = zarrc.copy(src, dst)
    assert st["units"] == 3 and st["bytes"] == x.nbytes and st["raw"] is False
    np.testing.assert_array_equal(dst[...], x)
    same = zarrc.create_array(d, "same", mode="a", shape=(30, 17), chunks=(7, 5), dtype="float64",
                              format=2, compressor={"id": "zlib", "level": 1})
    assert same.copy_from(src)["raw"] is True  # identical encoding: stored bytes re-keyed
    np.testing.assert_array_equal(same[...], x)
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(d, path="dst", mode="r")[:], x)
    bad = zarrc.create_array(d, "bad", mode="a", shape=(30, 16), dtype="float64")
    with pytest.raises(zarrc.InvalidError, match="shape"):
        zarrc.copy(src, bad)


@pytest.mark.parametrize("fmt", [2, 3])
def test_consolidate(d, fmt):
    g = zarrc.create_group(d, "root", mode="a", format=fmt)
    g.create_group("sub")
    zarrc.create_array(d, "root/sub/x", mode="a", shape=(4,), dtype="int8", format=fmt)
    zarrc.create_array(d, "root/y", mode="a", shape=(2, 2), dtype="int8", format=fmt)
    assert g.consolidate() == 3
    zarr = pytest.importorskip("zarr")
    zg = zarr.open_consolidated(d, path="root", zarr_format=fmt)
    assert sorted(k for k, _ in zg.members(max_depth=None)) == ["sub", "sub/x", "y"]
    zarrc.create_array(d, "root/z", mode="a", shape=(1,), dtype="int8", format=fmt)
    assert zarrc.consolidate(d, "root") == 4
    assert "z" in [k for k, _ in zarr.open_consolidated(d, path="root", zarr_format=fmt).members()]
    assert zarrc.consolidate(d, "root", update=True) is None
    with pytest.raises(zarrc.NotFoundError):
        zarrc.consolidate(d, "missing")


def test_references(d):
    g = zarrc.create_group(d, "", mode="a")
    g.create_group("g/sub")
    zarrc.create_array(d, "g/data", mode="a", shape=(3,), dtype="int16")[...] = [1, 2, 3]
    refs = zarrc.create_array(d, "refs", mode="a", shape=(3,), dtype=str,
                              attributes={"_DTYPE": "object_reference"})
    refs[...] = np.array(["/g", "/g/data", "/nope"], dtype=object)
    assert zarrc.parse_reference({"_REFERENCE": {"source": ".", "path": "/g/sub"}}) == (".", "g/sub", None)
    r = g.resolve({"_REFERENCE": {"source": ".", "path": "/g/sub"}})
    assert (r.kind, r.path, r.format, r.external) == ("group", "g/sub", 3, False)
    assert isinstance(r.node, zarrc.Group) and r.node.path == "g/sub"
    r = refs.resolve_element(1)
    assert r.kind == "array" and isinstance(r.node, zarrc.Array)
    np.testing.assert_array_equal(r.node[...], [1, 2, 3])
    assert zarrc.resolve(g, json.dumps("/g")).node.keys() == ["data", "sub"]
    with pytest.raises(zarrc.NotFoundError, match="element 2"):
        refs.resolve_element(2)
    with pytest.raises(zarrc.BoundsError):
        refs.resolve_element(3)
    with pytest.raises(zarrc.AuthError, match="leaves the store"):
        g.resolve({"source": "../other.zarr", "path": "/"})
    with pytest.raises(zarrc.InvalidError):
        zarrc.parse_reference({"not": "a reference"})
    # an allowed external reference: a sibling store, opened read-only
    other = os.path.join(os.path.dirname(d), "other.zarr")
    zarrc.create_array(other, "t", mode="a", shape=(2,), dtype="uint8")[...] = [7, 9]
    r = g.resolve({"source": "../other.zarr", "path": "/t"}, allow_external=True)
    assert r.external and r.kind == "array"
    np.testing.assert_array_equal(r.node[...], [7, 9])
