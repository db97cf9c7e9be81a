# A variable-length user-defined data type (examples/user_vlen_dtype.c: "example.polyline"):
# reopened in a fresh process, refused by zarr-python 3.4 / 2.13 by name and read by them as raw
# bytes from a copy of the metadata naming the core type, and the zarrc CLI (which does not know
# the type) shows it with `info` and fails `get` naming it. See run_user_vlen.py.
if(TARGET zarrc)
  zarrc_peer_test(interop_user_vlen ${CMAKE_CURRENT_LIST_DIR}/run_user_vlen.py $<TARGET_FILE:zarrc>
                  $<TARGET_FILE:example_user_vlen_dtype> ${CMAKE_BINARY_DIR}/testtmp/interop_user_vlen)
  set_tests_properties(interop_user_vlen PROPERTIES TIMEOUT 120 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()
