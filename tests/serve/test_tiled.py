"""zarrc serve against the real tiled client (tiled 0.2.1, pinned in tests/peers/requirements.txt):
connect with an API key, read arrays, blocks and slices, write small and chunked arrays (dask
sends concurrent block PUTs), PATCH-extend with and without extend, out-of-order patches,
containers, metadata, listing, deletion; then zarr-python 3.4 reads from disk what tiled wrote,
element by element. Usage: test_tiled.py ZARRC TMPDIR"""
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from serve_common import CHECKS, check, server  # noqa: E402

import dask.array  # noqa: E402
import zarr  # noqa: E402
from tiled.client import from_uri  # noqa: E402

zarrc, tmp = sys.argv[1], sys.argv[2]
shutil.rmtree(tmp, ignore_errors=True)
root = os.path.join(tmp, "root")
os.makedirs(root)

# Arrays written by zarr-python first: tiled reads them.
g = zarr.open_group(root, mode="w", zarr_format=3, attributes={"title": "root group"})
x = np.arange(60, dtype="<f8").reshape(6, 10)
ax = g.create_array("x", shape=x.shape, chunks=(4, 3), dtype="<f8", attributes={"units": "m"},
                    dimension_names=["row", "col"])
ax[...] = x
sub = g.create_group("sub", attributes={"kind": "nested"})
i2 = np.arange(24, dtype=">i4").reshape(2, 3, 4)
a2 = zarr.create_array(root + "/sub/be", shape=i2.shape, chunks=(1, 2, 4), dtype=">i4")
a2[...] = i2
shd = np.arange(64 * 48, dtype="<u2").reshape(64, 48)
a3 = g.create_array("sharded", shape=shd.shape, chunks=(8, 8), shards=(32, 24), dtype="<u2")
a3[...] = shd
# A rectilinear chunk grid (zarr-extensions; zarr-python needs its flag to write and read it).
zarr.config.set({"array.rectilinear_chunks": True})
rect = np.arange(10 * 8, dtype="<i4").reshape(10, 8)
a4 = zarr.create_array(root + "/rect", shape=rect.shape, chunks=[[2, 3, 5], [4, 4]], dtype="<i4")
a4[...] = rect


def raw(url, key, method="GET", body=None, headers=None):
    h = {"Authorization": f"Apikey {key}"} if key else {}
    h.update(headers or {})
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


