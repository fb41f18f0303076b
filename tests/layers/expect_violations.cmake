# Runs check_layers.cmake on the fixture tree and expects it to fail with exactly the violations planted there.
#   cmake -DCHECK=<check_layers.cmake> -DTABLE=<architecture.md> -DFIXTURES=<fixtures dir> -P expect_violations.cmake
cmake_minimum_required(VERSION 3.25)

execute_process(COMMAND "${CMAKE_COMMAND}" -DROOT=${FIXTURES} -DTABLE=${TABLE} -P "${CHECK}"
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(status EQUAL 0)
  message("${output}")
  message(FATAL_ERROR "the check passed a tree with planted violations")
endif()

set(expected
  "firmware/core/reaches_up.h:4: includes \"hostif/host/mei_host.h\" \\(hostif/host\\): firmware/core may include only common "
  "wsman/soap/includes_above.cpp:3: includes \"app/daemon.h\" \\(app\\): wsman/soap may include only common "
  "wsman/soap/includes_above.cpp:4: includes \"../../firmware/platform/follows_layers.cpp\" \\(firmware/platform\\)"
  "firmware/unlisted: no row in the Layers table"
  "[ \n]4 layer violation")
foreach(pattern IN LISTS expected)
  if(NOT output MATCHES "${pattern}")
    message("${output}")
    message(FATAL_ERROR "missing from the check's output above: ${pattern}")
  endif()
endforeach()
foreach(allowed_include IN ITEMS "follows_layers.cpp:" "reaches_up.h:3:" "pugixml")
  string(FIND "${output}" "${allowed_include}" found)
  if(NOT found EQUAL -1)
    message("${output}")
    message(FATAL_ERROR "the check's output above reports an allowed include (${allowed_include})")
  endif()
endforeach()
message(STATUS "the check names each planted violation and nothing else")
