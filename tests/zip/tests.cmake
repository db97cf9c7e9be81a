# zip store: zarrc and zarr-python 3.4's ZipStore exchange archives both ways (peer venv).
if(TARGET zarrc)
  zarrc_peer_test(zip.zp3 ${CMAKE_CURRENT_LIST_DIR}/run_zip.py $<TARGET_FILE:zarrc>
                  ${CMAKE_BINARY_DIR}/testtmp/zip)
  set_tests_properties(zip.zp3 PROPERTIES TIMEOUT 300 LABELS "zip;peers" ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