with server(zarrc, root, keys={"secretkey": "rw", "readkey": "ro"}) as (url, proc):
    c = from_uri(url, api_key="secretkey")
    check(sorted(c) == ["rect", "sharded", "sub", "x"], f"list(c) = {list(c)}")
    check(len(c) == 4, "len(c)")
    check(dict(c.metadata) == {"title": "root group"}, f"root metadata {c.metadata}")
    cx = c["x"]
    check(cx.structure().dims == ("row", "col") or list(cx.structure().dims) == ["row", "col"],
          f"dims {cx.structure().dims}")
    check(dict(cx.metadata) == {"units": "m"}, "array metadata")
    got = cx.read()
    check(np.array_equal(got, x), "x.read()")
    check(got.dtype == np.dtype("<f8"), "x dtype")
    check(np.array_equal(cx.read_block((1, 2)), x[4:6, 6:9]), "read_block((1, 2))")
    check(np.array_equal(cx.read_block((0, 3)), x[0:4, 9:10]), "read_block((0, 3)) edge")
    check(np.array_equal(cx[1:5:2, ::3], x[1:5:2, ::3]), "slice with steps")
    check(np.array_equal(cx[::-1, 7], x[::-1, 7]), "negative step + index")
    check(np.array_equal(cx[-2:, -3:], x[-2:, -3:]), "negative bounds")
    # nested container, big-endian array
    cs = c["sub"]
    check(dict(cs.metadata) == {"kind": "nested"}, "group metadata")
    check(list(cs) == ["be"], "list(sub)")
    be = c["sub", "be"].read()
    check(np.array_equal(be, i2), "sub/be read")
    check(np.array_equal(c["sub"]["be"].read_block((1, 1, 0)), i2[1:2, 2:3, :]), "be block")
    check(np.array_equal(c["sharded"].read(), shd), "sharded read")
    # The server-side slice parameter (the client slices on its side): steps, negative steps,
    # integers dropping dimensions — compared with numpy.
    for sl, ref in [("1:5:2,::3", x[1:5:2, ::3]), ("::-1,7", x[::-1, 7]), ("-1,-4:-1", x[-1, -4:-1]),
                    ("5:0:-2,9:2:-3", x[5:0:-2, 9:2:-3]), ("2", x[2]), ("10:20,:", x[10:20, :])]:
        es = ",".join(map(str, ref.shape)) if ref.ndim else "scalar"
        st, body, _ = raw(f"{url}/api/v1/array/full/x?slice={sl}&expected_shape={es}", "readkey",
                          headers={"Accept": "application/octet-stream"})
        check(st == 200, f"slice {sl}: {st} {body[:200]}")
        check(np.array_equal(np.frombuffer(body, "<f8").reshape(ref.shape), ref), f"slice {sl} values")
    st, body, _ = raw(f"{url}/api/v1/array/block/x?block=1,2&slice=1:,::-1&expected_shape=1,3", "readkey")
    check(st == 200 and np.array_equal(np.frombuffer(body, "<f8").reshape(1, 3), x[5:6, 8:5:-1]),
          f"block + slice {st}")

    # rectilinear grids: the structure lists the real edges, blocks address them
    cr4 = c["rect"]
    check(tuple(map(tuple, cr4.structure().chunks)) == ((2, 3, 5), (4, 4)), f"rect chunks {cr4.structure().chunks}")
    check(np.array_equal(cr4.read(), rect), "rect read")
    check(np.array_equal(cr4.read_block((1, 1)), rect[2:5, 4:8]), "rect read_block((1, 1))")
    check(np.array_equal(cr4.read_block((2, 0)), rect[5:10, 0:4]), "rect read_block((2, 0))")
    st, body, _ = raw(f"{url}/api/v1/array/block/rect?block=3,0", "readkey")
    check(st == 422 and b"out of range" in body, f"rect block beyond the last edge: {st} {body[:120]}")
    # written by tiled with uneven chunks (dask), read back, blocks replaced, extended
    uneven = np.random.default_rng(2).standard_normal((9, 7))
    au = c.write_array(dask.array.from_array(uneven, chunks=((4, 1, 4), (3, 4))), key="uneven")
    check(tuple(map(tuple, au.structure().chunks)) == ((4, 1, 4), (3, 4)), f"uneven chunks {au.structure().chunks}")
    check(np.array_equal(au.read(), uneven), "uneven write_array read back")
    check(np.array_equal(au.read_block((1, 1)), uneven[4:5, 3:7]), "uneven read_block((1, 1))")
    au.write_block(np.full((1, 4), 3.5), block=(1, 1))
    uneven[4:5, 3:7] = 3.5
    au.patch(np.full((2, 7), -1.0), offset=(9,), extend=True)
    uneven = np.concatenate([uneven, np.full((2, 7), -1.0)])
    check(au.structure().shape == (11, 7), f"uneven shape after extend {au.structure().shape}")
    check(sum(au.structure().chunks[0]) == 11 and au.structure().chunks[0][:3] == (4, 1, 4),
          f"uneven chunks after extend {au.structure().chunks}")
    check(np.array_equal(c["uneven"].read(), uneven), "uneven read after write_block and extend")

    # write_array: small (one PUT full) and chunked (dask: concurrent block PUTs)
    y = np.linspace(0, 1, 12).reshape(3, 2, 2)
    ay = c.write_array(y, key="y", metadata={"source": "tiled"})
    check(np.array_equal(ay.read(), y), "y written and read back")
    big = np.random.default_rng(1).integers(-1000, 1000, size=(37, 23), dtype="<i8")
    ab = c.write_array(dask.array.from_array(big, chunks=(8, 5)), key="chunked", dims=["t", "ch"])
    check(ab.structure().chunks[0][:2] == (8, 8), f"client chunks {ab.structure().chunks}")
    check(np.array_equal(ab.read(), big), "chunked write_array read back")
    cb = c.write_array(np.array([b"ab", b"xyz"], dtype="S3"), key="bytes")
    check(list(c["bytes"].read()) == [b"ab", b"xyz"], "S3 round trip")
    bige = np.arange(-3, 3, dtype=">i2")
    c.write_array(bige, key="bige")
    rbe = c["bige"].read()
    check(np.array_equal(rbe, bige) and rbe.dtype == np.dtype(">i2"), f"big-endian round trip {rbe.dtype}")
    cg = c.create_container("grp", metadata={"a": 1})
    cg.write_array(np.ones((2, 2), dtype="<f4"), key="inner")
    check(list(c["grp"]) == ["inner"], "container child")
    check(np.array_equal(c["grp", "inner"].read(), np.ones((2, 2), "<f4")), "inner read")

    # PATCH: extend, 409 without extend, out-of-order patches converging
    ay.patch(np.zeros((1, 2, 2)), offset=(3,), extend=True)
    check(ay.structure().shape == (4, 2, 2), f"shape after extend {ay.structure().shape}")
    check(ay.structure().chunks[0] == (3, 1), f"chunks after extend {ay.structure().chunks}")
    ref = np.concatenate([y, np.zeros((1, 2, 2))])
    check(np.array_equal(ay.read(), ref), "read after extend")
    try:
        ay.patch(np.ones((1, 2, 2)), offset=(4,), extend=False)
        check(False, "patch beyond the shape without extend must fail")
    except ValueError as e:
        check("does not fit within current array shape (4, 2, 2)" in str(e), f"409 message: {e}")
        check("Pass keyword argument extend=true" in str(e), f"409 message rewritten by the client: {e}")
    check(c["y"].structure().shape == (4, 2, 2), "409 left the shape alone")
    ay.patch(np.full((1, 2, 2), 7.0), offset=(7,), extend=True)
    ay.patch(np.full((1, 2, 2), 5.0), offset=(5,), extend=True)
    ay.patch(np.full((1, 2, 2), 6.0), offset=(6,), extend=True)
    ry = c["y"].read()
    check(ry.shape == (8, 2, 2), f"out-of-order shape {ry.shape}")
    check(np.array_equal(ry[4], np.zeros((2, 2))), "gap reads as fill")
    check(all(np.array_equal(ry[k], np.full((2, 2), float(k))) for k in (5, 6, 7)), "out-of-order values")
    ay.patch(np.full((2, 2, 2), 9.0), offset=(1, 0, 0), extend=False)  # inside: no extend needed
    # metadata and deletion
    check(dict(c["y"].metadata) == {"source": "tiled"}, "metadata of a written array")
    n_before = len(c)
    c.delete_contents("bytes")
    check("bytes" not in list(c) and len(c) == n_before - 1, "delete")
    try:
        c["nope"]
        check(False, "missing key must raise KeyError")
    except KeyError:
        CHECKS[0] += 1
    # a read-only key cannot write
    cr = from_uri(url, api_key="readkey")
    check(np.array_equal(cr["x"].read(), x), "read-only key reads")
    try:
        cr.write_array(np.ones(3), key="forbidden")
        check(False, "read-only key must not write")
    except Exception as e:
        check("403" in str(e) or "read-only" in str(e), f"read-only write refused: {e}")
    ry_final = c["y"].read()
    rb_final = c["chunked"].read()
    ri_final = c["grp", "inner"].read()

