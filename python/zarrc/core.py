"""Pythonic API over zarrc.h: stores, groups, arrays, numpy indexing, pickling."""
import json
import os
import threading

import numpy as np

from . import lowlevel as ll
from .lowlevel import ffi, lib
from ._errors import InvalidError, NotFoundError

_MODES = {"r", "r+", "a", "w", "w-"}
_stores = {}
_stores_lock = threading.Lock()


def _store(url, mode):
    """One store handle per (process, URL, writability): per-key locks are shared."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {sorted(_MODES)}, not {mode!r}")
    url = os.fspath(url)
    flags = lib.ZARRC_STORE_READONLY if mode == "r" else 0
    if mode in ("a", "w", "w-"):
        flags |= lib.ZARRC_STORE_CREATE
    if url.startswith("memory://"):
        return ll.store_open(url, flags)           # every memory:// store is its own
    key = (os.getpid(), url, flags & lib.ZARRC_STORE_READONLY)
    with _stores_lock:
        st = _stores.get(key)
        if st is None:
            st = _stores[key] = ll.store_open(url, flags)
        return st


def _join(a, b):
    a, b = a.strip("/"), b.strip("/")
    return f"{a}/{b}" if a and b else (a or b)


# ---- data types --------------------------------------------------------------------------

def _np_dtype(info):
    k, size = info.kind, info.item_size
    name = ffi.string(info.name).decode()
    if k == lib.ZARRC_DTYPE_BOOL:
        return np.dtype(bool)
    if k == lib.ZARRC_DTYPE_INT:
        return np.dtype(f"i{size}")
    if k == lib.ZARRC_DTYPE_UINT:
        return np.dtype(f"u{size}")
    if k == lib.ZARRC_DTYPE_FLOAT:
        return np.dtype(name) if name in ("float16", "float32", "float64") else np.dtype(f"u{size}")
    if k == lib.ZARRC_DTYPE_COMPLEX:
        return np.dtype(name) if name in ("complex64", "complex128") else np.dtype(f"V{size}")
    if k == lib.ZARRC_DTYPE_FIXED_BYTES:
        return np.dtype(f"S{size}")
    if k == lib.ZARRC_DTYPE_UTF32:
        return np.dtype(f"U{size // 4}")
    if k in (lib.ZARRC_DTYPE_DATETIME, lib.ZARRC_DTYPE_TIMEDELTA):
        unit = ffi.string(info.unit).decode()
        sf = info.scale_factor
        code = "M8" if k == lib.ZARRC_DTYPE_DATETIME else "m8"
        return np.dtype(f"{code}[{'' if sf == 1 else sf}{unit}]")
    if k in (lib.ZARRC_DTYPE_STRING, lib.ZARRC_DTYPE_VBYTES, lib.ZARRC_DTYPE_OBJECT):
        return np.dtype(object)
    if k == lib.ZARRC_DTYPE_STRUCT:
        names, formats, offsets = [], [], []
        f = ffi.new("zarrc_field_info *")
        pinfo = info if ffi.typeof(info).kind == 'pointer' else ffi.addressof(info)
        for i in range(lib.zarrc_dtype_field_count(pinfo)):
            ll.check(lib.zarrc_dtype_field(f, pinfo, i))
            sub = _np_dtype(f.dtype)
            if f.ndim:
                sub = np.dtype((sub, tuple(f.shape[j] for j in range(f.ndim))))
            names.append(ffi.string(f.name).decode())
            formats.append(sub)
            offsets.append(f.offset)
        return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                         "itemsize": size})
    return np.dtype(f"V{size}")


def _zarrc_dtype(dtype):
    """A zarrc dtype spelling from a numpy dtype, a Python type or a zarrc name."""
    if isinstance(dtype, str):
        if dtype in ("string", "str", "bytes") or dtype[:1] in "[{":
            return "string" if dtype == "str" else dtype
        try:
            dt = np.dtype(dtype)
        except TypeError:
            return dtype                      # zarrc-only names: "r24", "float8_e4m3fn", ...
    elif dtype is str:
        return "string"
    elif dtype is bytes:
        return "bytes"
    else:
        dt = np.dtype(dtype)
    if dt.kind == "O" or dt.kind == "T":
        return "string"
    if dt.names:
        return json.dumps(_struct_list(dt))
    return dt.str


def _struct_list(dt):
    out = []
    for n in dt.names:
        f = dt.fields[n][0]
        base, shape = (f.subdtype if f.subdtype else (f, ()))
        spell = _struct_list(base) if base.names else base.str
        out.append([n, spell, list(shape)] if shape else [n, spell])
    return out


# ---- attributes --------------------------------------------------------------------------

class Attributes:
    """Live view of a node's attributes: every read goes to the store, writes merge."""

    def __init__(self, node):
        self._node = node

    def asdict(self):
        pp = ffi.new("char **")
        st, path = self._node._store_path()
        ll.check(lib.zarrc_node_attributes(pp, st, path.encode()))
        return json.loads(ll.take_string(pp) or "{}")

    def _set(self, d, flags):
        st, path = self._node._store_path()
        ll.check(lib.zarrc_node_set_attributes(st, path.encode(), json.dumps(d).encode(), flags,
                                               ffi.NULL))

    def __getitem__(self, k):
        return self.asdict()[k]

    def __setitem__(self, k, v):
        self._set({k: v}, lib.ZARRC_ATTRS_MERGE)

    def __delitem__(self, k):
        d = self.asdict()
        del d[k]
        self._set(d, 0)

    def update(self, d=(), **kw):
        self._set(dict(d, **kw), lib.ZARRC_ATTRS_MERGE)

    def put(self, d):
        self._set(dict(d), 0)

    def get(self, k, default=None):
        return self.asdict().get(k, default)

    def keys(self):
        return self.asdict().keys()

    def items(self):
        return self.asdict().items()

    def __iter__(self):
        return iter(self.asdict())

    def __len__(self):
        return len(self.asdict())

    def __contains__(self, k):
        return k in self.asdict()

    def __eq__(self, other):
        return self.asdict() == (other.asdict() if isinstance(other, Attributes) else other)

    def __repr__(self):
        return f"Attributes({self.asdict()!r})"


