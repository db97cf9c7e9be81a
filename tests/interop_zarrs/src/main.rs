//! zarrs side of zarrc's interop tests for the zarr-extensions data types and codecs.
//!
//!   zarrc-zarrs-interop write CASES.json   each case: {"dir", "metadata" (zarr.json), "data" (hex)}:
//!                                          zarrs creates the array from the metadata and writes
//!                                          the raw element bytes (zarrs' in-memory layout)
//!   zarrc-zarrs-interop read CASES.json    prints {"<dir>": "<hex of every element>" | "ERROR: .."}
//!                                          for arrays someone else wrote
//!
//! Errors per case are reported, not fatal, so one unsupported case does not hide the others.
use std::collections::BTreeMap;
use std::sync::Arc;

use zarrs::array::{Array, ArrayBytes, ArrayMetadata, ArraySubset};
use zarrs::filesystem::FilesystemStore;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn write_case(dir: &str, metadata: &serde_json::Value, data: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let store = Arc::new(FilesystemStore::new(dir)?);
    let meta: ArrayMetadata = serde_json::from_value(metadata.clone())?;
    let array = Array::new_with_metadata(store, "/", meta)?;
    array.store_metadata()?;
    let subset = ArraySubset::new_with_shape(array.shape().to_vec());
    array.store_array_subset(&subset, ArrayBytes::new_flen(data.to_vec()))?;
    Ok(())
}

fn read_case(dir: &str) -> Result<String, Box<dyn std::error::Error>> {
    let store = Arc::new(FilesystemStore::new(dir)?);
    let array = Array::open(store, "/")?;
    let subset = ArraySubset::new_with_shape(array.shape().to_vec());
    let bytes: ArrayBytes<'static> = array.retrieve_array_subset(&subset)?;
    Ok(hex(&bytes.into_fixed()?))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 || (args[1] != "write" && args[1] != "read") {
        eprintln!("usage: zarrc-zarrs-interop write|read CASES.json");
        std::process::exit(2);
    }
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&args[2]).expect("cases file")).expect("cases JSON");
    let mut out = BTreeMap::new();
    for c in &cases {
        let dir = c["dir"].as_str().expect("dir");
        let res = if args[1] == "write" {
            write_case(dir, &c["metadata"], &unhex(c["data"].as_str().expect("data"))).map(|()| "ok".to_string())
        } else {
            read_case(dir)
        };
        out.insert(dir.to_string(), res.unwrap_or_else(|e| format!("ERROR: {e}")));
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