# After the server stopped: zarr-python 3.4 reads what tiled wrote, from disk.
zy = zarr.open_array(root + "/y", mode="r")
check(zy.metadata.zarr_format == 3, "y is Zarr v3")
check(np.array_equal(zy[...], ry_final), "zarr-python reads y")
expect = ref.copy()
expect = np.concatenate([expect, np.zeros((4, 2, 2))])
expect[5:8] = np.arange(5, 8)[:, None, None]
expect[1:3] = 9.0
check(np.array_equal(zy[...], expect), "y equals the model element by element")
check(zy.attrs.asdict() == {"source": "tiled"}, "attributes on disk")
zb = zarr.open_array(root + "/chunked", mode="r")
check(zb.chunks == (8, 5), f"the client's chunk grid is honoured: {zb.chunks}")
check(list(zb.metadata.dimension_names) == ["t", "ch"], "dims stored as dimension_names")
check(np.array_equal(zb[...], big) and np.array_equal(rb_final, big), "zarr-python reads chunked")
zi = zarr.open_array(root + "/grp/inner", mode="r")
check(np.array_equal(zi[...], ri_final), "zarr-python reads grp/inner")
check(zarr.open_group(root + "/grp", mode="r").attrs.asdict() == {"a": 1}, "container metadata on disk")
check(not os.path.exists(root + "/bytes"), "deleted on disk")
zbe = zarr.open_array(root + "/bige", mode="r")
check(np.array_equal(zbe[...], np.arange(-3, 3)), "zarr-python reads the big-endian array")
zu = zarr.open_array(root + "/uneven", mode="r")
check(zu.metadata.chunk_grid.__class__.__name__.lower().startswith("rectilinear") or
      "rectilinear" in json.dumps(zu.metadata.to_dict()["chunk_grid"]), "uneven is stored with a rectilinear grid")
check(np.array_equal(zu[...], uneven), "zarr-python reads the uneven array tiled wrote, element by element")
print(f"serve.tiled: {CHECKS[0]} checks passed")