# ---- nodes -------------------------------------------------------------------------------

class _Node:
    def __init__(self, url, path, mode):
        self.url, self.path, self.mode = os.fspath(url), path.strip("/"), mode
        self._st = None
        self._lock = threading.Lock()

    def _store(self):
        if self._st is None:
            self._st = _store(self.url, self.mode)
        return self._st

    def _store_path(self):
        return self._store(), self.path

    @property
    def attrs(self):
        return Attributes(self)

    @property
    def name(self):
        return "/" + self.path

    def __getstate__(self):
        if self.url.startswith("memory://"):
            raise TypeError("a zarrc node on a memory:// store cannot be pickled (the store "
                            "lives in this process only)")
        return {"url": self.url, "path": self.path,
                "mode": "r+" if self.mode in ("w", "w-") else self.mode}

    def __setstate__(self, s):
        _Node.__init__(self, s["url"], s["path"], s["mode"])

    def resolve(self, ref, allow_external=False):
        """Resolve a reference found in this node's store → `Reference` (see `resolve`)."""
        return resolve(self, ref, allow_external)


class Group(_Node):
    """A group node. g[name] opens a child (name may be a relative path "a/b")."""

    def __init__(self, url, path="", mode="r", _store=None):
        super().__init__(url, path, mode)
        self._st = _store

    def consolidate(self, update=False):
        """Write (or, update=True, refresh) this group's consolidated metadata (`consolidate`)."""
        return consolidate(self, update=update)

    def _children(self):
        out = []
        h = ffi.new_handle(out)
        ll.check(lib.zarrc_group_list(self._store(), self.path.encode(), lib._zarrc_py_child_cb, h))
        return out

    def children(self):
        """Names of the direct children (sorted)."""
        return sorted(c[0] for c in self._children())

    def keys(self):
        return self.children()

    def __iter__(self):
        return iter(self.children())

    def __len__(self):
        return len(self._children())

    def __contains__(self, name):
        try:
            _probe(self._store(), _join(self.path, name))
            return True
        except NotFoundError:
            return False

    def __getitem__(self, name):
        return _open_node(self.url, _join(self.path, name), self.mode, self._store())

    def members(self):
        return {n: self[n] for n in self.children()}

    def arrays(self):
        return {c[0]: self[c[0]] for c in self._children() if c[1] == lib.ZARRC_NODE_ARRAY}

    def groups(self):
        return {c[0]: self[c[0]] for c in self._children() if c[1] == lib.ZARRC_NODE_GROUP}

    @property
    def format(self):
        return _probe(self._store(), self.path)[1]

    def create_group(self, name, attributes=None, format=None, overwrite=False):
        p = _join(self.path, name)
        ll.check(lib.zarrc_group_create(self._store(), p.encode(), format or self.format,
                                        json.dumps(attributes).encode() if attributes else ffi.NULL,
                                        lib.ZARRC_OVERWRITE if overwrite else 0))
        return Group(self.url, p, self.mode, self._store())

    def require_group(self, name, **kw):
        try:
            g = self[name]
            if isinstance(g, Group):
                return g
        except NotFoundError:
            pass
        return self.create_group(name, **kw)

    def create_array(self, name, **kw):
        kw.setdefault("format", self.format)
        return _create_array(self.url, _join(self.path, name), self.mode, self._store(), **kw)

    def __repr__(self):
        return f"<zarrc.Group {self.url!r} {self.name!r}>"


@ffi.def_extern()
def _zarrc_py_child_cb(ctx, child):
    ffi.from_handle(ctx).append((ffi.string(child.name).decode(), child.kind))
    return 0


