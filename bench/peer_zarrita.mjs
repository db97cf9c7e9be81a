// peer_zarrita.mjs — the zarrita (Node) side of zarrc's benchmark suite (bench/run.sh drives it).
//
//   node peer_zarrita.mjs read DIR                          whole array into one buffer
//   node peer_zarrita.mjs read-chunks DIR [--concurrency N] [--inner] [--check-all]
//                                                           box by box: chunks (shards), or inner
//                                                           chunks of a sharded array; N in flight
//   node peer_zarrita.mjs write DIR --encoding E --shape N --chunks C [--codecs JSON]
//                                                           (--codecs: the v3 codec list to use)
//                                                           create + write the whole array (v3)
//   node peer_zarrita.mjs copy SRC DST [--concurrency N]    decode + re-encode chunk by chunk
//
// Prints one JSON line {"what", "seconds", "bytes" (decoded), "peak_rss_kib"} like zarrc_bench.
// Values are checked after each timed read (outside the timing); a wrong value exits 1.
// Uses zarrita from tests/peers/node_modules (override with ZARRC_PEERS_DIR).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const peers = process.env.ZARRC_PEERS_DIR ?? fileURLToPath(new URL("../tests/peers", import.meta.url));
const nm = path.join(peers, "node_modules");
let zarr, FileSystemStore;
try {
    zarr = await import(pathToFileURL(path.join(nm, "zarrita/dist/src/index.js")).href);
    ({ default: FileSystemStore } = await import(
        pathToFileURL(path.join(nm, "@zarrita/storage/dist/src/fs.js")).href));
} catch (e) {
    console.error(`zarrita is not usable from ${nm}: ${e.message}`);
    process.exit(3);
}
const zarritaVersion = JSON.parse(fs.readFileSync(path.join(nm, "zarrita/package.json"), "utf8")).version;

const args = process.argv.slice(2);
const cmd = args[0];
const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(name);
const dims = (s) => {
    const v = s.split(",").map(Number);
    return v.length === 1 ? [v[0], v[0], v[0]] : v;
};

const now = () => performance.now() / 1000;
const rssKiB = () => process.resourceUsage().maxRSS;
function result(what, seconds, bytes, extra = {}) {
    console.log(JSON.stringify({ what, seconds, bytes, peak_rss_kib: rssKiB(), zarrita: zarritaVersion,
                                 ...extra }));
}

const value = (z, y, x) => (x + Math.floor((y * y) / 32) + z * z * z) % 65536;

// Count the values of a C-order box (given strides) that differ from the workload.
function checkBox(out, start, count) {
    const { data, stride } = out;
    let bad = 0;
    for (let z = 0; z < count[0]; z++)
        for (let y = 0; y < count[1]; y++) {
            const base = value(start[0] + z, start[1] + y, start[2]);
            const o = z * stride[0] + y * stride[1];
            for (let x = 0; x < count[2]; x++)
                if (data[o + x * stride[2]] !== ((base + x) & 0xffff)) bad++;
        }
    return bad;
}

async function openArray(dir) {
    const store = new FileSystemStore(dir);
    return zarr.open.v3(zarr.root(store), { kind: "array" });
}

// Boxes of `block` over the array, in C order.
function boxes(shape, block) {
    const out = [];
    for (let z = 0; z < shape[0]; z += block[0])
        for (let y = 0; y < shape[1]; y += block[1])
            for (let x = 0; x < shape[2]; x += block[2]) {
                const start = [z, y, x];
                out.push({ start, count: start.map((s, d) => Math.min(block[d], shape[d] - s)) });
            }
    return out;
}

const sel = (b) => b.start.map((s, d) => zarr.slice(s, s + b.count[d]));

async function runPool(n, items, fn) {
    let next = 0;
    const workers = [];
    for (let w = 0; w < n; w++)
        workers.push((async () => {
            while (next < items.length) await fn(items[next++]);
        })());
    await Promise.all(workers);
}

const V3_BYTES = { name: "bytes", configuration: { endian: "little" } };
const V3_CODECS = {
    none: [V3_BYTES],
    zstd: [V3_BYTES, { name: "zstd", configuration: { level: 3, checksum: false } }],
    blosc: [V3_BYTES, { name: "blosc", configuration: { cname: "lz4", clevel: 5, shuffle: "shuffle",
                                                        typesize: 2, blocksize: 0 } }],
};

