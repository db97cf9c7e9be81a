# examples/mpi_write.c run by `mpirun -np 4` (oversubscribed on small machines), then checked
# by zarr-python 3.4 reading the consolidated hierarchy. Open MPI comes from Debian
# (scripts/install-deps.sh test); without an MPI implementation the test FAILS, never skips.
find_package(MPI COMPONENTS C QUIET)
if(MPI_C_FOUND)
  add_executable(example_mpi_write ${CMAKE_SOURCE_DIR}/examples/mpi_write.c)
  target_link_libraries(example_mpi_write PRIVATE zarrc_static MPI::MPI_C)
  find_program(ZARRC_MPIEXEC NAMES mpirun mpiexec HINTS ${MPI_C_COMPILER_DIR})
  zarrc_peer_test(example.mpi_write ${CMAKE_CURRENT_LIST_DIR}/run_mpi.py
                  --mpirun ${ZARRC_MPIEXEC} --ranks 4 $<TARGET_FILE:example_mpi_write>
                  ${CMAKE_BINARY_DIR}/testtmp/example_mpi_write)
  # Open MPI's own allocations are not freed at exit: leak reports would be about it, not zarrc.
  set_tests_properties(example.mpi_write PROPERTIES TIMEOUT 300 LABELS "peers;mpi"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
else()
  add_test(NAME example.mpi_write COMMAND sh -c
    "echo 'FAIL: no MPI implementation found (make check installs openmpi-bin and libopenmpi-dev)'; exit 1")
endif()
