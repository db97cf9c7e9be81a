# v3 interop with zarrita 0.7.5 under Node 20 (installed by `make check`:
# npm install --prefix tests/peers). Missing node or zarrita makes the test fail with that advice.
if(TARGET zarrc)
  if(NOT ZARRC_TEST_PYTHON)
    set(ZARRC_TEST_PYTHON /usr/bin/python3)  # the Debian python with numpy, not the first on PATH
  endif()
  add_test(NAME interop.v3_zarrita
    COMMAND ${ZARRC_TEST_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_interop_v3.py
            $<TARGET_FILE:zarrc> ${ZARRC_SHARED_DIR} ${CMAKE_BINARY_DIR}/testtmp/interop_v3)
  set_tests_properties(interop.v3_zarrita PROPERTIES TIMEOUT 300
    ENVIRONMENT "ZARRC_PEERS_DIR=${CMAKE_SOURCE_DIR}/tests/peers;ZARRC_NUM_THREADS=2")
endif()
