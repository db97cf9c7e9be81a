// zarrita_peer.mjs — drives zarrita 0.7.5 (Node 20) for zarrc's v3 interop tests.
//
//   node zarrita_peer.mjs write CASES.json OUT.json   create + write arrays/groups described in
//                                                     CASES.json, read each back with zarrita
//   node zarrita_peer.mjs read  CASES.json OUT.json   open + read arrays/groups (written by zarrc)
//
// CASES.json: {"root": DIR, "arrays": [...], "groups": [...]} (see run_interop_v3.py).
// OUT.json:   {"<path>": {"shape", "dtype", "data" (flat C order), "attributes"} | {"error"}}.
// Values cross the process boundary as JSON with exact spellings: 64-bit integers as decimal
// strings, non-finite floats as "NaN"/"Infinity"/"-Infinity", negative zero as "-0".
// Exit 3 = zarrita missing (the Python driver turns this into a failure telling to run make check).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const peers = process.env.ZARRC_PEERS_DIR ?? fileURLToPath(new URL("../peers", import.meta.url));
const nm = path.join(peers, "node_modules");
let zarr, FileSystemStore, GZip, Zlib;
try {
    const pkg = JSON.parse(fs.readFileSync(path.join(nm, "zarrita", "package.json"), "utf8"));
    if (pkg.version !== "0.7.5")
        throw new Error(`zarrita ${pkg.version} installed, the tests pin 0.7.5`);
    zarr = await import(pathToFileURL(path.join(nm, "zarrita/dist/src/index.js")).href);
    ({ default: FileSystemStore } = await import(
        pathToFileURL(path.join(nm, "@zarrita/storage/dist/src/fs.js")).href));
    ({ default: GZip } = await import(pathToFileURL(path.join(nm, "numcodecs/dist/gzip.js")).href));
    ({ default: Zlib } = await import(pathToFileURL(path.join(nm, "numcodecs/dist/zlib.js")).href));
} catch (e) {
    console.error(`zarrita is not usable from ${nm}: ${e.message}`);
    console.error("run `make check` (it runs `npm install --prefix tests/peers`)");
    process.exit(3);
}

// zarrita 0.7.5 decodes gzip and zlib but cannot encode them. For the cases that need it, the
// writer swaps in numcodecs.js (fflate) encoders, which is what zarrita's docs suggest.
function enableGzipZlibEncoders() {
    zarr.registry.set("gzip", () => GZip);
    zarr.registry.set("numcodecs.zlib", () => Zlib);
}

const [mode, casesFile, outFile] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
const store = new FileSystemStore(cases.root);
const rootLoc = zarr.root(store);

const INT64 = new Set(["int64", "uint64"]);
const FLOATS = new Set(["float16", "float32", "float64"]);

function ctorFor(dtype) {
    switch (dtype) {
    case "bool": return null;
    case "int8": return Int8Array;
    case "int16": return Int16Array;
    case "int32": return Int32Array;
    case "int64": return BigInt64Array;
    case "uint8": return Uint8Array;
    case "uint16": return Uint16Array;
    case "uint32": return Uint32Array;
    case "uint64": return BigUint64Array;
    case "float32": return Float32Array;
    case "float64": return Float64Array;
    default: throw new Error(`no typed array for ${dtype}`);
    }
}

function fromWire(dtype, v) {
    if (INT64.has(dtype)) return BigInt(v);
    if (FLOATS.has(dtype)) {
        if (v === "NaN") return NaN;
        if (v === "Infinity") return Infinity;
        if (v === "-Infinity") return -Infinity;
        if (v === "-0") return -0;
        return v;
    }
    return v;
}

function toWire(v) {
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number") {
        if (Number.isNaN(v)) return "NaN";
        if (v === Infinity) return "Infinity";
        if (v === -Infinity) return "-Infinity";
        if (Object.is(v, -0)) return "-0";
    }
    return v;
}

function makeData(dtype, values) {
    if (dtype === "bool") return new zarr.BoolArray(values.map(Boolean));
    const C = ctorFor(dtype);
    return C.from(values.map((v) => fromWire(dtype, v)));
}

function cStrides(shape) {
    const s = new Array(shape.length);
    let step = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
        s[i] = step;
        step *= shape[i];
    }
    return s;
}

