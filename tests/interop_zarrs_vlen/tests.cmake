# zarrs' variable-length codecs (zarrs.vlen) both ways with the zarrs crate (the small program
# tests/interop_zarrs/src/bin/zarrc-zarrs-vlen.rs, built like interop_zarrs' into the same cache).
if(TARGET zarrc)
  zarrc_peer_test(interop_zarrs.vlen ${CMAKE_CURRENT_LIST_DIR}/../interop_zarrs/run_vlen.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_zarrs_vlen)
  set_tests_properties(interop_zarrs.vlen PROPERTIES TIMEOUT 1800 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()
