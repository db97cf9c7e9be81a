# Hierarchies: batch creation and consolidated metadata through the zarrc CLI, against
# zarr-python 2.13 (v2) and zarrita 0.7.5 (v3), plus CLI refusal/overwrite/staleness checks.
# Missing peers make the tests FAIL with advice to run `make check` (which installs them).
if(TARGET zarrc)
  if(NOT ZARRC_TEST_PYTHON)
    set(ZARRC_TEST_PYTHON /usr/bin/python3)  # the Debian python with zarr 2.x and numpy
  endif()
  foreach(_which cli zarrpy zarrita)
    add_test(NAME hierarchy.${_which}
      COMMAND ${ZARRC_TEST_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_hierarchy_interop.py
              $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/hierarchy ${_which})
    set_tests_properties(hierarchy.${_which} PROPERTIES TIMEOUT 120 LABELS "hierarchy;interop"
      ENVIRONMENT "ZARRC_PEERS_DIR=${CMAKE_SOURCE_DIR}/tests/peers;PYTHONDONTWRITEBYTECODE=1")
  endforeach()
endif()
