"""zarrc Python package: API, indexing, dtypes, errors, pickling, threads."""
import json
import pickle
import threading
import time

import numpy as np
import pytest

import zarrc
from zarrc import lowlevel as ll


def mk(d, path="a", shape=(10, 12), chunks=(4, 5), dtype="int32", **kw):
    return zarrc.create_array(d, path, mode="a", shape=shape, chunks=chunks, dtype=dtype,
                              overwrite=True, **kw)


def test_version_threads():
    assert zarrc.version() == "0.1.0"
    n = zarrc.get_num_threads()
    zarrc.set_num_threads(1)
    assert zarrc.get_num_threads() == 1
    zarrc.set_num_threads(0)
    assert zarrc.get_num_threads() == n


KEYS = [np.s_[...], np.s_[3], np.s_[-1, 2], np.s_[1:9:3, ::-2], np.s_[::-1, 11:2:-4],
        np.s_[None, 2, ...], np.s_[..., None], np.s_[[3, 1, 1, 9]], np.s_[:, [0, 11, 5]],
        np.s_[[1, 2], [3, 4]], np.s_[np.arange(10) % 3 == 0, 1:3], np.s_[2:2], np.s_[5:, -3:]]


@pytest.mark.parametrize("fmt", [2, 3])
def test_indexing_read_write(d, fmt):
    a = mk(d, format=fmt, fill_value=0)
    m = np.arange(120, dtype="int32").reshape(10, 12)
    a[...] = m
    for k in KEYS:
        np.testing.assert_array_equal(a[k], m[k], err_msg=str(k))
    n = 1000
    for k in KEYS:
        sel = m[k]
        v = np.arange(n, n + np.size(sel), dtype="int32").reshape(np.shape(sel))
        n += 1000
        a[k] = v
        m[k] = v
        np.testing.assert_array_equal(a[...], m, err_msg=str(k))
    a[1:3, [2, 2, 7]] = np.array([5, 6, 7])          # broadcast, repeated index: last wins
    m[1:3, [2, 2, 7]] = np.array([5, 6, 7])
    np.testing.assert_array_equal(np.asarray(a), m)
    assert a[2, 3] == m[2, 3] and isinstance(a[2, 3], np.int32)


def test_large_reads_aligned(d, monkeypatch):
    # Outputs from the threshold on start on a 64-byte line (zarrc's streaming stores cover
    # whole rows); the threshold lowered so that a small array takes that path.
    monkeypatch.setattr(ll, "_ALIGNED_FROM", 256)
    a = mk(d, shape=(40, 50), chunks=(16, 16), dtype="uint16", fill_value=3)
    m = np.arange(2000, dtype="uint16").reshape(40, 50)
    a[...] = m
    for k in (np.s_[...], np.s_[1:39, 2:], np.s_[::2]):
        got = a[k]
        assert got.ctypes.data % 64 == 0 and got.flags.c_contiguous and got.flags.writeable
        np.testing.assert_array_equal(got, m[k])
    small = a[0:2, 0:3]                          # below the threshold: numpy's own buffer
    np.testing.assert_array_equal(small, m[0:2, 0:3])
    rec = mk(d, "r", shape=(30, 20), chunks=(8, 8), dtype=[("x", "<i4"), ("y", "u1")])
    r = np.zeros((30, 20), dtype=[("x", "<i4"), ("y", "u1")])
    r["x"] = np.arange(600).reshape(30, 20)
    rec[...] = r
    got = rec[...]
    assert got.ctypes.data % 64 == 0
    np.testing.assert_array_equal(got, r)


def test_metadata(d):
    a = mk(d, shape=(6, 8), chunks=(3, 4), dtype="float32", fill_value=1.5,
           dimension_names=["y", "x"], attributes={"u": "m"},
           codecs=[{"name": "bytes", "configuration": {"endian": "little"}},
                   {"name": "zstd", "configuration": {"level": 1}}])
    b = zarrc.open(d, "a", mode="r+")
    assert isinstance(b, zarrc.Array)
    assert b.shape == (6, 8) and b.chunks == (3, 4) and b.ndim == 2 and len(b) == 6
    assert b.dtype == np.float32 and b.format == 3 and b.fill_value == 1.5
    assert b.dimension_names == ("y", "x") and b.attrs["u"] == "m"
    assert [c["name"] for c in b.codecs] == ["bytes", "zstd"]
    assert b.metadata["zarr_format"] == 3 and b.size == 48 and b.nbytes == 192
    np.testing.assert_array_equal(b[...], np.full((6, 8), 1.5, "float32"))
    b.attrs["v"] = [1, 2]
    b.attrs.update(w=3)
    assert dict(a.attrs.items()) == {"u": "m", "v": [1, 2], "w": 3}
    del b.attrs["u"]
    assert "u" not in b.attrs and len(b.attrs) == 2
    b.attrs.put({"z": None})
    assert b.attrs == {"z": None}
    c = mk(d, "v2", format=2, compressor={"id": "zlib", "level": 1}, dtype=">i8")
    c[...] = 7
    assert c.format == 2 and c.dtype == np.int64 and int(c[9, 11]) == 7


