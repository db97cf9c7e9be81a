# Conformance against third-party fixtures in ../shared/fixtures, through the zarrc CLI.
# Each suite prints "N passed, M failed, K skipped"; without ../shared it prints
# "SKIP: ../shared not found" and passes.
if(TARGET zarrc)
  if(NOT ZARRC_TEST_PYTHON)
    set(ZARRC_TEST_PYTHON /usr/bin/python3)  # the Debian python with numpy, not the first on PATH
  endif()
  foreach(suite zarrita_js zarrs zarr_python_v2 netcdf_c zarr_java zarr_implementations
                derived_metadata zarr_python_metadata)
    add_test(NAME conformance.${suite}
      COMMAND ${ZARRC_TEST_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_conformance.py ${suite}
              $<TARGET_FILE:zarrc> ${ZARRC_SHARED_DIR} ${CMAKE_BINARY_DIR}/testtmp/conformance)
    set_tests_properties(conformance.${suite} PROPERTIES TIMEOUT 300
      ENVIRONMENT "ZARRC_NUM_THREADS=2")
  endforeach()
endif()
