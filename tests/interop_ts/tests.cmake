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
