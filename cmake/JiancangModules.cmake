# The module dependency graph lives in docs/ARCHITECTURE.md, between the lines
# "```allowed-dependencies" and "```". The build reads it here and refuses a module that
# links a module it may not depend on; tests/layering checks the same rule for #includes.

file(STRINGS "${CMAKE_CURRENT_SOURCE_DIR}/docs/ARCHITECTURE.md" _jiancang_arch_lines)
set(_jiancang_in_graph FALSE)
set(JIANCANG_MODULES "")
foreach(_line IN LISTS _jiancang_arch_lines)
  if(_line STREQUAL "```allowed-dependencies")
    set(_jiancang_in_graph TRUE)
  elseif(_jiancang_in_graph AND _line STREQUAL "```")
    set(_jiancang_in_graph FALSE)
  elseif(_jiancang_in_graph AND _line MATCHES "^([a-z]+):(.*)$")
    set(_module "${CMAKE_MATCH_1}")
    string(STRIP "${CMAKE_MATCH_2}" _deps)
    string(REPLACE " " ";" _deps "${_deps}")
    list(APPEND JIANCANG_MODULES "${_module}")
    set(JIANCANG_ALLOWED_DEPS_${_module} "${_deps}")
  endif()
endforeach()
if(NOT JIANCANG_MODULES)
  message(FATAL_ERROR "docs/ARCHITECTURE.md has no allowed-dependencies block")
endif()

# jiancang_module(NAME SOURCES src... DEPENDS module... LIBS target...)
# Declares the CMake target jiancang_NAME for src/NAME. With no SOURCES it is an INTERFACE
# target (a layer whose code has not been written yet still has its place in the graph).
function(jiancang_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;LIBS" ${ARGN})
  if(NOT name IN_LIST JIANCANG_MODULES)
    message(FATAL_ERROR "module '${name}' is not in docs/ARCHITECTURE.md's allowed-dependencies")
  endif()
  set(_link "")
  foreach(_dep IN LISTS ARG_DEPENDS)
    if(NOT _dep IN_LIST JIANCANG_ALLOWED_DEPS_${name})
      message(FATAL_ERROR "module '${name}' may not depend on '${_dep}' (docs/ARCHITECTURE.md)")
    endif()
    list(APPEND _link jiancang_${_dep})
  endforeach()
  set(_target jiancang_${name})
  if(ARG_SOURCES)
    add_library(${_target} STATIC ${ARG_SOURCES})
    target_include_directories(${_target} PUBLIC "${PROJECT_SOURCE_DIR}/src")
    target_link_libraries(${_target} PUBLIC ${_link} ${ARG_LIBS} PRIVATE jiancang_build_flags)
  else()
    add_library(${_target} INTERFACE)
    target_include_directories(${_target} INTERFACE "${PROJECT_SOURCE_DIR}/src")
    target_link_libraries(${_target} INTERFACE ${_link} ${ARG_LIBS})
  endif()
endfunction()

# jiancang_test(NAME SOURCES src... LIBS target... [LABELS label...] [ONE_PROCESS])
# A GoogleTest executable whose tests ctest discovers. Every test gets the label "unit"
# unless LABELS says otherwise; slow suites get a label of their own so they can be skipped.
function(jiancang_test name)
  if(NOT JIANCANG_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "ONE_PROCESS" "" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main
                                        jiancang_build_flags)
  # Every test keeps what its processes logged for the suite-wide secrets check (tests/check-logs).
  set(kept_logs ENVIRONMENT "JIANCANG_TEST_LOGS=${PROJECT_BINARY_DIR}/test-logs"
                FIXTURES_REQUIRED kept_logs)
  if(ARG_ONE_PROCESS)
    # The whole executable as one ctest test: for suites that share an expensive fixture (a
    # real PostgreSQL server) that one process per test case would start again and again.
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" ${kept_logs})
  else()
    gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" ${kept_logs}
                         DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
