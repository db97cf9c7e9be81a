# References and links (hdmf-zarr / NWB) and pydantic-zarr GroupSpec against the real peers of
# the pinned venv: pynwb + hdmf-zarr write an NWB file, zarrc resolves every reference, copies
# it (hdmf-zarr resolves the copy), writes references hdmf-zarr resolves; GroupSpec both ways
# (about 30 s: pynwb writes three files).
if(TARGET zarrc)
  zarrc_peer_test(refs.nwb ${CMAKE_CURRENT_LIST_DIR}/test_nwb_refs.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/refs/nwb)
  set_tests_properties(refs.nwb PROPERTIES TIMEOUT 300 LABELS "interop;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ZARRC_NUM_THREADS=2")
endif()

# The reference JSON parser and resolver on arbitrary input (corpus replay; libFuzzer with
# tests/fuzz/run.sh reference).
add_executable(fuzz_replay_reference ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_reference.c
               ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c)
target_link_libraries(fuzz_replay_reference PRIVATE zarrc_static)
add_test(NAME fuzz.reference COMMAND fuzz_replay_reference ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/reference)