def _probe(st, path):
    kind = ffi.new("zarrc_node_kind *")
    fmt = ffi.new("int *")
    ll.check(lib.zarrc_node_probe(kind, fmt, st, path.encode()))
    return kind[0], fmt[0]


def _open_node(url, path, mode, st=None):
    st = st or _store(url, mode)
    kind, _ = _probe(st, path)
    if kind == lib.ZARRC_NODE_GROUP:
        return Group(url, path, mode, st)
    a = Array(url, path, mode)
    a._st = st
    return a


def open(url_or_path, path="", mode="r"):
    """Open the array or group at `path` of the store `url_or_path` (a directory path,
    file://, memory:// (empty), a .zip, s3://bucket/prefix, http(s)://...). mode: "r"
    (read-only), "r+" (read/write), "a" (read/write, the store is created if missing);
    "w"/"w-" are for the create functions. Missing node: NotFoundError (a KeyError)."""
    return _open_node(url_or_path, path, mode)


def open_group(url_or_path, path="", mode="r"):
    g = open(url_or_path, path, mode)
    if not isinstance(g, Group):
        raise InvalidError(f"node '{path}' is an array, not a group", lib.ZARRC_EINVAL)
    return g


def open_array(url_or_path, path="", mode="r"):
    a = open(url_or_path, path, mode)
    if not isinstance(a, Array):
        raise InvalidError(f"node '{path}' is a group, not an array", lib.ZARRC_EINVAL)
    return a


def create_group(url_or_path, path="", mode="a", attributes=None, format=3, overwrite=False):
    """Create a group (parents are not created implicitly by zarrc: use create_hierarchy)."""
    st = _store(url_or_path, mode)
    ll.check(lib.zarrc_group_create(st, path.encode(), format,
                                    json.dumps(attributes).encode() if attributes else ffi.NULL,
                                    lib.ZARRC_OVERWRITE if overwrite or mode == "w" else 0))
    return Group(url_or_path, path, mode, st)


def _create_array(url, path, mode, st, *, shape, dtype="float64", chunks=None, fill_value=None,
                  codecs=None, compressor=None, filters=None, order="C", separator=None,
                  attributes=None, dimension_names=None, format=3, overwrite=False):
    js = lambda v: None if v is None else (v if isinstance(v, str) else json.dumps(v))
    if isinstance(fill_value, (np.generic,)):
        fill_value = fill_value.item()
    if isinstance(shape, int):
        shape = (shape,)
    if isinstance(chunks, int):
        chunks = (chunks,) * len(shape)
    h = ll.array_create(st, path, dtype=_zarrc_dtype(dtype), shape=shape, chunks=chunks,
                        fill_value=None if fill_value is None else json.dumps(fill_value),
                        codecs=js(codecs),
                        compressor=("null" if compressor is False else js(compressor)),
                        filters=js(filters), order=order, separator=separator,
                        attributes=js(attributes), dimension_names=dimension_names,
                        format=format,
                        flags=lib.ZARRC_OVERWRITE if overwrite or mode == "w" else 0)
    a = Array(url, path, mode)
    a._st, a._h = st, h
    return a


def create_array(url_or_path, path="", mode="a", **kw):
    """Create an array: shape, dtype (numpy dtype, str/bytes/object for variable-length
    strings/bytes, structured dtypes, or a zarrc name like "int16", "string", "r24"),
    chunks, fill_value (Python value), codecs (v3 list) or compressor/filters (v2 style),
    order, separator, attributes, dimension_names, format (2 or 3), overwrite."""
    st = _store(url_or_path, mode)
    return _create_array(url_or_path, path, mode, st, **kw)


def create_hierarchy(url_or_path, spec, root="", mode="a", overwrite=False, format=0):
    """Create many nodes at once (zarrc_hierarchy_create): spec is {"relpath": metadata
    document} or a pydantic-zarr GroupSpec (dict or JSON text). Returns the root Group."""
    st = _store(url_or_path, mode)
    o = ffi.new("zarrc_hierarchy_options *")
    o.version = lib.ZARRC_HIERARCHY_OPTIONS_VERSION
    o.flags = lib.ZARRC_OVERWRITE if overwrite else 0
    o.format = format
    rep = ffi.new("zarrc_hierarchy_report **")
    text = spec if isinstance(spec, str) else json.dumps(spec)
    try:
        ll.check(lib.zarrc_hierarchy_create(rep, st, root.encode(), text.encode(), o))
    finally:
        lib.zarrc_hierarchy_report_free(rep[0])
    return _open_node(url_or_path, root, mode, st)


def open_view(spec, base=None, base_path="", allow_external=False):
    """Open a virtual array from a view spec (dict or JSON text, docs/views.md); relative
    layer locations resolve against `base_path` in the store `base` (URL, default ".")."""
    text = spec if isinstance(spec, str) else json.dumps(spec)
    a = Array(base or ".", base_path, "r")
    a._view = text
    a._allow_external = allow_external
    a._open()
    return a


