# The 8/6/4-bit floats against ml_dtypes (pinned in tests/peers/requirements.txt): the
# generator writes every code's value and a rounding/overflow probe set, the unit test binary
# checks zarrc's conversions against each line.
if(TARGET test_small_types)
  zarrc_peer_test(peers.small_floats_ml_dtypes ${CMAKE_CURRENT_LIST_DIR}/gen_vectors.py
                  ${CMAKE_BINARY_DIR}/testtmp/small_float_vectors.txt $<TARGET_FILE:test_small_types>)
  set_tests_properties(peers.small_floats_ml_dtypes PROPERTIES LABELS "peers" TIMEOUT 120)
endif()
