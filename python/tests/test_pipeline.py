"""zarrc.pipeline.ZarrcCodecPipeline against zarr-python's default pipeline on the same stores:
same values for reads and writes, xarray.open_zarr through it, fallback warnings once per reason,
and counters proving chunk I/O went through zarrc."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore, MemoryStore

import zarrc.pipeline as zp

ZARRC = {"codec_pipeline.path": "zarrc.pipeline.ZarrcCodecPipeline"}

LAYOUTS = [
    dict(zarr_format=3, dtype="float32", fill_value=1.5, chunks=(10, 7)),
    dict(zarr_format=3, dtype="int16", fill_value=-3, chunks=(10, 7), compressors=None),
    dict(zarr_format=3, dtype="uint8", fill_value=0, chunks=(20, 14), shards=(40, 28)),
    dict(zarr_format=3, dtype="complex64", fill_value=0, chunks=(16, 16), config={"order": "F"}),
    dict(zarr_format=3, dtype="bool", fill_value=False, chunks=(9, 9)),
    dict(zarr_format=2, dtype="<f8", fill_value=0.0, chunks=(10, 7)),
    dict(zarr_format=2, dtype=">i4", fill_value=7, chunks=(13, 5), order="F"),
]


def _data(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dt.kind == "c":
        return (rng.random(shape) + 1j * rng.random(shape)).astype(dt)
    if dt.kind in "iu":
        return rng.integers(0, 100, shape).astype(dt)
    return rng.random(shape).astype(dt)


SELECTIONS = [np.s_[:], np.s_[3:41, 5:9], np.s_[::3, 2:50:5], np.s_[7, :], np.s_[:, 13], np.s_[5, 6],
              np.s_[55:80, 40:57]]


@pytest.fixture(autouse=True)
def _fresh():
    zp.reset_stats()
    yield


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda l: f"v{l['zarr_format']}-{l['dtype']}")
def test_same_values_as_default_pipeline(tmp_path, layout):
    shape = (80, 57)
    kw = dict(layout)
    order = kw.pop("order", None)
    if order:
        kw["order"] = order
    x = _data(kw["dtype"], shape)
    with zarr.config.set(ZARRC):
        a = zarr.create_array(LocalStore(str(tmp_path / "z")), name="g/a", shape=shape, **kw)
        a[:] = x
        a[3:9, 5] = x[0, 0]
        a[::4, 1:30:3] = x[0, 1]
        a[60:, 50:] = a.fill_value  # whole chunks back to fill: erased
    x[3:9, 5] = x[0, 0]
    x[::4, 1:30:3] = x[0, 1]
    x[60:, 50:] = np.asarray(a.fill_value, dtype=x.dtype)
    assert zp.stats["native_write_calls"] == 4 and zp.stats["fallback_write_chunks"] == 0
    b = zarr.open_array(LocalStore(str(tmp_path / "z")), path="g/a")  # default pipeline
    np.testing.assert_array_equal(b[:], x)
    with zarr.config.set(ZARRC):
        c = zarr.open_array(LocalStore(str(tmp_path / "z")), path="g/a")
        assert isinstance(c.async_array.codec_pipeline, zp.ZarrcCodecPipeline)
        for sel in SELECTIONS:
            np.testing.assert_array_equal(c[sel], b[sel])
    assert zp.stats["native_read_calls"] == len(SELECTIONS)
    assert zp.stats["fallback_read_chunks"] == 0


def test_default_pipeline_writes_zarrc_reads_missing_chunks(tmp_path):
    a = zarr.create_array(LocalStore(str(tmp_path)), shape=(30, 30), chunks=(10, 10), dtype="i4",
                          fill_value=-1)
    a[0:10, 0:10] = 5  # only one chunk stored
    with zarr.config.set(ZARRC):
        c = zarr.open_array(LocalStore(str(tmp_path)))
        want = np.full((30, 30), -1, "i4")
        want[:10, :10] = 5
        np.testing.assert_array_equal(c[:], want)
    with zarr.config.set({**ZARRC, "array.read_missing_chunks": False}):
        c = zarr.open_array(LocalStore(str(tmp_path)))
        with pytest.raises(Exception, match="not found"):
            c[:]
        np.testing.assert_array_equal(c[:10, :10], 5)


def test_write_empty_chunks(tmp_path):
    for we in (False, True):
        with zarr.config.set({**ZARRC, "array.write_empty_chunks": we}):
            a = zarr.create_array(LocalStore(str(tmp_path / str(we))), shape=(20,), chunks=(5,),
                                  dtype="f8", fill_value=0.0)
            a[:] = 0.0
            a[0:5] = 1.0
        keys = sorted(p.name for p in (tmp_path / str(we) / "c").iterdir())
        assert keys == (["0", "1", "2", "3"] if we else ["0"]), keys
    assert zp.stats["native_write_calls"] == 4


def test_fallback_warns_once_per_reason(tmp_path):
    with zarr.config.set(ZARRC):
        s = zarr.create_array(MemoryStore(), shape=(4,), chunks=(2,), dtype=str)
        with pytest.warns(zp.ZarrcFallbackWarning, match="data type"):
            s[:] = ["a", "bb", "ccc", ""]
        with warnings.catch_warnings():
            warnings.simplefilter("error", zp.ZarrcFallbackWarning)
            assert list(s[:]) == ["a", "bb", "ccc", ""]  # same reason: no second warning
        s = zarr.create_array(LocalStore(str(tmp_path / "s")), shape=(4,), chunks=(2,), dtype=str)
        with warnings.catch_warnings():
            warnings.simplefilter("error", zp.ZarrcFallbackWarning)
            s[:] = ["a", "bb", "ccc", ""]
        assert list(s[:]) == ["a", "bb", "ccc", ""]
    assert zp.stats["fallback_read_chunks"] > 0 and zp.stats["fallback_write_chunks"] > 0
    assert zp.stats["codec_read_chunks"] == zp.stats["native_read_chunks"] == 0


def _stores(tmp_path):
    """Stores zarrc cannot open itself: the pipeline's codec mode serves them."""
    import obstore.store
    from zarr.storage import FsspecStore, ObjectStore, ZipStore

    (tmp_path / "obs").mkdir()
    return {
        "memory": MemoryStore(),
        "zip": ZipStore(str(tmp_path / "a.zip"), mode="a"),
        "fsspec-file": FsspecStore.from_url(f"file://{tmp_path}/fs.zarr", storage_options={"auto_mkdir": True}),
        "obstore-local": ObjectStore(obstore.store.LocalStore(str(tmp_path / "obs"))),
    }