def set_num_threads(n):
    """Worker threads of zarrc's shared pool (0 = default: the number of cores)."""
    ll.check(lib.zarrc_set_num_threads(int(n)))


def get_num_threads():
    return lib.zarrc_get_num_threads()


def version():
    return ffi.string(lib.zarrc_version()).decode()


# ---- arrays ------------------------------------------------------------------------------

def _norm_key(key, shape):
    """Per-axis ops: ("int", i) | ("slice", start, count, step) (step may be < 0) |
    ("fancy", int64 array), and the output positions of np.newaxis."""
    if not isinstance(key, tuple):
        key = (key,)
    nd = len(shape)
    nreal = sum(1 for k in key if k is not None and k is not Ellipsis)
    exp = []
    for k in key:
        if k is Ellipsis:
            if any(e is Ellipsis for e in exp):
                raise IndexError("an index can only have a single ellipsis")
            exp.extend([slice(None)] * (nd - nreal))
            exp.append(Ellipsis)
        else:
            exp.append(k)
    exp = [k for k in exp if k is not Ellipsis]
    ops, newaxes, ax = [], [], 0
    for k in exp:
        if k is None:
            newaxes.append(len(ops))
            continue
        if ax >= nd:
            raise IndexError(f"too many indices for array: array is {nd}-dimensional")
        n = shape[ax]
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            cnt = len(range(start, stop, step))
            ops.append(("slice", start, cnt, step))
        elif isinstance(k, (int, np.integer)):
            i = int(k)
            if i < -n or i >= n:
                raise IndexError(f"index {i} is out of bounds for axis {ax} with size {n}")
            ops.append(("int", i % n if n else i))
        else:
            arr = np.asarray(k)
            if arr.dtype == bool:
                if arr.ndim != 1 or arr.shape[0] != n:
                    raise IndexError(f"boolean index of shape {arr.shape} does not match "
                                     f"axis {ax} of size {n}")
                arr = np.nonzero(arr)[0]
            if arr.dtype.kind not in "iu":
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            arr = arr.astype(np.int64)
            if arr.size and (arr.min() < -n or arr.max() >= n):
                raise IndexError(f"index out of bounds for axis {ax} with size {n}")
            ops.append(("fancy", np.where(arr < 0, arr + n, arr)))
        ax += 1
    while ax < nd:
        ops.append(("slice", 0, shape[ax], 1))
        ax += 1
    return ops, newaxes


