# Interop with zarr-python 2.13 (Debian's python3-zarr), the live v2 peer: each side reads what
# the other wrote. The peer is a required part of the suite: without it the tests FAIL and say
# to run `make check`, which installs it.
set(ZARRC_V2_PYTHON /usr/bin/python3 CACHE FILEPATH
    "Python with Debian's zarr 2.x, numcodecs and numpy (the v2 interop peer)")
set(_iv2_dir ${CMAKE_CURRENT_LIST_DIR})
set(_iv2_work ${CMAKE_BINARY_DIR}/testtmp/interop_v2)

if(TARGET zarrc)
  foreach(_mode read write)
    if(_mode STREQUAL "read")
      set(_name interop_v2.read_zarrpy)
    else()
      set(_name interop_v2.zarrpy_reads_zarrc)
    endif()
    if(EXISTS ${ZARRC_V2_PYTHON})
      add_test(NAME ${_name}
        COMMAND ${ZARRC_V2_PYTHON} ${_iv2_dir}/run.py ${_mode} $<TARGET_FILE:zarrc> ${_iv2_work}/${_mode})
    else()
      add_test(NAME ${_name} COMMAND sh -c
        "echo 'FAIL: ${ZARRC_V2_PYTHON} not found; run make check to install the v2 peer (python3-zarr)'; exit 1")
    endif()
    set_tests_properties(${_name} PROPERTIES TIMEOUT 180 LABELS "interop;interop_v2"
      ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
  endforeach()
else()
  add_test(NAME interop_v2.zarrc_missing COMMAND sh -c
    "echo 'FAIL: the zarrc CLI target is not defined (cli/ has no sources)'; exit 1")
endif()
