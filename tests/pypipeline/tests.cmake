# zarrc's zarr-python 3.4 codec pipeline (python/zarrc/pipeline.py, docs/python.md): own tests +
# zarr-python's test_codec_pipeline_suite.py (95 cases on memory + LocalStore), then zarr-python's own
# test_v2.py, test_indexing.py and test_dtype/ (~2300 cases) with the pipeline selected, ~60 s. Not in
# sanitizer builds: an ASan libzarrc cannot be dlopen'ed into an uninstrumented Python.
if(TARGET zarrc_shared AND NOT ZARRC_SANITIZE)
  add_test(NAME python.pipeline COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run_pipeline_tests.sh
           ${ZARRC_PEER_PYTHON_EXE} $<TARGET_FILE:zarrc_shared> $<TARGET_FILE:zarrc_static> ${CMAKE_SOURCE_DIR}
           ${CMAKE_BINARY_DIR}/testtmp/python_pipeline)
  set_tests_properties(python.pipeline PROPERTIES TIMEOUT 600 LABELS "python;peers"
    ENVIRONMENT "ZARRC_NUM_THREADS=2" RESOURCE_LOCK python_build)
endif()