class Array(_Node):
    """An array node (or a view). Handles open lazily and reopen after unpickling."""

    def __init__(self, url, path="", mode="r"):
        super().__init__(url, path, mode)
        self._h = None
        self._view = None
        self._allow_external = False

    def __getstate__(self):
        s = super().__getstate__()
        s["view"], s["allow_external"] = self._view, self._allow_external
        return s

    def __setstate__(self, s):
        Array.__init__(self, s["url"], s["path"], s["mode"])
        self._view, self._allow_external = s["view"], s["allow_external"]

    def _open(self):
        if self._h is None:
            with self._lock:
                if self._h is None:
                    flags = lib.ZARRC_OPEN_ALLOW_EXTERNAL if self._allow_external else 0
                    if self._view is not None:
                        out = ffi.new("zarrc_array **")
                        ll.check(lib.zarrc_view_open(out, self._view.encode(), self._store(),
                                                     self.path.encode(), flags))
                        self._h = ffi.gc(out[0], lib.zarrc_array_free)
                    else:
                        self._h = ll.array_open(self._store(), self.path, flags)
        return self._h

    # metadata
    @property
    def ndim(self):
        return lib.zarrc_array_ndim(self._open())

    @property
    def shape(self):
        h = self._open()
        p = lib.zarrc_array_shape(h)
        return tuple(p[i] for i in range(lib.zarrc_array_ndim(h)))

    @property
    def chunks(self):
        """The chunk shape (of a sharded array: the shard shape, the unit of storage)."""
        h = self._open()
        p = lib.zarrc_array_chunks(h)
        return tuple(p[i] for i in range(lib.zarrc_array_ndim(h)))

    @property
    def inner_chunks(self):
        h = self._open()
        p = lib.zarrc_array_inner_chunks(h)
        return tuple(p[i] for i in range(lib.zarrc_array_ndim(h)))

    @property
    def dtype(self):
        return _np_dtype(lib.zarrc_array_dtype(self._open()))

    @property
    def _kind(self):
        return lib.zarrc_array_dtype(self._open()).kind

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def format(self):
        return lib.zarrc_array_format(self._open())

    @property
    def metadata(self):
        return ll.json_part(self._open(), lib.ZARRC_JSON_METADATA)

    @property
    def fill_value(self):
        return ll.json_part(self._open(), lib.ZARRC_JSON_FILL_VALUE)

    @property
    def codecs(self):
        return ll.json_part(self._open(), lib.ZARRC_JSON_CODECS_V3)

    @property
    def dimension_names(self):
        return tuple(self.metadata.get("dimension_names") or ()) or None

    @property
    def is_view(self):
        return bool(lib.zarrc_array_is_view(self._open()))

    @property
    def attrs(self):
        if self._view is not None:
            return ll.json_part(self._open(), lib.ZARRC_JSON_ATTRIBUTES)
        return Attributes(self)

    def __len__(self):
        return self.shape[0] if self.ndim else 0

    def __repr__(self):
        return f"<zarrc.Array {self.url!r} {self.name!r} shape={self.shape} dtype={self.dtype}>"

    def set_write_empty_chunks(self, enable):
        lib.zarrc_array_set_write_empty_chunks(self._open(), 1 if enable else 0)

    # raw boxes
    def _vlen_kind(self):
        return self._kind in (lib.ZARRC_DTYPE_STRING, lib.ZARRC_DTYPE_VBYTES,
                              lib.ZARRC_DTYPE_OBJECT)

    def _read_box(self, start, count, step):
        h = self._open()
        dt = self.dtype
        if self._vlen_kind():
            items = ll.read_vlen(h, start, count, step)
            if self._kind == lib.ZARRC_DTYPE_STRING:
                items = [b.decode("utf-8") for b in items]
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape(count)
        out = ll.empty_output(tuple(count), dt)
        if out.size:
            ll.read_region(h, start, count, step, out)
        return out

    def _write_box(self, start, count, step, value):
        h = self._open()
        if self._vlen_kind():
            flat = np.asarray(value, dtype=object).reshape(-1)
            if self._kind == lib.ZARRC_DTYPE_STRING:
                items = [str(x).encode("utf-8") for x in flat]
            elif self._kind == lib.ZARRC_DTYPE_OBJECT:
                items = [x if isinstance(x, bytes) else json.dumps(x).encode() for x in flat]
            else:
                items = [bytes(x) for x in flat]
            if items:
                ll.write_vlen(h, start, count, step, items)
            return
        data = np.ascontiguousarray(value, dtype=self.dtype)
        if data.size:
            ll.write_region(h, start, count, step, data)

    # numpy indexing
    def _plan(self, key):
        """Box to read/write (start, count, step per axis) and the numpy key that maps it to
        the selection (ints -> 0, reversed slices -> [::-1], index arrays -> positions in the
        box, np.newaxis kept): numpy then applies its own exact semantics on the box."""
        ops, newaxes = _norm_key(key, self.shape)
        start, count, step, post = [], [], [], []
        for op in ops:
            if op[0] == "int":
                start.append(op[1]); count.append(1); step.append(1); post.append(0)
            elif op[0] == "slice":
                _, s, c, st = op
                if c == 0:
                    start.append(0); count.append(0); step.append(1); post.append(slice(None))
                elif st > 0:
                    start.append(s); count.append(c); step.append(st); post.append(slice(None))
                else:           # read ascending, reverse in numpy
                    start.append(s + (c - 1) * st); count.append(c); step.append(-st)
                    post.append(slice(None, None, -1))
            else:               # integer array: its bounding box, gathered in numpy
                idx = op[1]
                lo = int(idx.min()) if idx.size else 0
                hi = int(idx.max()) + 1 if idx.size else 0
                start.append(lo); count.append(hi - lo); step.append(1); post.append(idx - lo)
        for p in reversed(newaxes):
            post.insert(p, None)
        return ops, start, count, step, tuple(post)

    def __getitem__(self, key):
        ops, start, count, step, post = self._plan(key)
        if any(c == 0 for c in count):
            box = np.empty(tuple(count), dtype=self.dtype)
        else:
            box = self._read_box(start, count, step)
        res = box[post]
        if isinstance(res, np.ndarray) and res.ndim == 0:
            return res[()]
        return res

    def __setitem__(self, key, value):
        """Writes without index arrays go to zarrc as one strided box (atomic per chunk).
        One index array: one box per distinct index (the last of repeated ones wins, as in
        numpy). Several index arrays (pointwise): read-modify-write of their bounding box,
        not atomic against concurrent writers of that box."""
        ops, start, count, step, post = self._plan(key)
        vdt = object if self._vlen_kind() else self.dtype
        fancy = [i for i, op in enumerate(ops) if op[0] == "fancy"]
        if any(c == 0 for c in count):
            np.empty(count, dtype=vdt)[post] = value      # numpy's shape checks
            return
        if len(fancy) > 1:
            box = self._read_box(start, count, step)
            box[post] = value
            self._write_box(start, count, step, box)
            return
        if not fancy:
            box = np.empty(count, dtype=vdt)
            box[post] = value
            self._write_box(start, count, step, box)
            return
        ax = fancy[0]
        idx = ops[ax][1]
        post = list(post)
        j = [k for k, p in enumerate(post) if isinstance(p, np.ndarray)][0]
        post[j] = np.arange(len(idx))
        bcount = list(count)
        bcount[ax] = len(idx)
        box = np.empty(bcount, dtype=vdt)
        box[tuple(post)] = value
        last = {}
        for pos, i in enumerate(idx.tolist()):
            last[i] = pos        # numpy: the last assignment to a repeated index wins
        for i, pos in sorted(last.items()):
            s, c = list(start), list(count)
            s[ax], c[ax] = i, 1
            self._write_box(s, c, step, np.take(box, [pos], axis=ax))

    def __array__(self, dtype=None, copy=None):
        a = self[...]
        a = np.asarray(a)
        return a.astype(dtype) if dtype is not None else a

    # fields of struct arrays
    def read_field(self, field):
        """All values of one field (a dotted path for nested records) of a struct array."""
        dt = self.dtype
        fdt = dt
        for part in field.split("."):
            fdt = fdt.fields[part][0]
        out = ll.empty_output(self.shape, fdt)
        n = self.ndim
        s, c, _ = ll._box([0] * n, self.shape, None)
        ll.check(lib.zarrc_array_read_field(self._open(), field.encode(), s, c, ffi.NULL,
                                            ffi.from_buffer(out, require_writable=True),
                                            out.nbytes))
        return out

    # growing and shrinking
    def resize(self, *shape):
        """Set the shape (grow or shrink any dimension; see zarrc_array_resize)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        ns = ffi.new("int64_t[]", [int(x) for x in shape] or [0])
        with self._lock:
            ll.check(lib.zarrc_array_resize(self._open(), ns))

    def write_at(self, offset, data, extend=True):
        """Write the block `data` at `offset` (per-dimension start; missing trailing entries
        are 0); with extend=True the array first grows to fit (concurrent extends converge)."""
        h = self._open()
        if self._vlen_kind():
            raise NotImplementedError("write_at of variable-length arrays: use a[...] = ...")
        data = np.ascontiguousarray(data, dtype=self.dtype)
        if data.ndim != self.ndim:
            data = data.reshape(data.shape + (1,) * 0)
        off = ffi.new("int64_t[]", [int(x) for x in offset] or [0])
        shp = ffi.new("int64_t[]", list(data.shape) or [0])
        with self._lock:
            ll.check(lib.zarrc_array_write_at(h, off, len(offset), shp, ffi.from_buffer(data),
                                              data.nbytes, lib.ZARRC_EXTEND if extend else 0))

    def append(self, data, axis=0):
        """Append `data` along `axis` (its other extents equal the array's); returns the
        index along `axis` where it landed. Concurrent appends never overlap."""
        h = self._open()
        data = np.ascontiguousarray(data, dtype=self.dtype)
        shp = ffi.new("int64_t[]", list(data.shape) or [0])
        st = ffi.new("int64_t *")
        with self._lock:
            ll.check(lib.zarrc_array_append(h, axis, shp, ffi.from_buffer(data), data.nbytes, st))
        return st[0]

    extend = append

    # streaming, copying, references
    def stream(self, axis=0, queue_bytes=0, start=None):
        """A streaming writer (zarrc_stream_open) appending frames along `axis`; use it as a
        context manager: ``with a.stream() as s: s.append(frame)``. See `Stream`."""
        return Stream(self, axis, queue_bytes, start)

    def copy_from(self, src, allow_raw=True):
        """Copy every element of `src` (same shape and data type) into this array:
        zarrc_array_copy (any format, chunking, codecs). Returns the copy's statistics."""
        return copy(src, self, allow_raw=allow_raw)

    def resolve_element(self, index, field=None, allow_external=False):
        """Resolve element `index` (flat C-order index) of this reference dataset
        (zarrc_node_resolve_element) → `Reference`."""
        ref = ffi.new("zarrc_node_ref *")
        fl = lib.ZARRC_OPEN_ALLOW_EXTERNAL if allow_external else 0
        ll.check(lib.zarrc_node_resolve_element(ref, self._store(), self.path.encode(), int(index),
                                                field.encode() if field else ffi.NULL, fl))
        return Reference._take(self, ref)


class Stream:
    """zarrc's streaming writer on an `Array` (zarrc_stream_*): frames are numpy arrays spanning
    the array's whole extent on every axis but `axis` (any number of indices along it; a frame
    with one dimension less is one index). A writer thread encodes and stores full slabs of
    chunks while the caller appends; `append` blocks while the queue is full (the GIL is
    released). `close()` (also on leaving the ``with`` block, even by an exception) writes the
    last partial slab, so everything appended is stored. One producer thread per stream; the
    array may be read meanwhile."""

    def __init__(self, array, axis=0, queue_bytes=0, start=None):
        self.array = array
        h = array._open()
        o = ffi.new("zarrc_stream_options *")
        o.axis = int(axis)
        o.queue_bytes = int(queue_bytes)
        o.start = -1 if start is None else int(start)
        out = ffi.new("zarrc_stream **")
        ll.check(lib.zarrc_stream_open(out, h, o))
        self._s = out[0]
        self._h = h  # the handle must outlive the stream
        self.axis = int(axis) % max(array.ndim, 1)
        # lent frames: address -> [(frame, release callback)], kept alive until the stream
        # releases them (see append_lent); the box is created on first use
        self._lent = {}
        self._nlent = 0
        self._box = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        # A stream dropped without close() is closed here: its writer may still be reading lent
        # frames, which this object keeps alive, and writing into its release box.
        if getattr(self, "_s", None) is not None:
            import warnings
            warnings.warn("zarrc.Stream dropped without close(); closing it", ResourceWarning,
                          stacklevel=1)
            try:
                self.close()
            except Exception:  # noqa: BLE001 - nowhere to raise from __del__
                pass

    def _frame(self, frame):
        """`frame` as a C-contiguous array of the array's data type and rank (no copy when it
        already is one), checked against the array's extents off the axis."""
        if self._s is None:
            raise InvalidError("append on a closed stream", lib.ZARRC_EINVAL)
        data = np.ascontiguousarray(frame, dtype=self.array.dtype)
        if data.ndim == self.array.ndim - 1:
            data = np.expand_dims(data, self.axis)
        shape = self.array.shape
        if data.ndim != self.array.ndim or any(
                data.shape[d] != shape[d] for d in range(data.ndim) if d != self.axis):
            raise ValueError(f"frame of shape {data.shape} does not span the array's extents "
                             f"{shape} off axis {self.axis}")
        return data

    def append(self, frame):
        """Append a frame (copied; converted to the array's data type)."""
        data = self._frame(frame)
        if self.axis != 0 and data.shape[self.axis] != 1:
            # zarrc takes C-order hyperslabs along the axis: one index at a time
            for k in range(data.shape[self.axis]):
                self.append(np.take(data, [k], axis=self.axis))
            return
        ll.check(lib.zarrc_stream_append(self._s, ffi.from_buffer(data), data.nbytes))
        self.collect()

    def append_lent(self, frame, release=None):
        """Append a frame without copying it when the stream can write it from the caller's
        memory (zarrc_stream_append_lent: a frame starting on a chunk — or shard — boundary
        along the axis and holding whole chunks of it; any other frame is copied). The stream
        keeps a reference to the frame and reads it until it is written: until then the frame
        must not be modified. `release(frame)`, if given, is called once the stream is done
        with it — on this thread, inside this call or a later append, `collect` or `close`,
        never from the writer thread — so a pool of frame buffers can reuse it. A frame that is not already a
        C-contiguous array of the array's data type is converted first (that copy is lent)."""
        data = self._frame(frame)
        if self.axis != 0 and data.shape[self.axis] != 1:
            for k in range(data.shape[self.axis]):
                self.append(np.take(data, [k], axis=self.axis))
            if release is not None:
                release(frame)
            return
        if self._box is None:
            box = lib.zarrc_py_lent_box_new()
            if box == ffi.NULL:
                raise MemoryError("zarrc: no memory for the stream's lent-frame box")
            self._box = ffi.gc(box, lib.zarrc_py_lent_box_free)
        if lib.zarrc_py_lent_box_reserve(self._box, self._nlent + 1) != 0:
            raise MemoryError("zarrc: no memory for the stream's lent-frame box")
        ptr = ffi.from_buffer(data)
        addr = int(ffi.cast("uintptr_t", ptr))
        # registered before the call: the writer may release the frame before it returns
        self._lent.setdefault(addr, []).append((data, frame, release))
        self._nlent += 1
        rc = lib.zarrc_stream_append_lent(self._s, ptr, data.nbytes,
                                          ffi.addressof(lib, "zarrc_py_lent_release"), self._box)
        if rc != lib.ZARRC_OK:  # a failing call retains nothing and never releases
            self._lent[addr].pop()
            if not self._lent[addr]:
                del self._lent[addr]
            self._nlent -= 1
            ll.check(rc)
        self.collect()

    def collect(self, timeout=0.0):
        """Run the release callbacks of lent frames the stream is done with and drop its
        references to them; with `timeout` > 0 wait up to that many seconds (without the GIL)
        for one when none is done yet. Returns how many lent frames the stream still holds."""
        if self._box is None or self._nlent == 0:
            return self._nlent
        out = ffi.new("const void *[]", self._nlent)
        wait_ms = max(0, int(timeout * 1000))
        n = lib.zarrc_py_lent_box_take(self._box, out, self._nlent, wait_ms)
        done = []
        for i in range(n):
            addr = int(ffi.cast("uintptr_t", out[i]))
            refs = self._lent.get(addr)
            if not refs:  # cannot happen: every address released was lent
                raise RuntimeError(f"zarrc: the stream released an unknown frame at {addr:#x}")
            done.append(refs.pop(0))
            if not refs:
                del self._lent[addr]
        self._nlent -= n
        first = None
        for _data, frame, release in done:  # every callback runs even if one raises
            try:
                if release is not None:
                    release(frame)
            except BaseException as e:  # noqa: BLE001 - re-raised below
                first = first or e
        if first is not None:
            raise first
        return self._nlent

    @property
    def lent(self):
        """Lent frames the stream still holds (not yet passed to their release callback)."""
        return self._nlent

    @property
    def appended(self):
        """Indices appended so far along the axis (queued or written)."""
        return 0 if self._s is None else lib.zarrc_stream_appended(self._s)

    def close(self):
        """Flush and release (idempotent); raises the stream's first error, if any."""
        s, self._s = self._s, None
        if s is not None:
            rc = lib.zarrc_stream_close(s)  # releases every lent frame it still held
            self.collect()
            ll.check(rc)


def copy(src, dst, allow_raw=True):
    """Copy every element of `src` into `dst` (Arrays of the same shape and data type; any
    format, chunking or codecs): zarrc_array_copy, on zarrc's pool with the GIL released.
    Returns {"units": destination chunks, "bytes": decoded bytes, "raw": stored bytes copied
    without decoding}."""
    o = ffi.new("zarrc_copy_options *")
    o.version = lib.ZARRC_COPY_OPTIONS_VERSION
    o.allow_raw = 1 if allow_raw else 0
    st = ffi.new("zarrc_copy_stats *")
    ll.check(lib.zarrc_array_copy(dst._open(), src._open(), o, st))
    return {"units": st.units, "bytes": st.bytes, "raw": bool(st.raw)}


def consolidate(url_or_path, path="", update=False):
    """Write consolidated metadata for the group at `path` (zarrc_consolidate: v2 .zmetadata,
    v3 inline consolidated_metadata) and return how many nodes it lists; with update=True
    refresh existing consolidated copies instead (zarrc_consolidated_update, returns None)."""
    if isinstance(url_or_path, _Node):
        url_or_path, path = url_or_path.url, _join(url_or_path.path, path)
    st = _store(url_or_path, "r+")
    if update:
        ll.check(lib.zarrc_consolidated_update(st, path.encode()))
        return None
    n = ffi.new("size_t *")
    ll.check(lib.zarrc_consolidate(st, path.encode(), n))
    return n[0]


def parse_reference(ref):
    """Parse a reference (dict or JSON text, any form hdmf-zarr writes) without touching a
    store: (source, path, object_id)."""
    txt = ref if isinstance(ref, str) else json.dumps(ref)
    s, p, o = ffi.new("char **"), ffi.new("char **"), ffi.new("char **")
    ll.check(lib.zarrc_ref_parse(s, p, o, txt.encode()))
    return ll.take_string(s), ll.take_string(p), ll.take_string(o)


class Reference:
    """A resolved reference: `path`, `kind` ("array"/"group"), `format`, `external`,
    `source`, `object_id`, and `node` (the target, opened on the store holding it)."""

    __slots__ = ("path", "kind", "format", "external", "source", "object_id", "node")

    @classmethod
    def _take(cls, origin, ref):
        try:
            r = cls()
            r.path = ffi.string(ref.path).decode() if ref.path != ffi.NULL else ""
            r.kind = "group" if ref.kind == lib.ZARRC_NODE_GROUP else "array"
            r.format = ref.format
            r.external = bool(ref.external)
            r.source = ffi.string(ref.source).decode() if ref.source != ffi.NULL else "."
            r.object_id = ffi.string(ref.object_id).decode() if ref.object_id != ffi.NULL else None
            if r.external:
                # take over the store the resolution opened (read-only)
                st = ffi.gc(ref.store, lib.zarrc_store_free)
                ref.store = ffi.NULL
                url = r.source if "://" in r.source or os.path.isabs(r.source) else \
                    os.path.join(origin.url, r.source)
                mode = "r"
            else:
                st, url, mode = origin._store(), origin.url, origin.mode
            if r.kind == "group":
                r.node = Group(url, r.path, mode, st)
            else:
                r.node = Array(url, r.path, mode)
                r.node._st = st
            return r
        finally:
            lib.zarrc_node_ref_clear(ref)

    def __repr__(self):
        ext = f", source={self.source!r}" if self.external else ""
        return f"<zarrc.Reference {self.kind} /{self.path}{ext}>"


def resolve(node, ref, allow_external=False):
    """Resolve a reference found in `node`'s store (zarrc_node_resolve; dict or JSON text) →
    `Reference` (its `.node` is the target Array or Group)."""
    txt = ref if isinstance(ref, str) else json.dumps(ref)
    r = ffi.new("zarrc_node_ref *")
    fl = lib.ZARRC_OPEN_ALLOW_EXTERNAL if allow_external else 0
    ll.check(lib.zarrc_node_resolve(r, node._store(), txt.encode(), fl))
    return Reference._take(node, r)
