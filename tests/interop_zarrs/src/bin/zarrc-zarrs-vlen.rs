//! zarrs side of zarrc's interop test for variable-length arrays (tests/interop_zarrs/run_vlen.py):
//!
//!   zarrc-zarrs-vlen write CASES.json   each case: {"dir", "metadata" (zarr.json), "elements"
//!                                       (hex of each element)}: zarrs creates the array and writes
//!                                       the elements
//!   zarrc-zarrs-vlen read CASES.json    prints {"<dir>": ["<hex of element>", ...] | "ERROR: .."}
//!
//! Errors per case are reported, not fatal.
use std::collections::BTreeMap;
use std::sync::Arc;

use zarrs::array::{Array, ArrayBytes, ArrayBytesOffsets, ArrayMetadata, ArraySubset};
use zarrs::filesystem::FilesystemStore;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn write_case(dir: &str, metadata: &serde_json::Value, elements: &[serde_json::Value]) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let store = Arc::new(FilesystemStore::new(dir)?);
    let meta: ArrayMetadata = serde_json::from_value(metadata.clone())?;
    let array = Array::new_with_metadata(store, "/", meta)?;
    array.store_metadata()?;
    let mut bytes = Vec::new();
    let mut offsets = vec![0usize];
    for e in elements {
        bytes.extend(unhex(e.as_str().ok_or("element is not a hex string")?));
        offsets.push(bytes.len());
    }
    let subset = ArraySubset::new_with_shape(array.shape().to_vec());
    array.store_array_subset(&subset, ArrayBytes::new_vlen(bytes, ArrayBytesOffsets::try_from(offsets)?)?)?;
    Ok(())
}

fn read_case(dir: &str) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let store = Arc::new(FilesystemStore::new(dir)?);
    let array = Array::open(store, "/")?;
    let subset = ArraySubset::new_with_shape(array.shape().to_vec());
    let bytes: ArrayBytes<'static> = array.retrieve_array_subset(&subset)?;
    let (data, offsets) = bytes.into_variable()?.into_parts();
    let out: Vec<serde_json::Value> =
        offsets.windows(2).map(|w| serde_json::Value::String(hex(&data[w[0]..w[1]]))).collect();
    Ok(serde_json::Value::Array(out))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 || (args[1] != "write" && args[1] != "read") {
        eprintln!("usage: zarrc-zarrs-vlen write|read CASES.json");
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
