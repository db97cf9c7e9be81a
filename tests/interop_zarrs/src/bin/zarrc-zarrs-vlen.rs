//! zarrs side of zarrc's interop test for variable-length arrays (tests/interop_zarrs/run_vlen.py):
//!
//!   zarrc-zarrs-vlen write CASES.json   each case: {"dir", "metadata" (zarr.json), "elements"
//!                                       (hex of each element)}: zarrs creates the array and writes
//!                                       the elements
//!   zarrc-zarrs-vlen read CASES.json    prints {"<dir>": ["<hex of element>", ...] | "ERROR: .."}
//!
//! Errors per case are reported, not fatal (src/common.rs).
#[path = "../common.rs"]
mod common;

use common::{create_array, hex, open_array, unhex, Res};
use zarrs::array::{ArrayBytes, ArrayBytesOffsets, ArraySubset};

fn write_case(dir: &str, metadata: &serde_json::Value, elements: &[serde_json::Value]) -> Res<()> {
    let array = create_array(dir, metadata)?;
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

fn read_case(dir: &str) -> Res<serde_json::Value> {
    let array = open_array(dir)?;
    let subset = ArraySubset::new_with_shape(array.shape().to_vec());
    let bytes: ArrayBytes<'static> = array.retrieve_array_subset(&subset)?;
    let (data, offsets) = bytes.into_variable()?.into_parts();
    let out: Vec<serde_json::Value> =
        offsets.windows(2).map(|w| serde_json::Value::String(hex(&data[w[0]..w[1]]))).collect();
    Ok(serde_json::Value::Array(out))
}

fn main() {
    common::run("zarrc-zarrs-vlen", write_case, read_case);
}
