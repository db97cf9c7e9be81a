# Fuzz regression: every saved input of each target is replayed (no libFuzzer needed), so the
# sanitizer build checks them too. Run the fuzzers themselves with tests/fuzz/run.sh.
foreach(target metadata chunk)
  add_executable(fuzz_replay_${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${target}.c
                 ${CMAKE_CURRENT_LIST_DIR}/replay.c)
  target_link_libraries(fuzz_replay_${target} PRIVATE zarrc_static)
  add_test(NAME fuzz.${target} COMMAND fuzz_replay_${target} ${CMAKE_CURRENT_LIST_DIR}/corpus/${target})
endforeach()
