# S3 store against real servers on 127.0.0.1, started and stopped by tests/s3/run_s3.py:
# moto's server mode (conditional writes; from the peer venv) and OpenStack Swift with s3api
# (Debian packages; configs in tests/s3/swift/). zarr-python 3.4 reads and writes the same
# arrays through obstore. s3_check reports what the public API answers (error codes, the
# multi-writer guarantee). peers_heavy: Swift takes ~40 s to start; the sanitizer runs skip both.
add_executable(s3_check ${CMAKE_CURRENT_LIST_DIR}/s3_check.c)
target_link_libraries(s3_check PRIVATE zarrc_static)
if(TARGET zarrc)
  foreach(_server moto swift)
    zarrc_peer_test(s3.${_server} ${CMAKE_CURRENT_LIST_DIR}/run_s3.py ${_server}
                    $<TARGET_FILE:zarrc> $<TARGET_FILE:s3_check> ${CMAKE_BINARY_DIR}/testtmp/s3/${_server})
    set_tests_properties(s3.${_server} PROPERTIES TIMEOUT 400 LABELS "s3;peers;peers_heavy"
      ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
  endforeach()
endif()
