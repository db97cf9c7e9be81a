// zarrita_fetch.mjs — zarrita 0.7.5's FetchStore (@zarrita/storage) reads arrays over HTTP for
// run_http_peers.py, element by element.
//
//   node zarrita_fetch.mjs BASE_URL OUT.json PATH...
//
// OUT.json: {"PATH": {"shape": [...], "whole": [...flat C order], "elements": [...one zarr.get
// per element, C order]} | {"error": "..."}}. Suffix range requests are used for shard indexes
// (useSuffixRequest). Exit 3 = zarrita missing (the driver reports it as a failure).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const peers = process.env.ZARRC_PEERS_DIR ?? fileURLToPath(new URL("../peers", import.meta.url));
const nm = path.join(peers, "node_modules");
let zarr, FetchStore;
try {
    const pkg = JSON.parse(fs.readFileSync(path.join(nm, "zarrita", "package.json"), "utf8"));
    if (pkg.version !== "0.7.5")
        throw new Error(`zarrita ${pkg.version} installed, the tests pin 0.7.5`);
    zarr = await import(pathToFileURL(path.join(nm, "zarrita/dist/src/index.js")).href);
    ({ default: FetchStore } = await import(pathToFileURL(path.join(nm, "@zarrita/storage/dist/src/fetch.js")).href));
} catch (e) {
    console.error(`zarrita is not usable from ${nm}: ${e.message}`);
    process.exit(3);
}

const [base, outFile, ...paths] = process.argv.slice(2);
const out = {};
for (const p of paths) {
    try {
        const store = new FetchStore(`${base}/${p}`, { useSuffixRequest: true });
        const arr = await zarr.open(store, { kind: "array" });
        const whole = await zarr.get(arr);
        const shape = arr.shape;
        const n = shape.reduce((a, b) => a * b, 1);
        const elements = [];
        for (let i = 0; i < n; i++) {
            const idx = [];
            let r = i;
            for (let d = shape.length - 1; d >= 0; d--) {
                idx.unshift(r % shape[d]);
                r = Math.floor(r / shape[d]);
            }
            elements.push(Number(await zarr.get(arr, idx)));
        }
        out[p] = { shape, whole: Array.from(whole.data, Number), elements };
    } catch (e) {
        out[p] = { error: String(e && e.stack || e) };
    }
}
fs.writeFileSync(outFile, JSON.stringify(out));
