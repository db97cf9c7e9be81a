# Interop with tensorstore (drivers zarr3 and zarr) from the pinned peer venv: each side reads
# what the other wrote. See tests/interop_zp3/tests.cmake for the venv, sampling and labels.
if(TARGET zarrc)
  foreach(_driver zarr3 zarr)
    zarrc_peer_test(interop_ts.${_driver} ${CMAKE_CURRENT_LIST_DIR}/run_ts.py ${_driver}
                    $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/interop_ts/${_driver})
    set_tests_properties(interop_ts.${_driver} PROPERTIES TIMEOUT 600
      LABELS "interop;peers;peers_heavy"
      ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
  endforeach()
endif()

# Views: tensorstore and zarrc read the same stack spec JSON (tensorstore's own ts.concat /
# ts.stack / ts.overlay output, per-layer index transforms, nested stacks, mixed v2/v3 layers),
# error cases, stored views, write-through. A few seconds.
if(TARGET zarrc)
  zarrc_peer_test(interop_ts.views ${CMAKE_CURRENT_LIST_DIR}/run_views.py
                  $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/interop_ts/views)
  set_tests_properties(interop_ts.views PROPERTIES TIMEOUT 300 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()