@pytest.mark.parametrize("fmt", [2, 3])
def test_dtypes(d, fmt):
    rng = np.random.default_rng(1)
    cases = [np.dtype(t) for t in ["bool", "int8", "uint16", "int64", "float16", "float64",
                                   "complex64", "complex128", "M8[ns]", "m8[s]", "S5", "U3"]]
    cases.append(np.dtype([("t", "<i8"), ("v", "<f4"), ("p", [("x", "<u2")])]))
    if fmt == 2:
        cases.append(np.dtype([("t", "<i4"), ("s", "<f8", (2, 3))]))
    for i, dt in enumerate(cases):
        a = mk(d, f"t{i}", shape=(7,), chunks=(3,), dtype=dt, format=fmt)
        raw = rng.integers(0, 255, 7 * dt.itemsize, dtype=np.uint8)
        v = raw.view(dt).copy()
        if dt.kind == "f" or dt.kind == "c":
            v = np.arange(7).astype(dt)
        if dt.kind == "b":
            v = raw[:7] % 2 == 0
        if dt.kind == "U":
            v = np.array(["a", "bc", "", "déf", "x", "yy", "z"], dt)
        if dt.kind in "Mm":
            v = np.arange(7).astype(dt)
        a[...] = v
        got = zarrc.open(d, f"t{i}")[...]
        assert got.dtype == dt, (dt, got.dtype)
        assert got.tobytes() == v.tobytes(), dt
    s = mk(d, "str", shape=(2, 3), chunks=(1, 2), dtype=str, format=fmt)
    vals = np.array([["a", "", "ünï"], ["long" * 50, "x", "y"]], dtype=object)
    s[...] = vals
    assert s.dtype == object
    np.testing.assert_array_equal(s[...], vals)
    np.testing.assert_array_equal(s[::-1, [2, 0]], vals[::-1, [2, 0]])
    s[1, 1:] = np.array(["p", "q"], dtype=np.dtypes.StringDType())
    assert list(s[1]) == ["long" * 50, "p", "q"]
    st = zarrc.open(d, "t12")
    np.testing.assert_array_equal(st.read_field("p.x"), st[...]["p"]["x"])


def test_errors(d):
    a = mk(d)
    with pytest.raises(zarrc.NotFoundError, match="nope") as e:
        zarrc.open(d, "nope")
    assert isinstance(e.value, KeyError) and e.value.code == -3
    with pytest.raises(IndexError):
        a[10]
    with pytest.raises(zarrc.ExistsError):
        zarrc.create_array(d, "a", mode="a", shape=(1,), dtype="int8")
    with pytest.raises(zarrc.ReadOnlyError):
        zarrc.open(d, "a", mode="r")[0, 0] = 1
    with pytest.raises(zarrc.ZarrcError):
        zarrc.create_array(d, "bad", mode="a", shape=(2,), dtype="nonsense_type")
    with pytest.raises(ValueError):
        zarrc.create_array(d, "bad", mode="a", shape=(2,), dtype="int8", fill_value=1000)
    with pytest.raises(zarrc.NotFoundError):
        zarrc.open(d + "-missing", "")
    # bounds come back from zarrc itself through the low-level layer, with its message
    with pytest.raises(zarrc.BoundsError) as e:
        ll.read_region(a._open(), [8, 0], [5, 1], None, np.empty(5, "int32"))
    assert isinstance(e.value, ValueError) and "dimension" in str(e.value)
    with pytest.raises(ValueError):
        zarrc.open(d, "a", mode="bogus")


