# Fuzz regression: every saved input of each target is replayed (no libFuzzer needed), so the
# sanitizer build checks them too. Run the fuzzers themselves with tests/fuzz/run.sh.
# struct drives the record data type parsers and fill values (src/dtype/dtype_struct.c); user
# the variable-length user data types (src/dtype/dtype_user.c, the pipeline's validate step).
# select and args drive the CLI's parsers (cli/cli_select.c, cli/cli_args.c) and the grid
# planner (src/grid), so they compile those CLI files and see the internal headers.
foreach(target metadata chunk select args struct object user blosc)
  add_executable(fuzz_replay_${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${target}.c
                 ${CMAKE_CURRENT_LIST_DIR}/replay.c)
  if(target STREQUAL "select" OR target STREQUAL "args")
    target_sources(fuzz_replay_${target} PRIVATE ${CMAKE_SOURCE_DIR}/cli/cli_select.c
                   ${CMAKE_SOURCE_DIR}/cli/cli_args.c)
    target_include_directories(fuzz_replay_${target} PRIVATE ${CMAKE_SOURCE_DIR}/cli ${CMAKE_SOURCE_DIR}/src)
  endif()
  if(target STREQUAL "struct" OR target STREQUAL "blosc") # internal headers: dtype_struct.c, blosc1.c
    target_include_directories(fuzz_replay_${target} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  endif()
  target_link_libraries(fuzz_replay_${target} PRIVATE zarrc_static)
  add_test(NAME fuzz.${target} COMMAND fuzz_replay_${target} ${CMAKE_CURRENT_LIST_DIR}/corpus/${target})
endforeach()

# The serve parsers (serve/serve_parse.c): URL paths, integer lists, slices, Range, key lines.
add_executable(fuzz_replay_serve ${CMAKE_CURRENT_LIST_DIR}/fuzz_serve.c ${CMAKE_CURRENT_LIST_DIR}/replay.c)
target_include_directories(fuzz_replay_serve PRIVATE ${CMAKE_SOURCE_DIR}/serve)
target_link_libraries(fuzz_replay_serve PRIVATE zarrc_serve zarrc_static)
add_test(NAME fuzz.serve COMMAND fuzz_replay_serve ${CMAKE_CURRENT_LIST_DIR}/corpus/serve)
