# Struct (record) arrays with zarr-python 3.4, tensorstore (per field) and zarr-python 2.13, both
# directions, bit for bit on the records, and the user-defined type of examples/user_dtype.c
# opened by zarr-python 3.4 as raw bytes (a few seconds). See run_struct.py.
if(TARGET zarrc)
  zarrc_peer_test(interop_struct ${CMAKE_CURRENT_LIST_DIR}/run_struct.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_struct
                  $<TARGET_FILE:example_user_dtype>)
  set_tests_properties(interop_struct PROPERTIES TIMEOUT 180 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()
