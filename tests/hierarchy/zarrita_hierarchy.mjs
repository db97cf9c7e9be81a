// zarrita_hierarchy.mjs — drives zarrita 0.7.5 (Node 20) for zarrc's hierarchy interop tests.
//
//   node zarrita_hierarchy.mjs write DIR            create a v3 hierarchy (groups with
//                                                   attributes, arrays with data); print JSON
//                                                   describing it
//   node zarrita_hierarchy.mjs read DIR NODES.json  open DIR through zarrita's consolidated
//                                                   metadata reader and describe each node
//
// NODES.json: {"<path>": "array" | "group", ...}. The read output is {"nodes": {"<path>":
// {kind, attributes, shape?, dtype?, data?} | {error}}, "meta_gets": N, "contents": [...]},
// where meta_gets counts the store reads of metadata documents other than the root's
// zarr.json: 0 proves every node came from the consolidated copy.
// Exit 3 = zarrita missing (the Python driver turns this into a failure telling to run make check).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const peers = process.env.ZARRC_PEERS_DIR ?? fileURLToPath(new URL("../peers", import.meta.url));
const nm = path.join(peers, "node_modules");
let zarr, FileSystemStore;
try {
    const pkg = JSON.parse(fs.readFileSync(path.join(nm, "zarrita", "package.json"), "utf8"));
    if (pkg.version !== "0.7.5")
        throw new Error(`zarrita ${pkg.version} installed, the tests pin 0.7.5`);
    zarr = await import(pathToFileURL(path.join(nm, "zarrita/dist/src/index.js")).href);
    ({ default: FileSystemStore } = await import(
        pathToFileURL(path.join(nm, "@zarrita/storage/dist/src/fs.js")).href));
} catch (e) {
    console.error(`zarrita is not usable from ${nm}: ${e.message}`);
    console.error("run `make check` (it runs `npm install --prefix tests/peers`)");
    process.exit(3);
}

const [mode, dir, nodesFile] = process.argv.slice(2);

function flat(res) {
    // C-order values of a zarr.get result (plain arrays; BigInt as strings).
    return Array.from(res.data, (v) => (typeof v === "bigint" ? v.toString() : v));
}

async function write() {
    const store = new FileSystemStore(dir);
    const root = zarr.root(store);
    await zarr.create(root, { attributes: { creator: "zarrita", n: 3 } });
    await zarr.create(root.resolve("a"), { attributes: { kind: "group a" } });
    await zarr.create(root.resolve("a/b"), { attributes: {} });
    await zarr.create(root.resolve("c"), { attributes: { empty: false } });
    const x = await zarr.create(root.resolve("a/x"), {
        shape: [6, 4], chunkShape: [3, 2], dtype: "int32", fillValue: -1,
        // Without codecs zarrita 0.7.5 writes "codecs": [] (no array→bytes codec: not valid v3).
        codecs: [{ name: "bytes", configuration: { endian: "little" } }],
        attributes: { units: "counts" },
    });
    const xd = new Int32Array(24).map((_, i) => i * 7 - 30);
    await zarr.set(x, null, { data: xd, shape: [6, 4], stride: [4, 1] });
    const y = await zarr.create(root.resolve("a/b/y"), {
        shape: [5], chunkShape: [2], dtype: "float64", fillValue: 0,
        codecs: [{ name: "bytes", configuration: { endian: "little" } },
                 { name: "zstd", configuration: { level: 1, checksum: false } }],
        attributes: { note: "zstd" },
    });
    const yd = new Float64Array([0.5, -1.25, 3e10, 0, 7]);
    await zarr.set(y, null, { data: yd, shape: [5], stride: [1] });
    const desc = {
        "": { kind: "group", attributes: { creator: "zarrita", n: 3 } },
        "a": { kind: "group", attributes: { kind: "group a" } },
        "a/b": { kind: "group", attributes: {} },
        "c": { kind: "group", attributes: { empty: false } },
        "a/x": { kind: "array", shape: [6, 4], dtype: "int32", attributes: { units: "counts" },
                 data: Array.from(xd) },
        "a/b/y": { kind: "array", shape: [5], dtype: "float64", attributes: { note: "zstd" },
                   data: Array.from(yd) },
    };
    process.stdout.write(JSON.stringify(desc));
}

async function read() {
    const wanted = JSON.parse(fs.readFileSync(nodesFile, "utf8"));
    const base = new FileSystemStore(dir);
    let metaGets = 0;
    const counting = {
        async get(key, opts) {
            if (key !== "/zarr.json" && /(zarr\.json|\.zarray|\.zgroup|\.zattrs)$/.test(key))
                metaGets++;
            return base.get(key, opts);
        },
    };
    const out = { nodes: {} };
    let store;
    try {
        store = await zarr.withConsolidatedMetadata(counting, { format: "v3" });
    } catch (e) {
        out.error = `withConsolidatedMetadata: ${e.message}`;
        process.stdout.write(JSON.stringify(out));
        return;
    }
    out.contents = store.contents().map((c) => `${c.path}:${c.kind}`).sort();
    const root = zarr.root(store);
    for (const [p, kind] of Object.entries(wanted)) {
        try {
            const loc = p === "" ? root : root.resolve(p);
            const node = await zarr.open.v3(loc, { kind });
            const d = { kind, attributes: node.attrs };
            if (kind === "array") {
                d.shape = node.shape;
                d.dtype = node.dtype;
                d.data = flat(await zarr.get(node));
            }
            out.nodes[p] = d;
        } catch (e) {
            out.nodes[p] = { error: e?.message ?? String(e) };
        }
    }
    // Data reads above go to chunks only; metadata must all have come from the copy.
    out.meta_gets = metaGets;
    process.stdout.write(JSON.stringify(out));
}

if (mode === "write") await write();
else if (mode === "read") await read();
else {
    console.error("usage: zarrita_hierarchy.mjs write DIR | read DIR NODES.json");
    process.exit(2);
}
