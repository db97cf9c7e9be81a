# CLI tests for struct (record) arrays and unknown data types (system python3, no peers).
if(TARGET zarrc AND ZARRC_CLI_PYTHON)
  add_test(NAME cli.struct COMMAND ${ZARRC_CLI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_cli_struct.py
                                   $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp)
  set_tests_properties(cli.struct PROPERTIES TIMEOUT 60)
endif()