STORE_NAMES = ["memory", "zip", "fsspec-file", "obstore-local"]
FANCY = [np.s_[[3, 1, 40, 41], :], np.s_[::7, [0, 56, 13]]]


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # zarr-python's ZipStore rewrites
@pytest.mark.parametrize("store_name", STORE_NAMES)
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda l: f"v{l['zarr_format']}-{l['dtype']}")
def test_codec_mode_any_store(tmp_path, store_name, layout):
    """Every store: the same writes through zarrc's pipeline and the default one, on the same
    store, give equal values for every selection; chunks really went through zarrc."""
    shape = (80, 57)
    store = _stores(tmp_path)[store_name]
    x = _data(layout["dtype"], shape)
    kw = dict(layout)
    if store_name == "zip":  # a ZipStore cannot delete: keep empty chunks
        kw["config"] = {**kw.get("config", {}), "write_empty_chunks": True}
    arrays = {}
    for name, cfg in (("zarrc", ZARRC), ("default", {})):
        with zarr.config.set(cfg):
            a = zarr.create_array(store, name=f"g/{name}", shape=shape, **kw)
            a[:] = x
            a[3:9, 5] = x[0, 0]
            a[::4, 1:30:3] = x[0, 1]
            a.set_orthogonal_selection(([2, 70], slice(None)), x[0, 2])
            a[60:, 50:] = a.fill_value
            arrays[name] = a
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if "shards" in layout else "error", zp.ZarrcFallbackWarning)
        with zarr.config.set(ZARRC):
            c = zarr.open_array(store, path="g/zarrc")
            assert isinstance(c.async_array.codec_pipeline, zp.ZarrcCodecPipeline)
            got = [(sel, c[sel]) for sel in SELECTIONS + FANCY]
            got_cross = zarr.open_array(store, path="g/default")[:]  # zarrc reads default's chunks
    ref = zarr.open_array(store, path="g/default")
    ref_x = zarr.open_array(store, path="g/zarrc")[:]  # the default pipeline reads zarrc's chunks
    for sel, v in got:
        np.testing.assert_array_equal(v, ref[sel])
    np.testing.assert_array_equal(got_cross, ref[:])
    np.testing.assert_array_equal(ref_x, ref[:])
    assert zp.stats["codec_read_chunks"] > 0 and zp.stats["codec_write_chunks"] > 0, zp.stats
    assert zp.stats["fallback_write_chunks"] == 0, zp.stats
    # partial shard reads are left to zarr-python's byte-range partial decode on purpose
    assert zp.stats["fallback_read_chunks"] == 0 or "shards" in layout, zp.stats
    assert zp.stats["native_read_chunks"] == 0


