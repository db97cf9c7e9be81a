// zarrita_fetch.mjs — zarrita 0.7.5's FetchStore reads arrays from `zarrc serve` (Zarr over HTTP).
//   node zarrita_fetch.mjs BASE_URL OUT.json PATH...
// OUT.json: {"<path>": {"shape", "data" (flat C order, numbers or decimal strings for 64-bit)} | {"error"}}.
// Exit 3 = zarrita missing.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const peers = process.env.ZARRC_PEERS_DIR ?? fileURLToPath(new URL("../peers", import.meta.url));
const nm = path.join(peers, "node_modules");
let zarr, FetchStore;
try {
    zarr = await import(pathToFileURL(path.join(nm, "zarrita/dist/src/index.js")).href);
    ({ default: FetchStore } = await import(pathToFileURL(path.join(nm, "@zarrita/storage/dist/src/fetch.js")).href));
} catch (e) {
    console.error(`zarrita is not usable from ${nm}: ${e.message}`);
    process.exit(3);
}
const [base, out, ...paths] = process.argv.slice(2);
const store = new FetchStore(base);
const res = {};
for (const p of paths) {
    try {
        const arr = await zarr.open(zarr.root(store).resolve(p), { kind: "array" });
        const chunk = await zarr.get(arr);
        res[p] = { shape: chunk.shape, data: Array.from(chunk.data, (v) => (typeof v === "bigint" ? v.toString() : v)) };
    } catch (e) {
        res[p] = { error: String(e && e.message ? e.message : e) };
    }
}
fs.writeFileSync(out, JSON.stringify(res));
