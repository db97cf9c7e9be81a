# CLI tests: tests/cli/test_cli.py drives the zarrc binary (exit codes, messages, data round
# trips) with python3 + numpy. One ctest entry per group so they can run in parallel.
find_program(ZARRC_CLI_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(ZARRC_CLI_PYTHON NAMES python3)
if(TARGET zarrc)
  foreach(group help roundtrip select info errors corrupt cp paths limits nesting misuse views verify stats
                stream usability readme smalltypes extend)
    if(ZARRC_CLI_PYTHON)
      add_test(NAME cli.${group}
               COMMAND ${ZARRC_CLI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_cli.py
                       $<TARGET_FILE:zarrc> ${group})
    else()
      add_test(NAME cli.${group}
               COMMAND ${CMAKE_COMMAND} -E echo "SKIP: cli.${group}: python3 not found")
    endif()
    set_tests_properties(cli.${group} PROPERTIES TIMEOUT 120
      ENVIRONMENT "ZARRC_TEST_TMP=${CMAKE_BINARY_DIR}/testtmp")
  endforeach()
endif()

# verify's peer_incompatible findings, proven against the peers that refuse them (tensorstore,
# zarr-python 3 from the pinned venv).
if(TARGET zarrc)
  zarrc_peer_test(cli.verify_peers ${CMAKE_CURRENT_LIST_DIR}/verify_peers.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/cli_verify_peers)
  set_tests_properties(cli.verify_peers PROPERTIES TIMEOUT 120 LABELS "peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()

# The CLI's layering (cli/cli.h): zarrc.c -> verb files -> helpers, no call back up, no verb
# file calling another, every verb object in zarrc.c's table. Reads the sources.
if(ZARRC_CLI_PYTHON)
  add_test(NAME cli.layering
           COMMAND ${ZARRC_CLI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_layering.py ${CMAKE_SOURCE_DIR}/cli)
  set_tests_properties(cli.layering PROPERTIES TIMEOUT 60)
endif()