def test_localstore_fancy_selection_uses_codec_mode(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", zp.ZarrcFallbackWarning)
        with zarr.config.set(ZARRC):
            a = zarr.create_array(LocalStore(str(tmp_path)), shape=(10, 10), chunks=(5, 5), dtype="i8")
            a[:] = np.arange(100).reshape(10, 10)
            r = a.get_orthogonal_selection(([1, 7], slice(None)))
            a.set_coordinate_selection(([0, 9], [0, 9]), -1)
    want = np.arange(100).reshape(10, 10)
    np.testing.assert_array_equal(r, want[[1, 7]])
    want[0, 0] = want[9, 9] = -1
    np.testing.assert_array_equal(zarr.open_array(LocalStore(str(tmp_path)))[:], want)
    assert zp.stats["native_write_calls"] == 1 and zp.stats["codec_read_calls"] >= 1
    assert zp.stats["codec_write_calls"] >= 1 and zp.stats["fallback_read_chunks"] == 0


def test_codec_mode_corrupt_chunk_raises(tmp_path):
    from zarrc import ZarrcError

    store = MemoryStore()
    with zarr.config.set(ZARRC):
        a = zarr.create_array(store, name="t", shape=(10,), chunks=(5,), dtype="i4",
                              compressors=zarr.codecs.ZstdCodec())
        a[:] = np.arange(10)
    raw = store._store_dict["t/c/1"].to_bytes()
    from zarr.core.buffer import default_buffer_prototype

    store._store_dict["t/c/1"] = default_buffer_prototype().buffer.from_bytes(raw[: len(raw) // 2])
    with zarr.config.set(ZARRC):
        b = zarr.open_array(store, path="t")
        np.testing.assert_array_equal(b[:5], np.arange(5))
        with pytest.raises(ZarrcError, match="chunk 't/c/1'") as ei:
            b[:]
    assert ei.value.code == -6  # ZARRC_ECORRUPT


def test_xarray_open_zarr_through_zarrc(tmp_path):
    xr = pytest.importorskip("xarray")
    ds = xr.Dataset({"t": (("time", "y", "x"), _data("float32", (24, 30, 40))),
                     "p": (("time", "y", "x"), _data("float64", (24, 30, 40), 1))},
                    coords={"time": np.arange(24), "y": np.arange(30.0), "x": np.arange(40.0)})
    path = str(tmp_path / "ds.zarr")
    ds.to_zarr(path, zarr_format=3, encoding={"t": {"chunks": (6, 15, 20)}, "p": {"chunks": (8, 10, 40)}})
    ref = xr.open_zarr(path).load()
    ref_mean = xr.open_zarr(path)["t"].mean(dim="time").compute()  # same dask chunks: same sums
    with zarr.config.set(ZARRC):
        got = xr.open_zarr(path)
        mean = got["t"].mean(dim="time").compute()
        loaded = got.load()
        xr.testing.assert_equal(loaded, ref)
        np.testing.assert_array_equal(mean.values, ref_mean.values)
        # rechunk-and-write through zarrc, read back with the default pipeline
        out = str(tmp_path / "out.zarr")
        got.chunk({"time": 12, "y": 30, "x": 20}).drop_encoding().to_zarr(out, zarr_format=3)
    assert zp.stats["native_read_chunks"] > 0 and zp.stats["native_write_chunks"] > 0
    xr.testing.assert_equal(xr.open_zarr(out).load(), ref)


def test_pickle_roundtrip(tmp_path):
    import pickle

    with zarr.config.set(ZARRC):
        a = zarr.create_array(LocalStore(str(tmp_path)), shape=(6,), chunks=(2,), dtype="u2")
        a[:] = np.arange(6)
        b = pickle.loads(pickle.dumps(a))
        assert isinstance(b.async_array.codec_pipeline, zp.ZarrcCodecPipeline)
        np.testing.assert_array_equal(b[:], np.arange(6))
    assert zp.stats["native_read_calls"] == 1


FIXED_TYPES = [  # (zarr_format, dtype, fill value): non-numeric fixed-size types zarrc lays out as numpy does
    (3, "<U5", "ab"),
    (2, "<U3", ""),
    (2, "|S4", b"zz"),
    (3, "datetime64[s]", None),
    (2, "<m8[ms]", None),
    (3, ">M8", None),  # generic unit, big-endian: numpy's astype would not swap it
    (2, "<M8", None),  # v2's spelling of the generic unit: no brackets
    (2, ">m8", None),
    (2, "|V6", None),
    (2, [("a", "<i4"), ("b", ">f8")], None),
    (2, [("p", [("x", "<i2"), ("y", ">u2")]), ("s", "S3"), ("q", "?")], None),
]


def _fixed_data(dt, shape, seed):
    raw = np.random.default_rng(seed).integers(0, 120, math.prod(shape) * dt.itemsize, dtype="u1")
    if dt.kind == "U":  # valid code points: decimal digits of distinct numbers
        return np.char.mod("%d", np.arange(math.prod(shape)) * (seed + 3)).astype(dt).reshape(shape)
    return np.frombuffer(raw.tobytes(), dt).reshape(shape).copy()


@pytest.mark.filterwarnings("ignore:The data type:UserWarning")
@pytest.mark.parametrize("where", ["memory", "local"])
@pytest.mark.parametrize("sharded", [False, True], ids=["plain", "sharded"])
@pytest.mark.parametrize("ftype", FIXED_TYPES, ids=lambda t: f"v{t[0]}-{np.dtype(t[1]).str}")
def test_fixed_size_types_codec_and_native(tmp_path, where, sharded, ftype):
    """Strings, bytes, datetimes, raw and structured types go through zarrc (codec mode on a
    MemoryStore, native on a LocalStore) with the same bytes as zarr-python's own pipeline:
    fill values, edge chunks (shape 50x19 on 8x5 chunks), missing chunks, sharded."""
    fmt, dtype, fill = ftype
    if sharded and fmt == 2:
        pytest.skip("no sharding in Zarr v2")
    dt = np.dtype(dtype)
    shape = (50, 19)
    store = MemoryStore() if where == "memory" else LocalStore(str(tmp_path / "z"))
    x = _fixed_data(dt, shape, 1)
    kw = dict(shape=shape, chunks=(8, 5), dtype=dt, zarr_format=fmt)
    if fill is not None:
        kw["fill_value"] = fill
    if sharded:
        kw["shards"] = (16, 10)
    arrays = {}
    for name, cfg in (("zarrc", ZARRC), ("default", {})):
        with zarr.config.set(cfg):
            a = zarr.create_array(store, name=name, **kw)
            a[:40, :] = x[:40]  # rows 40.. stay missing (fill value)
            a[3:9, 4] = x[0, 0]
            a[::4, 1:15:3] = x[1, 1]
            arrays[name] = a
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if sharded else "error", zp.ZarrcFallbackWarning)
        with zarr.config.set(ZARRC):
            c = zarr.open_array(store, path="zarrc")
            got = [c[sel] for sel in (np.s_[:], np.s_[3:41, 5:9], np.s_[::3, 2:19:5], np.s_[45:, 15:],
                                      np.s_[8:16, 10:15], np.s_[7, :])]
            cross = zarr.open_array(store, path="default")[:]
    ref = zarr.open_array(store, path="default")
    for v, sel in zip(got, (np.s_[:], np.s_[3:41, 5:9], np.s_[::3, 2:19:5], np.s_[45:, 15:],
                            np.s_[8:16, 10:15], np.s_[7, :]), strict=True):
        r = ref[sel]
        assert v.dtype == r.dtype and v.tobytes() == r.tobytes(), sel
    assert cross.tobytes() == ref[:].tobytes()
    assert zarr.open_array(store, path="zarrc")[:].tobytes() == ref[:].tobytes()
    mode = "codec" if where == "memory" else "native"
    assert zp.stats[f"{mode}_read_chunks"] > 0 and zp.stats[f"{mode}_write_chunks"] > 0, zp.stats
    assert zp.stats["fallback_write_chunks"] == 0, zp.stats


@pytest.mark.parametrize("dtype", ["float32", "<U4", [("a", "<i2"), ("b", "<f4")]], ids=str)
def test_codec_mode_decodes_whole_chunks_into_the_output(dtype):
    """A read whose chunks each fill a contiguous part of the output (whole rows here) is decoded
    by zarrc straight into the output array; the result equals zarr-python's, also with a
    missing chunk in the batch and a partial edge chunk."""
    dt = np.dtype(dtype)
    store = MemoryStore()
    x = _fixed_data(dt, (30, 12), 2) if dt.kind != "f" else np.arange(360, dtype=dt).reshape(30, 12)
    with zarr.config.set(ZARRC):
        a = zarr.create_array(store, name="a", shape=(30, 12), chunks=(8, 12), dtype=dt)
        a[:16] = x[:16]
        a[24:] = x[24:]  # chunk 2 (rows 16..23) missing
        zp.reset_stats()
        got = a[:]
        one = a[8:16]
    assert zp.stats["codec_direct_chunks"] == 3, zp.stats  # chunks 0, 1 of a[:] and the one of a[8:16]
    ref = zarr.open_array(store, path="a")
    assert got.tobytes() == ref[:].tobytes() and one.tobytes() == ref[8:16].tobytes()


@pytest.mark.parametrize("where", ["memory", "local"])
def test_variable_length_types_fall_back_with_equal_values(tmp_path, where):
    """vlen strings and bytes stay with zarr-python's pipeline (measured slower through zarrc:
    docs/python.md), one warning per reason, values equal to the default pipeline's."""
    from zarr.dtype import VariableLengthBytes

    store = MemoryStore() if where == "memory" else LocalStore(str(tmp_path / "z"))
    strs = np.array(["", "a", "héllo", "tail\0", "日本"] * 9, dtype=np.dtypes.StringDType()).reshape(5, 9)
    raw = np.array([s.encode() for s in strs.ravel()], dtype=object).reshape(5, 9)
    for name, dt, x in (("s", str, strs), ("b", VariableLengthBytes(), raw)):
        with zarr.config.set(ZARRC):
            with pytest.warns(zp.ZarrcFallbackWarning, match="variable-length data type"):
                a = zarr.create_array(store, name=name, shape=x.shape, chunks=(2, 4), dtype=dt)
                a[:4] = x[:4]
            got = a[:]
        ref = zarr.open_array(store, path=name)[:]
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(ref[:4], x[:4])
    assert zp.stats["fallback_write_chunks"] > 0 and zp.stats["fallback_read_chunks"] > 0
    assert zp.stats["codec_read_chunks"] == zp.stats["native_read_chunks"] == 0, zp.stats


@pytest.mark.parametrize("dtype", ["float64", "<U3", [("a", "<i4"), ("b", "|S2")]], ids=str)
def test_codec_mode_zero_dimensional(dtype):
    """A 0-d array through codec mode (zarr-python hands its one chunk over as shape (1,))."""
    dt = np.dtype(dtype)
    store = MemoryStore()
    x = _fixed_data(dt, (), 4) if dt.kind != "f" else np.asarray(2.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", zp.ZarrcFallbackWarning)
        with zarr.config.set(ZARRC):
            a = zarr.create_array(store, name="a", shape=(), dtype=dt)
            a[...] = x
            got = a[...]
    ref = zarr.open_array(store, path="a")[...]
    assert np.asarray(got, dtype=dt).tobytes() == np.asarray(ref, dtype=dt).tobytes() == x.tobytes()
    assert zp.stats["codec_write_chunks"] == 1 and zp.stats["codec_read_chunks"] == 1, zp.stats


def test_one_chunk_box_matches_general_planner(tmp_path, monkeypatch):
    """The one-chunk fast path (_box_one) plans the same (path, start, count, step) as the general
    planner for every one-chunk batch zarr-python hands over, and declines (None) the ones it does
    not handle; the values read and written through it are the default pipeline's."""
    data = _data("float32", (40, 30, 12), seed=3)
    sels = [np.s_[0:8, 0:10, 0:6], np.s_[8:16, 10:20, 6:12], np.s_[1:7, 2:9:3, 5], np.s_[3, 4, 5],
            np.s_[9:15:2, 11:20, ::5], np.s_[9:15:2, 11:20:4, 0:6], np.s_[16:24, 20:30, 0:6], np.s_[33:40, 21:29, 7:12], np.s_[20:21, 0:30, 0:12]]
    planned = []
    orig = zp._Native.box

    def spy(self, batch, out_shape, drop_axes):
        got = orig(self, batch, out_shape, drop_axes)
        if len(batch) == 1:
            monkeypatch.setattr(zp._Native, "_box_one", lambda *_a: None)
            try:
                general = orig(self, batch, out_shape, drop_axes)
            finally:
                monkeypatch.undo()
                monkeypatch.setattr(zp._Native, "box", spy)
            assert got == general, (batch[0][2:4], out_shape)
            planned.append(zp._Native._box_one(self, batch[0], out_shape) is not None)
        return got

    monkeypatch.setattr(zp._Native, "box", spy)
    with zarr.config.set(ZARRC):
        a = zarr.create_array(str(tmp_path / "a"), shape=data.shape, chunks=(8, 10, 6), dtype="float32",
                              fill_value=0.0)
        a[...] = data
        for s in sels:
            np.testing.assert_array_equal(a[s], data[s])
        b = zarr.create_array(str(tmp_path / "b"), shape=data.shape, chunks=(8, 10, 6), dtype="float32",
                              fill_value=0.0)
        want = np.zeros_like(data)
        for s in sels:
            b[s] = data[s] + 1
            want[s] = data[s] + 1
        np.testing.assert_array_equal(b[...], want)
    assert any(planned) and not all(planned)  # both the fast path and its fallback ran
    assert zp.stats["fallback_read_chunks"] == 0 and zp.stats["fallback_write_chunks"] == 0
