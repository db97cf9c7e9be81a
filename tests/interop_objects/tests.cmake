# Object arrays (numcodecs json2, msgpack2, vlen-array; pickle refused) both ways with
# zarr-python 2.13 (Debian) and numcodecs 0.17 (peer venv), element by element (seconds).
if(TARGET zarrc)
  zarrc_peer_test(interop_objects ${CMAKE_CURRENT_LIST_DIR}/run_objects.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_objects)
  set_tests_properties(interop_objects PROPERTIES TIMEOUT 180 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_V2_PYTHON=${ZARRC_V2_PYTHON}")
endif()
