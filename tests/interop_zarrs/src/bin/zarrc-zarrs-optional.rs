//! zarrs side of zarrc's interop test for zarrs' experimental optional (nullable) data type and
//! its `zarrs.optional` codec (tests/interop_zarrs/run_optional.py):
//!
//!   zarrc-zarrs-optional write CASES.json   each case: {"dir", "metadata" (zarr.json), "elements"
//!                                           (per element: null = missing, or the hex of the inner
//!                                           element: its native bytes, or a string's UTF-8)}
//!   zarrc-zarrs-optional read CASES.json    prints {"<dir>": [null | "<hex>", ...] | "ERROR: .."}
//!
//! Errors per case are reported, not fatal (src/common.rs).
#[path = "../common.rs"]
mod common;

use common::{create_array, hex, open_array, unhex, Res};
use zarrs::array::{ArrayBytes, ArrayBytesOffsets, ArraySubset};

fn write_case(dir: &str, metadata: &serde_json::Value, elements: &[serde_json::Value]) -> Res<()> {
    let array = create_array(dir, metadata)?;
    let opt = array.data_type().as_optional().ok_or("not an optional data type")?;
    let mut mask = Vec::new();
    let mut bytes = Vec::new();
    let mut offsets = vec![0usize];
    for e in elements {
        match e.as_str() {
            Some(h) => {
                mask.push(1u8);
                bytes.extend(unhex(h));
            }
            None => {
                mask.push(0u8);
                if let Some(n) = opt.fixed_size() {
                    bytes.extend(std::iter::repeat(0u8).take(n));
                }
            }
        }
        offsets.push(bytes.len());
    }
    let data = if opt.is_fixed() {
        ArrayBytes::new_flen(bytes)
    } else {
        ArrayBytes::new_vlen(bytes, ArrayBytesOffsets::try_from(offsets)?)?
    };
    let subset = ArraySubset::new_with_shape(array.shape().to_vec());
    array.store_array_subset(&subset, data.with_optional_mask(mask))?;
    Ok(())
}

fn read_case(dir: &str) -> Res<serde_json::Value> {
    let array = open_array(dir)?;
    let subset = ArraySubset::new_with_shape(array.shape().to_vec());
    let bytes: ArrayBytes<'static> = array.retrieve_array_subset(&subset)?;
    let (data, mask) = bytes.into_optional()?.into_parts();
    let mut out = Vec::new();
    match *data {
        ArrayBytes::Fixed(raw) => {
            let n = if mask.is_empty() { 0 } else { raw.len() / mask.len() };
            for (i, m) in mask.iter().enumerate() {
                out.push(if *m != 0 { serde_json::Value::String(hex(&raw[i * n..(i + 1) * n])) } else { serde_json::Value::Null });
            }
        }
        ArrayBytes::Variable(v) => {
            let (raw, offsets) = v.into_parts();
            for (i, m) in mask.iter().enumerate() {
                out.push(if *m != 0 {
                    serde_json::Value::String(hex(&raw[offsets[i]..offsets[i + 1]]))
                } else {
                    serde_json::Value::Null
                });
            }
        }
        ArrayBytes::Optional(_) => return Err("nested optional data is not handled by this program".into()),
    }
    Ok(serde_json::Value::Array(out))
}

fn main() {
    common::run("zarrc-zarrs-optional", write_case, read_case);
}