async function main() {
    if (cmd === "read") {
        const t0 = now();
        const arr = await openArray(args[1]);
        const out = await zarr.get(arr, null);
        const t = now() - t0;
        const bytes = out.data.length * 2;
        const bad = checkBox(out, [0, 0, 0], arr.shape);
        if (bad) throw new Error(`${bad} wrong values`);
        result("read", t, bytes);
    } else if (cmd === "read-chunks") {
        const n = Number(opt("--concurrency", "1"));
        const t0 = now();
        const arr = await openArray(args[1]);
        // For a sharded array zarrita's arr.chunks is the inner chunk shape.
        const sharded = arr.chunks.some((c, d) => c !== shardShape(arr)[d]);
        if (flag("--inner") && !sharded) throw new Error("not sharded: no inner chunks");
        const block = flag("--inner") ? arr.chunks : shardShape(arr);
        const items = boxes(arr.shape, block);
        let last = null;
        const checkAll = flag("--check-all"); // every block, inside the timing (verification runs)
        let badAll = 0;
        await runPool(n, items, async (b) => {
            const out = await zarr.get(arr, sel(b));
            if (checkAll) badAll += checkBox(out, b.start, b.count);
            last = { b, out };
        });
        const t = now() - t0;
        const bad = checkBox(last.out, last.b.start, last.b.count) + badAll;
        if (bad) throw new Error(`${bad} wrong values`);
        result(flag("--inner") ? "read-inner" : "read-chunks", t, arr.shape.reduce((a, b) => a * b, 2),
               { concurrency: n, blocks: items.length });
    } else if (cmd === "write") {
        const enc = opt("--encoding");
        const shape = dims(opt("--shape")), chunks = dims(opt("--chunks"));
        const codecs = opt("--codecs") ? JSON.parse(opt("--codecs")) : V3_CODECS[enc];
        if (!codecs) throw new Error(`zarrita cannot write encoding '${enc}'`);
        const data = new Uint16Array(shape[0] * shape[1] * shape[2]);
        for (let z = 0, i = 0; z < shape[0]; z++)
            for (let y = 0; y < shape[1]; y++) {
                const base = value(z, y, 0);
                for (let x = 0; x < shape[2]; x++) data[i++] = (base + x) & 0xffff;
            }
        const t0 = now();
        fs.rmSync(args[1], { recursive: true, force: true });
        const store = new FileSystemStore(args[1]);
        const arr = await zarr.create(zarr.root(store), {
            shape, chunkShape: chunks, dtype: "uint16", codecs, fillValue: 0,
        });
        await zarr.set(arr, null, { data, shape, stride: [shape[1] * shape[2], shape[2], 1] });
        result("write", now() - t0, data.length * 2);
    } else if (cmd === "copy") {
        const n = Number(opt("--concurrency", "1"));
        const t0 = now();
        const src = await openArray(args[1]);
        const meta = JSON.parse(fs.readFileSync(path.join(args[1], "zarr.json"), "utf8"));
        if (meta.codecs.some((c) => c.name === "sharding_indexed"))
            throw new Error("zarrita cannot write sharded arrays");
        fs.rmSync(args[2], { recursive: true, force: true });
        const dst = await zarr.create(zarr.root(new FileSystemStore(args[2])), {
            shape: src.shape, chunkShape: src.chunks, dtype: src.dtype, codecs: meta.codecs,
            fillValue: meta.fill_value,
        });
        await runPool(n, boxes(src.shape, src.chunks), async (b) => {
            const out = await zarr.get(src, sel(b));
            await zarr.set(dst, sel(b), out);
        });
        result("copy", now() - t0, src.shape.reduce((a, b) => a * b, 2), { concurrency: n });
    } else {
        console.error("usage: peer_zarrita.mjs read|read-chunks|write|copy DIR ...");
        process.exit(2);
    }
}

function shardShape(arr) {
    // The chunk grid's shape (the shard shape for sharded arrays) from the metadata document.
    if (!arr._gridShape) {
        const meta = JSON.parse(fs.readFileSync(path.join(args[1], "zarr.json"), "utf8"));
        arr._gridShape = meta.chunk_grid.configuration.chunk_shape;
    }
    return arr._gridShape;
}

main().catch((e) => {
    console.error(`peer_zarrita: ${e.cause?.message ?? e.message}`);
    process.exit(1);
});
