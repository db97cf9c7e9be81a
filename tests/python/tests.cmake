# The Python package (python/): built from this build's static libzarrc into a temporary
# --target directory and tested with the peer venv's pytest (zarr-python 3.4, dask). Not in
# sanitizer builds: an ASan/TSan archive cannot be loaded into an uninstrumented interpreter.
# The 1 GiB Dask variant: `make check-full` (ZARRC_PY_DASK_MIB=1024).
if(NOT ZARRC_SANITIZE AND NOT ZARRC_TSAN)
  zarrc_peer_test(python.package ${CMAKE_CURRENT_LIST_DIR}/run.py
    ${CMAKE_SOURCE_DIR} $<TARGET_FILE:zarrc_static> ${CMAKE_BINARY_DIR}/testtmp/python)
  set_tests_properties(python.package PROPERTIES TIMEOUT 400 LABELS python RESOURCE_LOCK python_build)
endif()