// Flatten a zarrita {data, shape, stride} result into C order, honouring its strides
// (after a transpose codec the strides are not C strides).
function flatten(res) {
    const { data, shape, stride } = res;
    const n = shape.reduce((a, b) => a * b, 1);
    const get = typeof data.get === "function" && !Array.isArray(data) ? (i) => data.get(i)
                                                                      : (i) => data[i];
    const out = new Array(n);
    const idx = new Array(shape.length).fill(0);
    for (let k = 0; k < n; k++) {
        let off = 0;
        for (let d = 0; d < shape.length; d++) off += idx[d] * stride[d];
        out[k] = toWire(get(off));
        for (let d = shape.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
    return out;
}

function selectionOf(sel) {
    // [[start, stop], ...] or null
    return sel ? sel.map(([a, b]) => zarr.slice(a, b)) : null;
}

async function readArray(p) {
    const arr = await zarr.open.v3(rootLoc.resolve(p), { kind: "array" });
    const res = await zarr.get(arr);
    if (arr.shape.length === 0) {
        // 0-d: zarrita returns the scalar itself (or a one-element chunk)
        const v = res !== null && typeof res === "object" && "data" in res ? res.data[0] : res;
        return { shape: [], dtype: arr.dtype, data: [toWire(v)], attributes: arr.attrs };
    }
    return { shape: res.shape, dtype: arr.dtype, data: flatten(res), attributes: arr.attrs };
}

async function readGroup(p) {
    const g = await zarr.open.v3(rootLoc.resolve(p), { kind: "group" });
    return { attributes: g.attrs };
}

function errText(e) {
    let s = e?.message ?? String(e);
    if (e?.cause?.message) s += ` (cause: ${e.cause.message})`;
    return s;
}

async function writeCase(c) {
    if (c.gzip_zlib_encoders) enableGzipZlibEncoders();
    const opts = { shape: c.shape, chunkShape: c.chunks, dtype: c.dtype, codecs: c.codecs,
                   attributes: c.attributes ?? {} };
    // zarrita serialises metadata with JSON.stringify, which rejects BigInt: 64-bit integer
    // fill values are passed as Numbers (the cases keep them within 2^53).
    if ("fill_value" in c)
        opts.fillValue = INT64.has(c.dtype) ? Number(c.fill_value)
                                            : fromWire(c.dtype, c.fill_value);
    if (c.separator) opts.chunkSeparator = c.separator;
    let arr = await zarr.create(rootLoc.resolve(c.path), opts);
    if (c.key_encoding === "v2") {
        // zarrita's create() only writes the default encoding; switch the stored document to
        // the v2 encoding and reopen, so zarrita itself writes v2-style keys.
        const file = path.join(cases.root, c.path, "zarr.json");
        const meta = JSON.parse(fs.readFileSync(file, "utf8"));
        meta.chunk_key_encoding = { name: "v2",
                                    configuration: { separator: c.separator ?? "." } };
        fs.writeFileSync(file, JSON.stringify(meta));
        arr = await zarr.open.v3(rootLoc.resolve(c.path), { kind: "array" });
    }
    if (c.shape.length === 0) {
        await zarr.set(arr, null, fromWire(c.dtype, c.values[0]));
    } else {
        const sel = c.write_select;
        const wshape = sel ? sel.map(([a, b]) => b - a) : c.shape;
        const value = { data: makeData(c.dtype, c.values), shape: wshape,
                        stride: cStrides(wshape) };
        await zarr.set(arr, selectionOf(sel), value);
    }
}

const out = {};
if (mode === "write") {
    for (const g of cases.groups ?? []) {
        try {
            await zarr.create(g.path === "" ? rootLoc : rootLoc.resolve(g.path),
                              { attributes: g.attributes ?? {} });
        } catch (e) {
            out[g.path] = { error: "zarrita create group: " + errText(e) };
        }
    }
    for (const c of cases.arrays) {
        try {
            await writeCase(c);
        } catch (e) {
            out[c.path] = { error: "zarrita write: " + errText(e) };
            continue;
        }
        try {
            out[c.path] = await readArray(c.path);
        } catch (e) {
            out[c.path] = { error: "zarrita read-back: " + errText(e) };
        }
    }
    for (const g of cases.groups ?? []) {
        if (out[g.path]) continue;
        try {
            out[g.path] = await readGroup(g.path);
        } catch (e) {
            out[g.path] = { error: "zarrita open group: " + errText(e) };
        }
    }
} else if (mode === "read") {
    for (const c of cases.arrays) {
        try {
            out[c.path] = await readArray(c.path);
        } catch (e) {
            out[c.path] = { error: errText(e) };
        }
    }
    for (const g of cases.groups ?? []) {
        try {
            out[g.path] = await readGroup(g.path);
        } catch (e) {
            out[g.path] = { error: errText(e) };
        }
    }
} else {
    console.error("usage: zarrita_peer.mjs write|read CASES.json OUT.json");
    process.exit(2);
}
fs.writeFileSync(outFile, JSON.stringify(out));
