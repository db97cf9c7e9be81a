# `zarrc append --stream`: frames piped from a generator process, compared with a model and read
# by zarr-python 3.4; a partial trailing block; kill -9 of the writer mid-stream (a few seconds).
if(TARGET zarrc)
  zarrc_peer_test(interop_stream ${CMAKE_CURRENT_LIST_DIR}/run_stream.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/interop_stream)
  set_tests_properties(interop_stream PROPERTIES TIMEOUT 600 LABELS "interop;peers;peers_heavy"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()