def test_groups_hierarchy(d):
    root = zarrc.create_group(d, "", attributes={"r": 1})
    g = root.create_group("g", attributes={"k": "v"})
    g.create_array("x", shape=(3,), dtype="uint8")
    g.create_group("sub")
    assert root.children() == ["g"] and sorted(g) == ["sub", "x"]
    assert isinstance(root["g/x"], zarrc.Array) and isinstance(g["sub"], zarrc.Group)
    assert "x" in g and "y" not in g and len(g) == 2
    assert list(g.arrays()) == ["x"] and list(g.groups()) == ["sub"]
    assert g.attrs["k"] == "v" and root.attrs["r"] == 1
    assert g.require_group("sub").path == "g/sub"
    spec = {"": {"zarr_format": 3, "node_type": "group", "attributes": {"h": 1}},
            "c/d": {"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int16",
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
                    "chunk_key_encoding": {"name": "default"}, "fill_value": 3,
                    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}}
    h = zarrc.create_hierarchy(d, spec, root="h")
    assert isinstance(h, zarrc.Group) and h.attrs["h"] == 1
    np.testing.assert_array_equal(h["c/d"][...], [3, 3, 3, 3])
    with pytest.raises(zarrc.InvalidError):
        zarrc.open_array(d, "g")


def test_extend_append_resize(d):
    a = mk(d, shape=(0, 4), chunks=(3, 4))
    assert a.append(np.ones((2, 4), "int32")) == 0
    assert a.extend(np.full((5, 4), 2, "int32")) == 2
    assert a.shape == (7, 4)
    a.write_at((9, 0), np.full((1, 4), 9, "int32"))
    assert a.shape == (10, 4) and list(a[8]) == [0] * 4 and list(a[9]) == [9] * 4
    with pytest.raises(zarrc.BoundsError):
        a.write_at((20,), np.zeros((1, 4), "int32"), extend=False)
    a.resize(4, 4)
    assert a.shape == (4, 4)
    a.resize((6, 4))
    assert list(a[5]) == [0] * 4 and list(a[3]) == [2] * 4


def test_view(d):
    a = mk(d, "p", shape=(2, 3), chunks=(2, 3))
    b = mk(d, "q", shape=(2, 3), chunks=(2, 3))
    a[...] = 1
    b[...] = 2
    v = zarrc.open_view({"concatenate": {"axis": 0, "arrays": ["p", "q"]}}, base=d)
    assert v.is_view and v.shape == (4, 3)
    np.testing.assert_array_equal(v[...], np.repeat([1, 2], 6).reshape(4, 3))
    v2 = pickle.loads(pickle.dumps(v))
    np.testing.assert_array_equal(v2[1:3, 0], [1, 2])


def test_stores(d, tmp_path):
    m = zarrc.create_array("memory://", "m", shape=(3,), dtype="int8")
    m[...] = [1, 2, 3]
    assert list(m[::-1]) == [3, 2, 1]
    with pytest.raises(TypeError):
        pickle.dumps(m)
    z = str(tmp_path / "x.zip")
    za = zarrc.create_array(z, "a", mode="w", shape=(4,), dtype="float64")
    za[...] = np.arange(4.0)
    del za
    zarrc.core._stores.clear()
    np.testing.assert_array_equal(zarrc.open(z, "a")[...], np.arange(4.0))


def test_pickle(d):
    a = mk(d)
    a[...] = 5
    b = pickle.loads(pickle.dumps(a))
    assert b._h is None                     # reopened lazily
    assert b.shape == (10, 12) and int(b[0, 0]) == 5
    b[0, 0] = 6
    assert int(a[0, 0]) == 6
    g = pickle.loads(pickle.dumps(zarrc.create_group(d, "gg")))
    assert g.path == "gg" and isinstance(g, zarrc.Group)
    w = zarrc.create_array(d, "w", mode="w", shape=(2,), dtype="int8")
    assert pickle.loads(pickle.dumps(w)).mode == "r+"   # never overwrites on reopen


def test_gil_released_reads_overlap(d):
    """Two reads in two threads are inside zarrc at the same time while the main thread runs
    Python: impossible if a C call held the GIL."""
    a = mk(d, shape=(4000, 4000), chunks=(500, 500), dtype="float64",
           codecs=[{"name": "bytes", "configuration": {"endian": "little"}},
                   {"name": "zstd", "configuration": {"level": 1}}])
    a[...] = np.random.default_rng(0).random((4000, 4000))
    zarrc.set_num_threads(1)
    inside = [False, False]
    stop = threading.Event()

    def reader(i):
        while not stop.is_set():
            inside[i] = True
            a[...]
            inside[i] = False

    try:
        ts = [threading.Thread(target=reader, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        both = samples = 0
        t_end = time.monotonic() + 2.0
        while time.monotonic() < t_end:
            samples += 1
            both += inside[0] and inside[1]
            time.sleep(0.001)
        stop.set()
        for t in ts:
            t.join()
    finally:
        zarrc.set_num_threads(0)
    assert samples > 100 and both > samples // 4, (both, samples)
