# Interop with zarr-python 3.4 (and zarrs-python's codec pipeline) from the pinned peer venv
# (tests/peers/requirements.txt): each side reads what the other wrote. The default run samples
# the large matrices; `make check-full` (ZARRC_PEERS_FULL=1) runs them whole. The sanitizer
# builds skip the `peers_heavy` label (their zarrc is the same code; the release run covers it).
if(TARGET zarrc)
  foreach(_mode v3 v2 zarrs groups)
    zarrc_peer_test(interop_zp3.${_mode} ${CMAKE_CURRENT_LIST_DIR}/run_zp3.py ${_mode}
                    $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/interop_zp3/${_mode})
    set(_labels "interop;peers")
    if(NOT _mode STREQUAL "groups")
      set(_labels "interop;peers;peers_heavy")
    endif()
    set_tests_properties(interop_zp3.${_mode} PROPERTIES TIMEOUT 600 LABELS "${_labels}"
      ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
  endforeach()
endif()

# scale_offset (zarr-extensions) both ways with zarr-python 3.4, bit for bit (a few seconds).
if(TARGET zarrc)
  zarrc_peer_test(interop_zp3.scale_offset ${CMAKE_CURRENT_LIST_DIR}/scale_offset.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_zp3/scale_offset)
  set_tests_properties(interop_zp3.scale_offset PROPERTIES TIMEOUT 120 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()

# cast_value (zarr-extensions) both ways with zarr-python 3.4.2 + cast-value-rs 0.5.1: every rounding
# mode, out_of_range absent/clamp/wrap, scalar_map; reads bit for bit, stored chunks identical.
if(TARGET zarrc)
  zarrc_peer_test(interop_zp3.cast_value ${CMAKE_CURRENT_LIST_DIR}/cast_value.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_zp3/cast_value)
  set_tests_properties(interop_zp3.cast_value PROPERTIES TIMEOUT 120 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()

# Extendable arrays through the CLI (resize, put --offset --extend, append; 8 processes; kill -9),
# read back by zarr-python 3.4. ZARRC_STRESS=1 (make stress) runs many more blocks and kills.
if(TARGET zarrc)
  zarrc_peer_test(interop_zp3.extend ${CMAKE_CURRENT_LIST_DIR}/run_extend.py
                  $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/interop_zp3/extend)
  set_tests_properties(interop_zp3.extend PROPERTIES TIMEOUT 600 LABELS "interop;peers;peers_heavy"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()

# numcodecs.zfpy / v2 zfpy both ways with zarr-python 3.4 and numcodecs' Zfpy (zfpy 1.0.1):
# zarrc's chunks byte for byte numcodecs', reads bit for bit both ways (~30 s; full: check-full).
if(TARGET zarrc)
  zarrc_peer_test(interop_zp3.zfpy ${CMAKE_CURRENT_LIST_DIR}/run_zfpy.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_zp3/zfpy)
  set_tests_properties(interop_zp3.zfpy PROPERTIES TIMEOUT 300 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
