# Read-only HTTP store against Python's http.server (no Range) and nginx (Debian), both started
# and stopped by run_http.py on 127.0.0.1. Needs only Debian's python3 and nginx.
if(TARGET zarrc)
  add_test(NAME http.servers COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/run_http.py
           $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/http)
  set_tests_properties(http.servers PROPERTIES TIMEOUT 120 LABELS "http" ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
# Peers over HTTP (nginx): tensorstore's http kvstore and zarrita's FetchStore (node) read zarrc's
# arrays element by element (run by the peer venv's python, which has tensorstore).
if(TARGET zarrc)
  zarrc_peer_test(http.peers ${CMAKE_CURRENT_LIST_DIR}/run_http_peers.py
                  $<TARGET_FILE:zarrc> ${CMAKE_BINARY_DIR}/testtmp/http_peers)
  set_tests_properties(http.peers PROPERTIES TIMEOUT 180 LABELS "http;peers"
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
