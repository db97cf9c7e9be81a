//! Code shared by the zarrs interop programs in src/bin (each includes it with
//! `#[path = "../common.rs"] mod common;`): hex encoding of element bytes, opening and creating
//! arrays on a filesystem store, and the `write|read CASES.json` driver that prints one JSON
//! object with a result (or "ERROR: ...") per case directory.
use std::collections::BTreeMap;
use std::sync::Arc;

use zarrs::array::{Array, ArrayMetadata};
use zarrs::filesystem::FilesystemStore;

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// Create the array described by `metadata` (a zarr.json document) in directory `dir` and store
/// its metadata.
pub fn create_array(dir: &str, metadata: &serde_json::Value) -> Res<Array<FilesystemStore>> {
    std::fs::create_dir_all(dir)?;
    let store = Arc::new(FilesystemStore::new(dir)?);
    let meta: ArrayMetadata = serde_json::from_value(metadata.clone())?;
    let array = Array::new_with_metadata(store, "/", meta)?;
    array.store_metadata()?;
    Ok(array)
}

/// Open the array in directory `dir`.
pub fn open_array(dir: &str) -> Res<Array<FilesystemStore>> {
    let store = Arc::new(FilesystemStore::new(dir)?);
    Ok(Array::open(store, "/")?)
}

/// The command line `PROG write|read CASES.json`: `write` calls `write_case(dir, metadata,
/// elements)` for each case, `read` calls `read_case(dir)`; prints {"<dir>": "ok" | result |
/// "ERROR: ..."}. Errors per case are reported, not fatal.
pub fn run(
    prog: &str,
    write_case: fn(&str, &serde_json::Value, &[serde_json::Value]) -> Res<()>,
    read_case: fn(&str) -> Res<serde_json::Value>,
) {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 || (args[1] != "write" && args[1] != "read") {
        eprintln!("usage: {prog} write|read CASES.json");
        std::process::exit(2);
    }
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&args[2]).expect("cases file")).expect("cases JSON");
    let mut out = BTreeMap::new();
    for c in &cases {
        let dir = c["dir"].as_str().expect("dir");
        let res = if args[1] == "write" {
            let empty = Vec::new();
            write_case(dir, &c["metadata"], c["elements"].as_array().unwrap_or(&empty))
                .map(|()| serde_json::Value::String("ok".into()))
        } else {
            read_case(dir)
        };
        out.insert(dir.to_string(), res.unwrap_or_else(|e| serde_json::Value::String(format!("ERROR: {e}"))));
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
