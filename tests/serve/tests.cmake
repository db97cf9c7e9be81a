# zarrc serve (serve/, docs/serve.md): each script starts `zarrc serve` on 127.0.0.1 with a free
# port and stops it itself (on failure too). The peers come from the pinned venv (tiled 0.2.1,
# zarr-python 3.4, tensorstore); zarrita from tests/peers/node_modules.
if(TARGET zarrc)
  set(_serve_dir ${CMAKE_CURRENT_LIST_DIR})
  zarrc_peer_test(serve.tiled ${_serve_dir}/test_tiled.py $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/serve_tiled)
  set_tests_properties(serve.tiled PROPERTIES TIMEOUT 300 LABELS "peers;serve" ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
if(TARGET zarrc)
  zarrc_peer_test(serve.zarr_http ${_serve_dir}/test_zarr_http.py $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/serve_zarr_http)
  set_tests_properties(serve.zarr_http PROPERTIES TIMEOUT 300 LABELS "peers;serve" ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
# 16 writer processes x 100 PATCH/PUT requests + 2 readers per array (plain and sharded): ~25 s.
if(TARGET zarrc)
  zarrc_peer_test(serve.concurrency ${_serve_dir}/test_concurrency.py $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/serve_concurrency)
  set_tests_properties(serve.concurrency PROPERTIES TIMEOUT 180 LABELS "peers;peers_heavy;serve" ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
# Malformed requests → the right 4xx with a JSON detail (Debian python3 only: runs under ASan too).
if(TARGET zarrc)
  add_test(NAME serve.bad_requests COMMAND /usr/bin/python3 ${_serve_dir}/test_bad_requests.py
           $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/serve_bad_requests)
  set_tests_properties(serve.bad_requests PROPERTIES TIMEOUT 180 LABELS "serve" ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
