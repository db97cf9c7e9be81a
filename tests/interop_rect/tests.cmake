# Rectilinear chunk grids both ways with zarr-python 3.4 (its experimental flag enabled) and zarrs
# (the tests/interop_zarrs program, built with cargo into the cache): a few seconds once built.
if(TARGET zarrc)
  zarrc_peer_test(interop_rect ${CMAKE_CURRENT_LIST_DIR}/run_rect.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_rect)
  set_tests_properties(interop_rect PROPERTIES TIMEOUT 1800 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()
