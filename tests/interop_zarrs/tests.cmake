# Interop with zarrs (the Rust crate, pinned in tests/interop_zarrs/Cargo.toml / Cargo.lock) for
# the zarr-extensions data types and codecs zarr-python cannot express: sub-byte integers,
# 8/6/4-bit floats, small complex types, packbits, zfp (the crate's zfp feature builds libzfp from
# source with cmake). run_zarrs.py builds the small zarrs program
# with cargo into ${XDG_CACHE_HOME:-~/.cache}/zarrc/zarrs-interop (outside the checkout; the
# first build takes minutes, later runs reuse it) and fails, never skips, when it cannot.
if(TARGET zarrc)
  zarrc_peer_test(interop_zarrs ${CMAKE_CURRENT_LIST_DIR}/run_zarrs.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_zarrs)
  set_tests_properties(interop_zarrs PROPERTIES TIMEOUT 1800 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()

# zarrs' experimental optional data type and zarrs.optional codec both ways (the small program
# tests/interop_zarrs/src/bin/zarrc-zarrs-optional.rs, same cache and Cargo.lock).
if(TARGET zarrc)
  zarrc_peer_test(interop_zarrs.optional ${CMAKE_CURRENT_LIST_DIR}/run_optional.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_zarrs_optional)
  set_tests_properties(interop_zarrs.optional PROPERTIES TIMEOUT 1800 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()

# The v3 names numcodecs.vlen-utf8 / vlen-bytes / vlen-array: zarrc reads and writes them; the
# refusals of zarrs 0.23.14, zarr-python 3.4.2 and tensorstore 0.1.86 are asserted (no peer reads them).
if(TARGET zarrc)
  zarrc_peer_test(interop_zarrs.vlen_names ${CMAKE_CURRENT_LIST_DIR}/run_vlen_names.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_zarrs_vlen_names)
  set_tests_properties(interop_zarrs.vlen_names PROPERTIES TIMEOUT 1800 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()
